//! The operator CLI (`tollgate space ...`, `tollgate token ...`) on the store a running server
//! serves from: every command run once, its effect seen through the server's API, bad input
//! answered with exit code 2, and the secret printed on standard output alone.

use std::io::Write;
use std::process::{Output, Stdio};

use reqwest::StatusCode;
use serde_json::Value;
use tollgate_domain::{ParsedToken, TokenKind};

use crate::support::{eventually, on_lasting_stores, spawn_app, App, Store, PATIENCE};

/// Runs the binary on the server's store.
fn run(app: &App, args: &[&str]) -> Output {
    app.command(args).output().expect("failed to run tollgate")
}

/// Runs a command that must succeed and prints JSON; returns that JSON.
#[track_caller]
fn json(app: &App, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--output", "json"]);
    let output = run(app, &args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {output:?}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn whoami(app: &App, token: &str) -> StatusCode {
    app.get("/v1/whoami", token).await.status
}

/// Waits until the server answers `token` with `status`: a change made by another process
/// reaches the server's cache through the store's change feed, in its own time.
async fn until_answered(app: &App, token: &str, status: StatusCode, what: &str) {
    eventually(what, PATIENCE, async || {
        (whoami(app, token).await == status).then_some(())
    })
    .await;
}

async fn every_command_works_on_the_store_of_a_running_server(store: Store) {
    let app = spawn_app(store).await;

    // Spaces.
    let space = json(&app, &["space", "create", "acme"]);
    let space_id = space["id"].as_str().unwrap().to_owned();
    assert_eq!(space["name"], "acme");
    let served = app.get(&format!("/v1/spaces/{space_id}"), &app.admin).await;
    assert_eq!(served.status, StatusCode::OK, "{served:?}");
    let listed = json(&app, &["space", "list"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == space_id.as_str()),
        "{listed}"
    );
    let table = run(&app, &["space", "list"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.starts_with("ID") && table.contains("acme"), "{table}");

    // Create: in table output the token is standard output's only line.
    let created = run(
        &app,
        &[
            "token",
            "create",
            "--space",
            &space_id,
            "--name",
            "ci",
            "--level",
            "client",
            "--expires-in-days",
            "30",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout.clone()).unwrap();
    let token = stdout.trim().to_owned();
    assert_eq!(stdout, format!("{token}\n"), "only the token on stdout");
    let parsed = ParsedToken::parse(&token).expect("a well-formed token");
    assert_eq!(parsed.kind(), TokenKind::Client);
    assert!(
        stderr(&created).contains("shown this once"),
        "{}",
        stderr(&created)
    );
    assert_eq!(whoami(&app, &token).await, StatusCode::OK);
    let token_id = parsed.id().to_string();
    let target = ["--space", space_id.as_str(), token_id.as_str()];

    // List and get, with the actor recorded as the CLI.
    let listed = json(
        &app,
        &[&["token", "list", "--space", &space_id][..]].concat(),
    );
    let items = listed.as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["id"], token_id.as_str());
    assert_eq!(items[0]["created_by"], "cli");
    let got = json(&app, &[&["token", "get"][..], &target].concat());
    assert_eq!(got["name"], "ci");
    assert_eq!(got["status"], "active");

    // Update: seen in the metadata the server reads from the store.
    let updated = json(
        &app,
        &[
            &["token", "update"][..],
            &target,
            &["--name", "deploy", "--description", "the EU cluster"],
        ]
        .concat(),
    );
    assert_eq!(updated["name"], "deploy");
    let served = app
        .get(
            &format!("/v1/spaces/{space_id}/tokens/{token_id}"),
            &app.admin,
        )
        .await;
    assert_eq!(served.body["name"], "deploy", "{served:?}");
    assert_eq!(served.body["description"], "the EU cluster", "{served:?}");

    // Suspend and resume reach the running server.
    let suspended = json(&app, &[&["token", "suspend"][..], &target].concat());
    assert_eq!(suspended["status"], "suspended");
    until_answered(
        &app,
        &token,
        StatusCode::UNAUTHORIZED,
        "the suspension to reach the server",
    )
    .await;
    let resumed = json(&app, &[&["token", "resume"][..], &target].concat());
    assert_eq!(resumed["status"], "active");
    until_answered(
        &app,
        &token,
        StatusCode::OK,
        "the resumption to reach the server",
    )
    .await;

    // Rotate: the new secret on stdout; the old token refused once the change arrives.
    let rotated = json(
        &app,
        &[&["token", "rotate"][..], &target, &["--grace-seconds", "0"]].concat(),
    );
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    assert_eq!(rotated["replaces"], token_id.as_str());
    assert_eq!(whoami(&app, &new_token).await, StatusCode::OK);
    until_answered(
        &app,
        &token,
        StatusCode::UNAUTHORIZED,
        "the rotation to reach the server",
    )
    .await;

    // Revoke.
    let revoked = json(&app, &["token", "revoke", "--space", &space_id, &new_id]);
    assert_eq!(revoked["status"], "revoked");
    until_answered(
        &app,
        &new_token,
        StatusCode::UNAUTHORIZED,
        "the revocation to reach the server",
    )
    .await;
    let events = app
        .get(&format!("/v1/spaces/{space_id}/events"), &app.admin)
        .await;
    let actions: Vec<(String, String)> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for action in [
        "token.created",
        "token.updated",
        "token.suspended",
        "token.resumed",
        "token.rotated",
        "token.revoked",
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, actor)| a == action && actor == "cli"),
            "{action} by cli in {actions:?}"
        );
    }

    // An instance admin token made at the store works on the server.
    let admin = run(
        &app,
        &[
            "token",
            "create",
            "--instance-admin",
            "--name",
            "break-glass",
        ],
    );
    assert!(admin.status.success(), "{admin:?}");
    let admin_token = String::from_utf8(admin.stdout).unwrap().trim().to_owned();
    let me = app.get("/v1/whoami", &admin_token).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    assert_eq!(me.body["space_id"], Value::Null);
    let admin_id = me.str("token_id");
    let got = json(&app, &["token", "get", "--instance-admin", &admin_id]);
    assert_eq!(got["name"], "break-glass");
    let instance = json(&app, &["token", "list", "--instance-admin"]);
    assert!(
        instance
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == admin_id.as_str()),
        "{instance}"
    );

    // Rename, then delete the space: its tokens stop working on the server.
    let renamed = json(&app, &["space", "rename", &space_id, "acme (eu)"]);
    assert_eq!(renamed["name"], "acme (eu)");
    let (_, doomed) = app.create_token(&app.admin, &space_id, "client").await;
    assert_eq!(whoami(&app, &doomed).await, StatusCode::OK);
    let deleted = json(&app, &["space", "delete", &space_id]);
    assert_eq!(deleted["deleted"], true, "{deleted}");
    // The new token and the one rotated away (not revoked itself); the rotation's replacement
    // was revoked above and keeps its first revocation.
    assert_eq!(deleted["tokens_revoked"], 2, "{deleted}");
    until_answered(
        &app,
        &doomed,
        StatusCode::UNAUTHORIZED,
        "the deletion to reach the server",
    )
    .await;
    let again = json(&app, &["space", "delete", &space_id]);
    assert_eq!(again["deleted"], false, "{again}");
}

async fn bad_input_exits_2_and_failures_exit_1_with_one_line_each(store: Store) {
    let app = spawn_app(store).await;
    let space = json(&app, &["space", "create", "acme"]);
    let space_id = space["id"].as_str().unwrap().to_owned();
    let unknown = "0190a5c2-7d3e-7b1a-9c4f-2e8d6a1b3c5d";
    for (args, says) in [
        (vec!["space", "create", "   "], "name"),
        (
            vec![
                "token", "create", "--space", "acme", "--name", "x", "--level", "client",
            ],
            "UUID",
        ),
        (
            vec![
                "token", "create", "--space", &space_id, "--name", "x", "--level", "owner",
            ],
            "client or admin",
        ),
        (
            vec!["token", "create", "--space", &space_id, "--name", "x"],
            "--level",
        ),
        (
            vec![
                "token",
                "create",
                "--space",
                &space_id,
                "--name",
                "x",
                "--level",
                "client",
                "--expires-at",
                "2001-01-01T00:00:00Z",
            ],
            "future",
        ),
        (
            vec!["token", "create", "--name", "x", "--level", "client"],
            "--space",
        ),
        (
            vec!["token", "update", "--space", &space_id, unknown],
            "nothing to change",
        ),
        (
            vec![
                "token",
                "rotate",
                "--space",
                &space_id,
                unknown,
                "--grace-seconds",
                "999999",
            ],
            "604800",
        ),
        (
            vec!["token", "list", "--space", &space_id, "--status", "gone"],
            "not a status",
        ),
    ] {
        let output = run(&app, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let said = stderr(&output);
        assert!(said.contains(says), "{args:?}: {said}");
        assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
    }
    // Not found is a failure, not bad input; nothing is printed on stdout.
    let missing = run(&app, &["token", "get", "--space", &space_id, unknown]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );
    assert!(missing.stdout.is_empty());
    assert_eq!(stderr(&missing).lines().count(), 1, "{}", stderr(&missing));
}

on_lasting_stores!(
    every_command_works_on_the_store_of_a_running_server,
    bad_input_exits_2_and_failures_exit_1_with_one_line_each,
);

#[test]
fn the_operator_commands_refuse_the_in_memory_store() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["space", "list"])
        .env("DATABASE_URL", "memory:")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr(&output).contains("keeps nothing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn token_check_says_kind_and_id_and_exits_1_for_anything_else_reading_stdin_when_asked() {
    let check = |arg: Option<&str>, stdin: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command.args(["token", "check"]).args(arg);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let minted = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["token", "mint", "--instance-admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    let id = ParsedToken::parse(&token).unwrap().id().to_string();
    for (arg, stdin) in [
        (Some(token.as_str()), ""),
        (Some("-"), token.as_str()),
        (None, &format!("{token}\n")),
    ] {
        let output = check(arg, stdin);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let said = String::from_utf8(output.stdout).unwrap();
        assert!(said.contains("tgi") && said.contains(&id), "{said}");
        assert!(
            !said.contains(&token),
            "the check never echoes the token: {said}"
        );
    }
    // One character changed breaks the checksum.
    let mut typo = token.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    for junk in [typo.as_str(), "hello", ""] {
        let output = check(None, junk);
        assert_eq!(output.status.code(), Some(1), "{junk:?}: {output:?}");
        assert!(output.stdout.is_empty());
    }
    let json = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["token", "check", &token, "--output", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "well_formed": true, "kind": "tgi", "token_id": id })
    );
}

#[test]
fn every_operator_command_has_an_example_in_its_help() {
    for command in [
        "space create",
        "space list",
        "token mint",
        "token check",
        "token create",
        "token list",
        "token get",
        "token update",
        "token suspend",
        "token resume",
        "token revoke",
        "token rotate",
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(command.split(' '))
            .arg("--help")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}: {output:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
    }
}
