// The console works without JavaScript; this file only adds the copy button's behaviour and
// shows the date field when "On a date…" is chosen. Loaded from the console itself
// (Content-Security-Policy: script-src 'self'), never inline.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const copy = document.getElementById("copy");
  const secret = document.getElementById("secret");
  const status = document.getElementById("copy-status");
  if (copy && secret && status) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      secret.focus();
      secret.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(secret.value);
        copied = true;
      } catch (_) {
        // No clipboard permission (some browsers, plain http): the old way still works.
        copied = document.execCommand && document.execCommand("copy");
      }
      status.textContent = copied
        ? "Copied. Paste it where it will be kept; it will not be shown again."
        : "Could not copy: the token is selected, press Ctrl+C (or ⌘C) to copy it.";
      copy.focus();
    });
  }

  // A second click on a form's button would send it again; the nonce makes that create
  // nothing, but the page would then say "already created" and hide the secret.
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.disabled = true;
      }
    });
  }

  // Leaving the page forgets the secret, even if the browser keeps the page to go back to.
  if (secret) {
    window.addEventListener("pagehide", () => {
      secret.value = "";
    });
  }

  const expiry = document.getElementById("expiry");
  const dateField = document.getElementById("expires-on-field");
  if (expiry && dateField) {
    const sync = () => {
      dateField.hidden = expiry.value !== "date";
    };
    expiry.addEventListener("change", sync);
    sync();
  }
});
