//! What the lasting stores keep: across a graceful restart and across `kill -9`. SQLite's own
//! promises: the default file, one server per file, changes by other processes, backups, and
//! clear errors for a bad file. The in-memory store says loudly that it keeps nothing.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use tollgate_app::ports::TokenRepository;
use tollgate_app::testing::fixtures::event;
use tollgate_domain::{AuditAction, TokenId};
use tollgate_sqlite::testing::TestFile;

use crate::support::{
    eventually, on_lasting_stores, spawn_app, spawn_app_with, App, Store, PATIENCE,
};

on_lasting_stores!(
    a_restart_keeps_tokens_revocations_and_the_bootstrap_token,
    a_token_answered_201_verifies_after_kill_9_and_a_revocation_stays,
);

/// Creates a space, a kept token and a revoked one; returns (space, kept, revoked).
async fn kept_and_revoked(app: &App) -> (String, String, String) {
    let space = app.create_space("acme").await;
    let (_, kept) = app.create_token(&app.admin, &space, "client").await;
    let (revoked_id, revoked) = app.create_token(&app.admin, &space, "client").await;
    let reply = app
        .delete(
            &format!("/v1/spaces/{space}/tokens/{revoked_id}"),
            &app.admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    (space, kept, revoked)
}

async fn assert_kept(app: &App, space: &str, kept: &str, revoked: &str) {
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/v1/whoami", kept).await.status, StatusCode::OK);
    app.get("/v1/whoami", revoked)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert_eq!(
        app.get("/v1/spaces", &app.admin).await.ids(),
        vec![space.to_owned()]
    );
}

async fn a_restart_keeps_tokens_revocations_and_the_bootstrap_token(store: Store) {
    let mut app = spawn_app(store).await;
    let (space, kept, revoked) = kept_and_revoked(&app).await;
    app.restart().await;
    assert!(app.logs().contains("already registered"), "{}", app.logs());
    assert_kept(&app, &space, &kept, &revoked).await;
}

async fn a_token_answered_201_verifies_after_kill_9_and_a_revocation_stays(store: Store) {
    let mut app = spawn_app(store).await;
    let (space, kept, revoked) = kept_and_revoked(&app).await;
    // The last write before the crash, answered just now.
    let (_, last) = app.create_token(&app.admin, &space, "admin").await;
    app.kill().await;
    app.start_again().await;
    assert_kept(&app, &space, &kept, &revoked).await;
    assert_eq!(app.get("/v1/whoami", &last).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_store_says_that_nothing_is_kept() {
    let app = spawn_app(Store::Memory).await;
    assert!(app.logs().contains("Nothing is kept"), "{}", app.logs());
}

/// Runs `tollgate ARGS` with `env` and returns (success, standard error).
fn tollgate(args: &[&str], env: &[(&str, &str)], dir: Option<&std::path::Path>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command.args(args).env_remove("DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command.output().expect("failed to run tollgate");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_database_url_the_server_keeps_its_tokens_in_tollgate_db_where_it_runs() {
    let dir = TestFile::empty_dir();
    let mut app = App::start_in(dir.dir()).await;
    let expected = dir.dir().join("tollgate.db");
    assert!(
        app.logs().contains(&expected.display().to_string()),
        "the absolute path is logged: {}",
        app.logs()
    );
    assert!(expected.exists());
    let space = app.create_space("acme").await;
    let (_, token) = app.create_token(&app.admin, &space, "client").await;
    app.kill().await;
    app.start_again().await;
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_file_is_refused_and_the_lock_dies_with_the_first() {
    let mut app = spawn_app(Store::Sqlite).await;
    let url = app.sqlite().unwrap().url();
    let (started, stderr) = tollgate(
        &["serve"],
        &[("DATABASE_URL", &url), ("TOLLGATE_LISTEN", "127.0.0.1:0")],
        None,
    );
    assert!(!started, "a second server started: {stderr}");
    assert!(stderr.contains("another tollgate server"), "{stderr}");
    assert!(stderr.contains("Postgres"), "{stderr}");
    // kill -9 leaves no stale lock behind: the kernel drops it with the process.
    app.kill().await;
    app.start_again().await;
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_written_by_another_process_reaches_the_running_server() {
    let app = spawn_app(Store::Sqlite).await;
    let space = app.create_space("acme").await;
    let (id, token) = app.create_token(&app.admin, &space, "client").await;
    // Verified once, so the server's cache holds it.
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);

    // This test process opens the file as a CLI command would, and revokes the token there.
    let other = app.sqlite().unwrap().open().await;
    let id: TokenId = id.parse().unwrap();
    let stored = other.get(id).await.unwrap().unwrap();
    let revocation = event(9, AuditAction::TokenRevoked, &stored);
    other
        .revoke(id, time::OffsetDateTime::now_utc(), &revocation)
        .await
        .unwrap()
        .expect("the token exists");

    eventually(
        "the server to refuse the token revoked by another process",
        PATIENCE,
        async || {
            (app.get("/v1/whoami", &token).await.status == StatusCode::UNAUTHORIZED).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_into_a_working_server() {
    let app = spawn_app(Store::Sqlite).await;
    let (space, kept, revoked) = kept_and_revoked(&app).await;
    let file = app.sqlite().unwrap();
    let backup = file.dir().join("backup.db");
    let (done, stderr) = tollgate(
        &["backup", backup.to_str().unwrap()],
        &[("DATABASE_URL", &file.url())],
        None,
    );
    assert!(done, "{stderr}");
    // The server kept serving meanwhile.
    assert_eq!(app.get("/v1/whoami", &kept).await.status, StatusCode::OK);
    let (again, stderr) = tollgate(
        &["backup", backup.to_str().unwrap()],
        &[("DATABASE_URL", &file.url())],
        None,
    );
    assert!(!again && stderr.contains("exists already"), "{stderr}");

    let restored_url = format!("sqlite://{}", backup.display());
    let restored = spawn_app_with(
        Store::Memory,
        &[
            ("DATABASE_URL", &restored_url),
            ("TOLLGATE_BOOTSTRAP_TOKEN", &app.admin),
        ],
    )
    .await;
    assert_kept(&restored, &space, &kept, &revoked).await;
    // And the restored copy is a store of its own: a change there is not in the original.
    let reply = restored
        .post(
            &format!("/v1/spaces/{space}/tokens"),
            &restored.admin,
            json!({"name": "new", "level": "client"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        app.get("/v1/whoami", &reply.str("token")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_store_configuration_stops_the_start_with_a_clear_message() {
    let dir = TestFile::empty_dir();
    let garbage = dir.dir().join("garbage.db");
    std::fs::write(&garbage, b"not a database\n".repeat(500)).unwrap();
    let missing = dir.dir().join("no").join("such").join("dir.db");
    for (url, says) in [
        ("mysql://root:hunter2@db/tollgate", "sqlite://PATH"),
        (
            &format!("sqlite://{}", garbage.display()),
            "not a SQLite database",
        ),
        (
            &format!("sqlite://{}", missing.display()),
            "directory does not exist",
        ),
        ("sqlite:///proc/tollgate.db", "not writable"),
    ] {
        let (started, stderr) = tollgate(
            &["serve"],
            &[("DATABASE_URL", url), ("TOLLGATE_LISTEN", "127.0.0.1:0")],
            None,
        );
        assert!(!started, "{url}: started");
        assert!(stderr.contains(says), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
    }
}
