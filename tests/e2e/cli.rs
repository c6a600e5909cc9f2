//! The command line: minting offline, the first start without a bootstrap token, and the
//! commands that need no store (openapi, healthcheck, completions, --version), with errors as
//! one readable line.

use std::process::Command;

use reqwest::StatusCode;
use tollgate_domain::{ParsedToken, TokenKind};

use crate::support::{on_lasting_stores, spawn_app, spawn_app_with, Store};

fn tollgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn token_mint_prints_a_fresh_well_formed_instance_admin_token() {
    let mint = || {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["token", "mint", "--instance-admin"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let (one, two) = (mint(), mint());
    let parsed = ParsedToken::parse(&one).expect("a well-formed token");
    assert_eq!(parsed.kind(), TokenKind::InstanceAdmin);
    assert_ne!(one, two);
}

#[test]
fn token_mint_without_a_kind_is_refused_saying_what_to_add() {
    let output = tollgate(&["token", "mint"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--instance-admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_prints_the_document_the_server_serves_with_no_server() {
    let output = tollgate(&["openapi"]);
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let app = spawn_app(Store::Memory).await;
    let served: serde_json::Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(printed, served);
    assert!(printed["paths"]["/v1/whoami"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_for_a_ready_server_and_1_for_none() {
    let app = spawn_app(Store::Memory).await;
    let ready = tollgate(&["healthcheck", &app.base]);
    assert_eq!(ready.status.code(), Some(0), "{ready:?}");

    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let refused = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("healthcheck")
        .env("TOLLGATE_LISTEN", address.to_string())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("/readyz") && said.contains("refused"),
        "{said}"
    );

    // A route that is not 200 is not ready either.
    let missing = tollgate(&["healthcheck", &format!("{}/no-such-route", app.base)]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
}

#[test]
fn completions_are_generated_for_a_shell_and_refused_for_an_unknown_one() {
    let bash = tollgate(&["completions", "bash"]);
    assert!(bash.status.success(), "{bash:?}");
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.contains("_tollgate()") && script.contains("healthcheck"));
    assert_eq!(tollgate(&["completions", "tcsh-97"]).status.code(), Some(2));
}

#[test]
fn the_version_names_the_git_commit_it_was_built_from() {
    let output = tollgate(&["--version"]);
    let version = String::from_utf8(output.stdout).unwrap();
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git, to know which commit this is");
    let commit = String::from_utf8(commit.stdout).unwrap();
    assert_eq!(
        version.trim(),
        format!("tollgate {} ({})", env!("CARGO_PKG_VERSION"), commit.trim())
    );
}

#[test]
fn a_configuration_error_is_one_line_without_a_backtrace() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("migrate")
        .env("DATABASE_URL", "bogus://nowhere")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8(output.stderr).unwrap();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("tollgate: ") && said.contains("DATABASE_URL"),
        "{said}"
    );
}

fn printed_token(logs: &str) -> Option<String> {
    logs.split_whitespace()
        .find(|word| word.starts_with("tgi_"))
        .map(str::to_owned)
}

// Every start of the in-memory store is a first start.
on_lasting_stores!(a_first_start_without_bootstrap_token_prints_one_instance_admin_token_once);

async fn a_first_start_without_bootstrap_token_prints_one_instance_admin_token_once(store: Store) {
    let mut app = spawn_app_with(store, &[("TOLLGATE_BOOTSTRAP_TOKEN", "")]).await;
    let token = printed_token(&app.logs()).expect("the first start prints an instance admin token");
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    // The bootstrap token of the harness was not registered.
    assert_eq!(
        app.get("/v1/whoami", &app.admin.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.logs().matches(&token).count(),
        1,
        "printed once, and only in the banner"
    );

    app.restart().await;
    assert_eq!(
        printed_token(&app.logs()),
        None,
        "a store with an instance admin gets no new one"
    );
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);

    // Not even after a crash: the token was stored before it was printed.
    app.kill().await;
    app.start_again().await;
    assert_eq!(printed_token(&app.logs()), None);
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
}

#[test]
fn a_busy_port_refuses_to_start_before_any_first_token_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("serve")
        .env("TOLLGATE_LISTEN", busy.local_addr().unwrap().to_string())
        .env("DATABASE_URL", &url)
        .env_remove("TOLLGATE_BOOTSTRAP_TOKEN")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("failed to listen on"), "{said}");
    assert_eq!(
        printed_token(&said),
        None,
        "no token for a server that never ran: {said}"
    );
    drop(busy);

    // The store got no instance admin token either: the next good start creates the first.
    let export = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("export")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    assert!(
        !String::from_utf8_lossy(&export.stdout).contains(r#""kind":"token""#),
        "no token was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_token_goes_to_a_new_private_file_when_asked_and_never_over_one() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("first-token");
    let path_str = path.to_str().unwrap();
    let app = spawn_app_with(
        Store::Sqlite,
        &[
            ("TOLLGATE_BOOTSTRAP_TOKEN", ""),
            ("TOLLGATE_FIRST_TOKEN_PATH", path_str),
        ],
    )
    .await;
    let written = std::fs::read_to_string(&path).unwrap();
    let token = written.trim();
    assert_eq!(
        ParsedToken::parse(token).unwrap().kind(),
        TokenKind::InstanceAdmin
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
    assert!(!app.logs().contains(token), "not on standard error too");
    assert_eq!(printed_token(&app.logs()), None);

    // A file that is there already is left as it is; the token is shown instead of lost.
    let taken = dir.path().join("taken");
    std::fs::write(&taken, "keep me\n").unwrap();
    let app = spawn_app_with(
        Store::Sqlite,
        &[
            ("TOLLGATE_BOOTSTRAP_TOKEN", ""),
            ("TOLLGATE_FIRST_TOKEN_PATH", taken.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me\n");
    let shown = printed_token(&app.logs()).expect("shown on standard error instead");
    assert_eq!(app.get("/v1/whoami", &shown).await.status, StatusCode::OK);
    assert!(app
        .logs()
        .contains("could not write the first instance admin token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_token_banner_says_standard_error_keeps_a_copy() {
    let app = spawn_app_with(Store::Sqlite, &[("TOLLGATE_BOOTSTRAP_TOKEN", "")]).await;
    let logs = app.logs();
    assert!(printed_token(&logs).is_some());
    assert!(
        logs.contains("standard error") && logs.contains("docker logs"),
        "{logs}"
    );
    assert!(logs.contains("TOLLGATE_FIRST_TOKEN_PATH"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let app = spawn_app(Store::Sqlite).await;
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
    let logs = app.logs();
    assert!(logs.contains("INFO"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "ANSI codes in logs that go to a pipe:\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let app = spawn_app_with(Store::Sqlite, &[("TOLLGATE_LOG_FORMAT", "json")]).await;
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
    let logs = app.logs();
    let mut objects = 0;
    for line in logs.lines() {
        // The one line for people and the harness, written whatever the log format.
        if line.starts_with("tollgate listening on ") || line.is_empty() {
            continue;
        }
        let object: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("not a JSON object ({error}): {line}"));
        assert!(
            object["level"].is_string() && object["fields"].is_object(),
            "{line}"
        );
        objects += 1;
    }
    assert!(objects >= 3, "{logs}");
    assert!(!logs.contains('\u{1b}'));
}

#[test]
fn an_unknown_log_format_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("serve")
        .env("TOLLGATE_LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("log-format") && said.contains("json"),
        "{said}"
    );
}

#[test]
fn an_unreachable_database_says_what_happened_not_only_that_the_pool_timed_out() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{port}/tollgate"),
        )
        .env("TOLLGATE_DB_ACQUIRE_TIMEOUT_SECONDS", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8(output.stderr).unwrap();
    assert!(said.contains("Connection refused"), "{said}");
    assert!(!said.contains("pool timed out"), "{said}");
    assert_eq!(
        said.matches("Connection refused").count(),
        1,
        "said once: {said}"
    );
}

#[test]
fn migrate_says_which_migrations_it_applied_and_then_that_none_were_left() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
    let migrate = || {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stderr).unwrap()
    };
    let first = migrate();
    assert!(
        first.contains("applied migrations") && first.contains("0001 init"),
        "{first}"
    );
    assert!(!first.contains("up to date"), "{first}");
    let second = migrate();
    assert!(second.contains("migrations are up to date"), "{second}");
    assert!(!second.contains("applied migrations"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_postgres_start_warns_of_nothing() {
    let app = spawn_app(Store::Postgres).await;
    crate::support::eventually(
        "the revocation listener",
        std::time::Duration::from_secs(30),
        async || {
            app.logs()
                .contains("listening for revocations")
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        app.get("/v1/whoami", &app.admin).await.status,
        StatusCode::OK
    );
    let logs = app.logs();
    assert!(
        !logs.contains("WARN"),
        "a healthy start logs no warning:\n{logs}"
    );
    assert!(!logs.contains("revocation feed lost"), "{logs}");
    assert!(
        !logs.contains("_sqlx_migrations"),
        "sqlx's notices stay below INFO:\n{logs}"
    );
}
