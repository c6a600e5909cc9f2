//! The schema's named constraints mirror the domain's rules: a row written by hand that breaks
//! one is refused, and a row that slipped past (checks can be dropped) reads back as corrupt.

use sqlx::{Connection, SqliteConnection};
use tollgate_app::ports::{SpaceRepository, TokenRepository};
use tollgate_app::testing::fixtures::{insert, space, space_id, token, token_id};
use tollgate_app::StoreError;
use tollgate_domain::TokenLevel;
use tollgate_sqlite::testing::TestFile;

async fn raw(file: &TestFile) -> SqliteConnection {
    SqliteConnection::connect(&file.url()).await.unwrap()
}

/// Runs `sql` on a file holding space 1 and client token 1, and returns SQLite's message.
async fn refusal(sql: &str) -> String {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    assert!(insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap());
    let mut connection = raw(&file).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut connection)
        .await
        .unwrap();
    match sqlx::query(sql).execute(&mut connection).await {
        Ok(_) => panic!("{sql} was accepted"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn hand_written_rows_that_break_a_domain_rule_are_refused_by_name() {
    for (sql, constraint) in [
        ("UPDATE api_tokens SET level = 'root'", "api_tokens_level_known"),
        ("UPDATE api_tokens SET name = ''", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET name = ' padded'", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET name = 'padded' || char(12288)", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET name = 'bell' || char(7)", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET name = 'c1' || char(133)", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET name = printf('%.101c', 'x')", "api_tokens_name_valid"),
        ("UPDATE api_tokens SET created_by = 'robot'", "api_tokens_created_by_known"),
        ("UPDATE api_tokens SET description = ''", "api_tokens_description_length"),
        ("UPDATE api_tokens SET description = printf('%.501c', 'x')", "api_tokens_description_length"),
        ("UPDATE api_tokens SET secret_hash = 'plain'", "api_tokens_secret_hash_argon2id"),
        ("UPDATE api_tokens SET rotated_at = 1", "api_tokens_rotation_complete"),
        ("UPDATE api_tokens SET space_id = NULL", "api_tokens_instance_tokens_are_admin"),
        ("UPDATE spaces SET name = 'tab' || char(9)", "spaces_name_valid"),
        ("UPDATE api_tokens SET created_at = 'yesterday'", "cannot store TEXT value in INTEGER column"),
        (
            "INSERT INTO audit_events VALUES (randomblob(16), 0, 'token.deleted', 'system', randomblob(16), NULL, NULL, NULL)",
            "audit_events_action_known",
        ),
        (
            "INSERT INTO audit_events VALUES (randomblob(16), 0, 'token.created', 'system', randomblob(16), NULL, randomblob(15), NULL)",
            "audit_events_via_token_id_is_uuid",
        ),
        (
            "INSERT INTO audit_events VALUES (randomblob(16), 0, 'token.created', 'system', NULL, NULL, NULL, NULL)",
            "audit_events_subject_known",
        ),
        (
            "INSERT INTO audit_events VALUES (randomblob(16), 0, 'space.deleted', 'system', randomblob(16), (SELECT id FROM spaces), NULL, NULL)",
            "audit_events_subject_known",
        ),
        (
            "INSERT INTO audit_events VALUES (randomblob(16), 0, 'space.renamed', 'system', NULL, NULL, NULL, NULL)",
            "audit_events_subject_known",
        ),
        ("UPDATE api_tokens SET space_id = randomblob(16)", "FOREIGN KEY"),
        (
            "INSERT INTO console_sessions VALUES (randomblob(31), (SELECT id FROM api_tokens), 0, 0)",
            "console_sessions_digest_is_sha256",
        ),
        (
            "INSERT INTO console_sessions VALUES ('digest', (SELECT id FROM api_tokens), 0, 0)",
            "cannot store TEXT value in BLOB column",
        ),
        (
            "INSERT INTO console_sessions VALUES (randomblob(32), randomblob(16), 0, 0)",
            "FOREIGN KEY",
        ),
        // The check fails as the row is written, before the foreign key is checked.
        (
            "INSERT INTO console_nonces VALUES (randomblob(32), randomblob(15), 0)",
            "console_nonces_nonce_is_128_bits",
        ),
        (
            "INSERT INTO console_nonces VALUES (randomblob(32), randomblob(16), 0)",
            "FOREIGN KEY",
        ),
    ] {
        let message = refusal(sql).await;
        assert!(message.contains(constraint), "{sql}: {message}");
    }
}

#[tokio::test]
async fn names_the_domain_accepts_are_accepted_by_the_schema() {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let mut connection = raw(&file).await;
    for name in [
        "a",
        "ünïcødé ✓",
        "inner  spaces",
        &"x".repeat(100),
        "日本語",
    ] {
        sqlx::query("UPDATE spaces SET name = ?")
            .bind(name)
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
}

#[tokio::test]
async fn a_row_that_slipped_past_the_checks_reads_back_as_corrupt_without_its_hash() {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    assert!(insert(&store, &token(1, space_id(1), TokenLevel::Client))
        .await
        .unwrap());
    let mut connection = raw(&file).await;
    // A checks-off edit: the name's trailing space passes SQLite (checks ignored) but not the
    // domain, which reads every row through its constructors.
    sqlx::query("PRAGMA ignore_check_constraints = ON")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET name = 'ci '")
        .execute(&mut connection)
        .await
        .unwrap();
    match TokenRepository::get(&store, token_id(1)).await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("api_tokens row"), "{message}");
            assert!(message.contains("stored trimmed"), "{message}");
            assert!(!message.contains("argon2"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
