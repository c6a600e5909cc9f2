//! Secret hygiene: after a full scenario (create, use, rotate, revoke, failed attempts, and a
//! console sign-in that creates a token) with logging at trace level, no token string, secret
//! or argon2 hash appears in the logs; a dump of every Postgres table (the console's sessions
//! and nonces included) and every byte of the SQLite files hold no token string or secret; no
//! error echoes a token.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::console_client::ConsoleClient;
use crate::support::{spawn_app_with, App, Store};

/// The secret part of a token string (between the 26-character prefix and id, and the
/// 6-character checksum).
fn secret_of(token: &str) -> &str {
    &token[26..69]
}

async fn full_scenario(app: &App) -> Vec<String> {
    let space = app.create_space("acme").await;
    let (admin_id, admin) = app.create_token(&app.admin, &space, "admin").await;
    let (client_id, client) = app.create_token(&admin, &space, "client").await;
    for token in [&admin, &client] {
        assert_eq!(app.get("/v1/whoami", token).await.status, StatusCode::OK);
        let bearer = app
            .client
            .get(format!("{}/v1/whoami", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), StatusCode::OK);
    }
    let rotated = app
        .post(
            &format!("/v1/spaces/{space}/tokens/{client_id}/rotate"),
            &admin,
            json!({ "grace_period_seconds": 0 }),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{rotated:?}");
    let replacement = rotated.str("token");
    app.delete(&format!("/v1/spaces/{space}/tokens/{admin_id}"), &app.admin)
        .await;
    // Failed attempts: revoked, rotated away, typo, wrong secret, in the query string, in the
    // path, in a JSON body.
    let mut typo = replacement.clone();
    typo.replace_range(30..31, if &typo[30..31] == "x" { "y" } else { "x" });
    let mut wrong_secret = replacement.clone();
    wrong_secret.replace_range(26..69, &"A".repeat(43));
    for bad in [&admin, &client, &typo, &wrong_secret] {
        let reply = app.get("/v1/whoami", bad).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(
            !reply.body.to_string().contains(secret_of(bad)),
            "an error echoed the token"
        );
    }
    let in_query = app
        .call(
            Method::GET,
            &format!("/v1/whoami?token={replacement}"),
            None,
            None,
        )
        .await;
    assert_eq!(in_query.status, StatusCode::BAD_REQUEST);
    assert!(!in_query.body.to_string().contains(secret_of(&replacement)));
    let in_path = app
        .get(&format!("/v1/spaces/{replacement}"), &app.admin)
        .await;
    assert!(
        !in_path.body.to_string().contains(secret_of(&replacement)),
        "{in_path:?}"
    );
    let in_body = app
        .post(
            &format!("/v1/spaces/{space}/tokens"),
            &app.admin,
            json!({ "name": "x", "level": replacement }),
        )
        .await;
    assert!(in_body.status.is_client_error());
    assert!(
        !in_body.body.to_string().contains(secret_of(&replacement)),
        "{in_body:?}"
    );
    assert_eq!(
        app.get("/v1/whoami", &replacement).await.status,
        StatusCode::OK
    );
    // A console session, and a token created on its page: a session row and a claimed nonce.
    let from_console = ConsoleClient::sign_in(app, &app.admin)
        .await
        .create_client_token(&space, "from the console")
        .await;
    assert_eq!(
        app.get("/v1/whoami", &from_console).await.status,
        StatusCode::OK
    );
    vec![app.admin.clone(), admin, client, replacement, from_console]
}

fn assert_clean(haystack: &str, tokens: &[String], what: &str) {
    for token in tokens {
        assert!(
            !haystack.contains(token.as_str()),
            "a token string reached {what}"
        );
        assert!(
            !haystack.contains(secret_of(token)),
            "a token's secret reached {what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_secret_or_hash_reaches_the_logs_at_trace_level() {
    for store in [Store::Memory, Store::Sqlite, Store::Postgres] {
        let mut app = spawn_app_with(store, &[("TOLLGATE_LOG", "trace")]).await;
        let tokens = full_scenario(&app).await;
        app.stop().await;
        let logs = app.logs();
        assert!(
            logs.lines().count() > 50,
            "trace logging is on: {} lines",
            logs.lines().count()
        );
        assert_clean(&logs, &tokens, "the logs");
        // A hash, not the schema's check that names the prefix (logged as the migration runs).
        assert!(
            !logs.contains("$argon2id$v=19$"),
            "an argon2 hash reached the logs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_byte_of_the_sqlite_files_holds_a_token_or_a_secret() {
    let mut app = spawn_app_with(Store::Sqlite, &[]).await;
    let tokens = full_scenario(&app).await;
    // Killed, not stopped: the write-ahead log keeps what it holds, and is read too.
    app.kill().await;
    let file = app.sqlite().unwrap().path().to_owned();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut name = file.clone().into_os_string();
        name.push(suffix);
        if let Ok(content) = std::fs::read(&name) {
            bytes.extend(content);
        }
    }
    // Whole files, free pages included: SQLite stores text as UTF-8, so a secret would show.
    let dump = String::from_utf8_lossy(&bytes);
    assert!(
        dump.contains("$argon2id$v=19$"),
        "the hashes are there, so the dump is real"
    );
    assert_clean(&dump, &tokens, "the SQLite files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_table_of_the_database_holds_a_token_or_a_secret() {
    let app = spawn_app_with(Store::Postgres, &[]).await;
    let tokens = full_scenario(&app).await;
    let mut db = PgConnection::connect(app.database_url().unwrap())
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|t| t.ends_with("api_tokens")),
        "{tables:?}"
    );
    let mut dump = String::new();
    for table in &tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                .fetch_all(&mut db)
                .await
                .unwrap();
        dump.extend(rows);
    }
    assert!(
        dump.contains("$argon2id$v=19$"),
        "the hashes are there, so the dump is real"
    );
    for table in ["console_sessions", "console_nonces"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert!(
            rows > 0,
            "{table} holds the console's rows, so its dump is real"
        );
    }
    assert_clean(&dump, &tokens, "the database");
}
