//! The README's "Try it with curl" walk-through, run as written: the block is read from
//! README.md itself, so the test and the page cannot drift apart. Only `cargo run --quiet
//! --release --` is replaced by the debug binary this test was built with. It runs on the
//! default store (./tollgate.db in a temporary directory) and on the README's port, 8080, so
//! it is in a test group of its own (`.config/nextest.toml`).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const README: &str = include_str!("../../README.md");
const CARGO_RUN: &str = "cargo run --quiet --release --";

/// The first `sh` block after the heading.
fn walk_through() -> &'static str {
    let section = README
        .split_once("## Try it with curl")
        .expect("README.md has a \"Try it with curl\" section")
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the section has a sh block")
        .1;
    block.split_once("```").expect("the sh block ends").0
}

fn tool_present(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn the_readmes_curl_walk_through_works_as_written() {
    for tool in ["curl", "jq"] {
        assert!(
            tool_present(tool),
            "the README's walk-through needs {tool}: apt-get install -y {tool} (scripts/test installs it)"
        );
    }
    let script = walk_through();
    assert!(
        script.contains(CARGO_RUN),
        "the walk-through no longer runs `{CARGO_RUN}`; update this test with it"
    );
    let binary = format!("'{}'", env!("CARGO_BIN_EXE_tollgate"));
    let script = format!("set -euo pipefail\n{}", script.replace(CARGO_RUN, &binary));

    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a walk-through that fails half-way takes its
        // background server with it.
        .process_group(0);
    for (name, _) in std::env::vars() {
        if name == "DATABASE_URL" || name.starts_with("TOLLGATE_") {
            command.env_remove(name);
        }
    }
    let child = command.spawn().unwrap();
    let group = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = finished.recv_timeout(Duration::from_secs(120));
    // Whatever happened, nothing of the walk-through outlives the test.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
    let output = output
        .expect("the walk-through finished within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walk-through failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );

    let lines: Vec<&str> = stdout.lines().collect();
    let whoami: serde_json::Value = serde_json::from_str(lines[0]).unwrap_or_else(|error| {
        panic!("whoami's answer, on a line of its own, is JSON ({error}):\n{stdout}")
    });
    assert_eq!(whoami["name"], "ci pipeline");
    assert_eq!(whoami["level"], "client");
    let listing: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(listing["items"][0]["name"], "ci pipeline");
    assert_eq!(lines[2], "204");
    assert!(lines[3].starts_with("HTTP/1.1 401"), "{stdout}");
    assert!(stdout.contains("\"code\":\"invalid_token\""), "{stdout}");
    assert!(
        stdout.ends_with("}\n"),
        "the last answer ends its line:\n{stdout}"
    );
    assert!(dir.path().join("tollgate.db").exists(), "the default store");
}
