//! The forms the pages send, as they arrive. Every state-changing form carries the CSRF token
//! (`csrf`); the forms whose work must happen once carry a one-time `nonce`.

use std::fmt;

use serde::Deserialize;

/// A form with a CSRF token field.
pub(crate) trait CsrfField {
    fn csrf(&self) -> &str;
}

macro_rules! csrf_forms {
    ($($form:ident),*) => {$(
        impl CsrfField for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )*};
}

csrf_forms!(
    SignInForm,
    SignOutForm,
    CreateSpaceForm,
    CreateTokenForm,
    RevokeForm,
    RotateForm,
    SuspensionForm,
    EditTokenForm
);

/// Sign-in: the pasted token. Its `Debug` never prints it.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub csrf: String,
}

impl fmt::Debug for SignInForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInForm").finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignOutForm {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateSpaceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub csrf: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateTokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub expiry: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nonce: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    pub csrf: String,
}

/// Editing a token: its name and description (empty: none).
#[derive(Debug, Deserialize)]
pub(crate) struct EditTokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub csrf: String,
}

/// Suspend or resume: the button's form, with nothing but the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct SuspensionForm {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RotateForm {
    #[serde(default)]
    pub grace_period_seconds: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nonce: String,
}

/// The tokens list's filters and page, from its query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenFilters {
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub status: String,
    /// A name search; empty for none.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub cursor: String,
}

/// A list's page, from its query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    pub cursor: String,
}

/// The sign-in page's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    pub ended: Option<String>,
}
