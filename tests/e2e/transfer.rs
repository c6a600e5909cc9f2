//! Moving an installation: `tollgate export` from one store, `tollgate import` into an empty
//! Postgres database, and a server there that verifies every token as before. And the refusals:
//! a store that is not empty, a malformed dump, no store at all.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate_app::ports::SpaceRepository;
use tollgate_app::testing::fixtures::space;
use tollgate_pg::testing::TestDatabase;

use tollgate_sqlite::testing::TestFile;

use crate::support::{on_lasting_stores, spawn_app, spawn_app_with, App, Store};

/// Runs `command` with `input` on its standard input, and waits for it.
fn run_with_input(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start tollgate");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A refusing import may exit before reading everything: a broken pipe is then expected.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().expect("tollgate ran")
}

/// `tollgate import` into the database at `url`, reading `dump`.
fn import(url: &str, dump: &[u8]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .arg("import")
        .env_remove("TOLLGATE_BOOTSTRAP_TOKEN")
        .env("DATABASE_URL", url);
    run_with_input(command, dump)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn count(db: &TestDatabase, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// Rows per table, to see that a refused import changed nothing.
async fn counts(db: &TestDatabase) -> [i64; 3] {
    [
        count(db, "spaces").await,
        count(db, "api_tokens").await,
        count(db, "audit_events").await,
    ]
}

/// Every token of `space` (whatever its status) and its events, as `app` answers them.
async fn space_as_seen(app: &App, as_token: &str, space: &str) -> (Value, Value) {
    let tokens = app
        .get(&format!("/v1/spaces/{space}/tokens?status=all"), as_token)
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    let events = app
        .get(&format!("/v1/spaces/{space}/events"), as_token)
        .await;
    assert_eq!(events.status, StatusCode::OK, "{events:?}");
    (tokens.body["items"].clone(), events.body["items"].clone())
}

/// The whole move, from a store of kind `source`: spaces, client and admin tokens, a revoked one,
/// a rotated one still in its grace period, uses recorded, and events.
async fn a_moved_store_keeps_every_token_verifying(source: Store) {
    let mut from = spawn_app(source).await;
    let acme = from.create_space("acme").await;
    let other = from.create_space("other").await;
    let (_, space_admin) = from.create_token(&from.admin, &acme, "admin").await;
    let (used_id, by_space_admin) = from.create_token(&space_admin, &acme, "client").await;
    let (revoked_id, revoked) = from.create_token(&from.admin, &acme, "client").await;
    let (old_id, old) = from.create_token(&from.admin, &acme, "client").await;
    let (_, elsewhere) = from.create_token(&from.admin, &other, "client").await;
    let reply = from
        .delete(
            &format!("/v1/spaces/{acme}/tokens/{revoked_id}"),
            &from.admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{reply:?}");
    let rotated = from
        .post(
            &format!("/v1/spaces/{acme}/tokens/{old_id}/rotate"),
            &from.admin,
            json!({ "grace_period_seconds": 3600 }),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{rotated:?}");
    let (new_id, new) = (rotated.str("id"), rotated.str("token"));
    let live = [
        from.admin.clone(),
        space_admin,
        by_space_admin.clone(),
        old.clone(),
        new,
        elsewhere,
    ];
    for token in &live {
        assert_eq!(from.get("/v1/whoami", token).await.status, StatusCode::OK);
    }
    // A graceful stop writes the uses: `last_used_at` is in the store, so in the dump.
    from.stop().await;

    let exported = from
        .command(&["export"])
        .output()
        .expect("tollgate export ran");
    assert!(exported.status.success(), "{}", stderr(&exported));
    let dump = String::from_utf8(exported.stdout.clone()).expect("the dump is UTF-8");
    assert!(
        dump.starts_with("{\"kind\":\"tollgate-dump\",\"version\":1}\n"),
        "{dump}"
    );
    for secret in live.iter().chain([&revoked]) {
        assert!(
            !dump.contains(secret.as_str()),
            "a token string is in the dump"
        );
    }
    let kinds = |kind: &str| dump.matches(&format!("{{\"kind\":\"{kind}\"")).count();
    assert_eq!((kinds("space"), kinds("token")), (2, 7), "{dump}");
    assert!(
        stderr(&exported).contains(&format!(
            "exported 2 spaces, 7 tokens, {} events",
            kinds("event")
        )),
        "{}",
        stderr(&exported)
    );

    let target = TestDatabase::create().await;
    let imported = import(target.url(), &exported.stdout);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stderr(&imported).contains("imported 2 spaces, 7 tokens"),
        "{}",
        stderr(&imported)
    );

    from.restart().await;
    if source == Store::Sqlite {
        // On SQLite an export only reads: it works while the server serves.
        let again = from
            .command(&["export"])
            .output()
            .expect("tollgate export ran");
        assert!(again.status.success(), "{}", stderr(&again));
        assert_eq!(
            String::from_utf8_lossy(&again.stdout)
                .matches("{\"kind\":\"token\"")
                .count(),
            7
        );
    }
    let to = spawn_app_with(Store::Memory, &[("DATABASE_URL", target.url())]).await;
    // Before any use on the new store (a refused use is an event of its own).
    for space in [&acme, &other] {
        let before = space_as_seen(&from, &from.admin, space).await;
        let after = space_as_seen(&to, &from.admin, space).await;
        assert_eq!(after, before, "space {space}");
    }
    let (tokens, _) = space_as_seen(&to, &from.admin, &acme).await;
    let used = tokens
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["id"] == used_id.as_str());
    assert!(
        used.is_some_and(|t| t["last_used_at"].is_string()),
        "the last use is kept: {tokens}"
    );

    for token in &live {
        assert_eq!(
            to.get("/v1/whoami", token).await.status,
            StatusCode::OK,
            "a token that worked before the move works after it"
        );
    }
    to.get("/v1/whoami", &revoked)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let old_now = to
        .get(&format!("/v1/spaces/{acme}/tokens/{old_id}"), &from.admin)
        .await;
    assert_eq!(old_now.body["status"], "rotated", "{old_now:?}");
    assert_eq!(old_now.body["replaced_by"], new_id.as_str(), "{old_now:?}");
    assert!(old_now.body["rotated_at"].is_string(), "{old_now:?}");
    let new_now = to
        .get(&format!("/v1/spaces/{acme}/tokens/{new_id}"), &from.admin)
        .await;
    assert_eq!(new_now.body["replaces"], old_id.as_str(), "{new_now:?}");
}

// SQLite to Postgres is the move docs/operations.md describes; Postgres to Postgres moves a
// database. The in-memory store keeps nothing a separate `export` process could read.
on_lasting_stores!(a_moved_store_keeps_every_token_verifying);

const SPACE: &str = "0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f10";
const TOKEN: &str = "0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f11";
/// A hash argon2 can read (import refuses one it cannot), whose output says
/// `never-print-this-hash-32-bytes!!` in base64.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$bmV2ZXItcHJpbnQtdGhpcy1oYXNoLTMyLWJ5dGVzISE";
const HASH_OUTPUT: &str = "bmV2ZXItcHJpbnQtdGhpcy1oYXNoLTMyLWJ5dGVzISE";

/// A small, valid dump of one space, one token and its event, line by line.
fn small_dump() -> Vec<String> {
    vec![
        r#"{"kind":"tollgate-dump","version":1}"#.to_owned(),
        format!(
            r#"{{"kind":"space","id":"{SPACE}","name":"acme","created_at":"2030-01-01T00:00:00Z"}}"#
        ),
        format!(
            r#"{{"kind":"token","id":"{TOKEN}","space_id":"{SPACE}","level":"client","name":"ci","created_at":"2030-01-01T00:00:00Z","created_by":"system","secret_hash":"{HASH}"}}"#
        ),
        format!(
            r#"{{"kind":"event","id":"0190c6c4-8f1e-7b7a-9a6e-0c8a5d3e2f12","at":"2030-01-01T00:00:00Z","action":"token.created","actor":"system","token_id":"{TOKEN}","space_id":"{SPACE}"}}"#
        ),
    ]
}

fn joined(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_whose_hash_exceeds_the_argon2_bounds_is_refused_whole() {
    // 4 GiB of memory per verification: a memory bomb waiting for the token's first use.
    let mut lines = small_dump();
    lines[2] = lines[2].replace("m=19456,t=2", "m=4194304,t=1");
    let target = TestDatabase::create().await;
    let refused = import(target.url(), &joined(&lines));
    assert!(!refused.status.success(), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains(&format!("token {TOKEN}'s secret hash is refused")),
        "{message}"
    );
    assert!(
        message.contains("4194304, above the configured maximum of 65536"),
        "{message}"
    );
    assert!(!message.contains(HASH_OUTPUT), "{message}");
    assert_eq!(counts(&target).await, [0, 0, 0]);

    // The bounds are the operator's: raised for a dump they trust, it loads.
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .arg("import")
        .env_remove("TOLLGATE_BOOTSTRAP_TOKEN")
        .env("DATABASE_URL", target.url())
        .env("TOLLGATE_ARGON2_MAX_MEMORY_KIB", "4194304");
    let loaded = run_with_input(command, &joined(&lines));
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert_eq!(counts(&target).await, [1, 1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_into_a_store_that_is_not_empty_is_refused_and_changes_nothing() {
    let target = TestDatabase::create().await;
    SpaceRepository::insert(&target.store(), &space(1))
        .await
        .unwrap();
    let before = counts(&target).await;

    let refused = import(target.url(), &joined(&small_dump()));
    assert!(!refused.status.success(), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("the target store is not empty"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(counts(&target).await, before);

    // The same dump goes into an empty store.
    let empty = TestDatabase::create().await;
    let imported = import(empty.url(), &joined(&small_dump()));
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(counts(&empty).await, [1, 1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_dump_names_its_bad_line_and_writes_nothing() {
    let mut lines = small_dump();
    lines[2] = lines[2].replace("\"level\":\"client\"", "\"level\":\"root\"");
    let target = TestDatabase::create().await;
    let refused = import(target.url(), &joined(&lines));
    assert!(!refused.status.success(), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("line 3: token field `level`"), "{message}");
    assert!(message.contains("nothing was written"), "{message}");
    assert!(!message.contains(HASH_OUTPUT), "{message}");
    assert_eq!(counts(&target).await, [0, 0, 0]);
}

#[test]
fn export_and_import_on_the_in_memory_store_say_that_it_keeps_nothing() {
    for command in ["export", "import"] {
        let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .arg(command)
            .env("DATABASE_URL", "memory:")
            .stdin(Stdio::null())
            .output()
            .expect("tollgate ran");
        assert!(!output.status.success(), "{command}");
        assert!(output.stdout.is_empty(), "{command}");
        assert!(
            stderr(&output).contains("keeps nothing"),
            "{command}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn an_export_of_a_sqlite_file_that_does_not_exist_is_refused_without_creating_it() {
    let dir = TestFile::empty_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("export")
        .env("DATABASE_URL", dir.url())
        .output()
        .expect("tollgate ran");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("there is no SQLite store"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_imports_into_a_new_sqlite_file() {
    let dir = TestFile::empty_dir();
    let imported = import(&dir.url(), &joined(&small_dump()));
    assert!(imported.status.success(), "{}", stderr(&imported));
    let store = dir.open().await;
    assert_eq!(
        SpaceRepository::list(&store, None, 10).await.unwrap().len(),
        1
    );
    let again = import(&dir.url(), &joined(&small_dump()));
    assert!(
        stderr(&again).contains("the target store is not empty"),
        "{}",
        stderr(&again)
    );
}
