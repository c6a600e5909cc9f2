//! The schema refuses what the domain refuses, by named constraints, even from raw SQL; and the
//! adapter turns the refusals it can meet into errors that never carry the secret hash.

use tollgate_app::ports::{AuditRepository, SpaceRepository, TokenRepository};
use tollgate_app::testing::fixtures::{edited, event, space, space_id, token, token_id};
use tollgate_app::StoreError;
use tollgate_domain::{AuditAction, AuditEvent, SecretHash, TokenLevel};
use tollgate_pg::testing::TestDatabase;

use tollgate_app::testing::fixtures::{created, insert};

const HASH: &str = "'$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'";
const SPACE: &str = "'00000000-0000-0000-0000-000000000001'";
const TOKEN_1: &str = "'00000000-0000-0000-0000-000000000001'";
const UNKNOWN: &str = "'00000000-0000-0000-0000-000000000999'";

/// A raw insert into `api_tokens` with one column's SQL replaced.
fn token_insert(id: u32, column: &str, value: &str) -> String {
    token_insert_with(id, &[(column, value)])
}

/// A raw insert into `api_tokens` with some columns' SQL replaced.
fn token_insert_with(id: u32, replaced: &[(&str, &str)]) -> String {
    let mut values = [
        ("id", format!("'00000000-0000-0000-0000-{id:012}'")),
        ("space_id", SPACE.to_owned()),
        ("level", "'client'".to_owned()),
        ("name", "'ci'".to_owned()),
        ("created_at", "now()".to_owned()),
        ("created_by", "'system'".to_owned()),
        ("secret_hash", HASH.to_owned()),
        ("replaces", "NULL".to_owned()),
        ("replaced_by", "NULL".to_owned()),
        ("rotated_at", "NULL".to_owned()),
    ];
    for (name, v) in &mut values {
        for (column, value) in replaced {
            if name == column {
                (*value).clone_into(v);
            }
        }
    }
    let (columns, values): (Vec<_>, Vec<_>) = values.into_iter().unzip();
    format!(
        "INSERT INTO api_tokens ({}) VALUES ({})",
        columns.join(", "),
        values.join(", ")
    )
}

/// A raw insert into `audit_events` with one column's SQL replaced.
fn event_insert(id: u32, column: &str, value: &str) -> String {
    let mut values = [
        ("id", format!("'00000000-0000-0000-0000-{id:012}'")),
        ("at", "now()".to_owned()),
        ("action", "'token.created'".to_owned()),
        ("actor", "'system'".to_owned()),
        (
            "token_id",
            "'00000000-0000-0000-0000-000000000001'".to_owned(),
        ),
        ("space_id", SPACE.to_owned()),
    ];
    for (name, v) in &mut values {
        if *name == column {
            value.clone_into(v);
        }
    }
    let (columns, values): (Vec<_>, Vec<_>) = values.into_iter().unzip();
    format!(
        "INSERT INTO audit_events ({}) VALUES ({})",
        columns.join(", "),
        values.join(", ")
    )
}

fn space_insert(id: u32, name: &str) -> String {
    format!("INSERT INTO spaces (id, name, created_at) VALUES ('00000000-0000-0000-0000-{id:012}', {name}, now())")
}

/// Runs `sql`, which must fail, and returns the violated constraint (or the SQLSTATE).
async fn refusal(db: &TestDatabase, sql: &str) -> String {
    let err = sqlx::query(sql)
        .execute(db.pool())
        .await
        .expect_err(&format!("{sql} should be refused"));
    let db_err = err.as_database_error().expect("a database error");
    db_err.constraint().map_or_else(
        || format!("SQLSTATE {}", db_err.code().unwrap_or_default()),
        str::to_owned,
    )
}

#[tokio::test]
async fn raw_sql_that_breaks_a_rule_is_refused_by_a_named_constraint() {
    let db = TestDatabase::create().await;
    sqlx::query(&space_insert(1, "'acme'"))
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query(&token_insert(1, "name", "'ok'"))
        .execute(db.pool())
        .await
        .unwrap();

    let cases = [
        (space_insert(2, "''"), "spaces_name_valid"),
        (space_insert(2, "' acme'"), "spaces_name_valid"),
        (space_insert(2, "E'acme\\u3000'"), "spaces_name_valid"),
        (space_insert(2, "E'a\\tb'"), "spaces_name_valid"),
        (space_insert(2, "repeat('é', 101)"), "spaces_name_valid"),
        (space_insert(2, "NULL"), "SQLSTATE 23502"),
        (space_insert(1, "'twin'"), "spaces_pkey"),
        (token_insert(1, "name", "'twin'"), "api_tokens_pkey"),
        (token_insert(2, "level", "'root'"), "api_tokens_level_known"),
        (
            token_insert(2, "space_id", "NULL"),
            "api_tokens_instance_tokens_are_admin",
        ),
        (token_insert(2, "name", "''"), "api_tokens_name_valid"),
        (
            token_insert(2, "name", "'padded '"),
            "api_tokens_name_valid",
        ),
        (
            token_insert(2, "name", r"E'a\u0085b'"),
            "api_tokens_name_valid",
        ),
        (
            token_insert(2, "name", "repeat('x', 101)"),
            "api_tokens_name_valid",
        ),
        (
            token_insert(2, "created_by", "'robot'"),
            "api_tokens_created_by_known",
        ),
        (
            token_insert(2, "created_by", "'token:'"),
            "api_tokens_created_by_known",
        ),
        (
            token_insert(2, "secret_hash", "'plain-text-secret'"),
            "api_tokens_secret_hash_argon2id",
        ),
        (
            token_insert(
                2,
                "secret_hash",
                "'$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'",
            ),
            "api_tokens_secret_hash_argon2id",
        ),
        (
            token_insert(2, "space_id", "'00000000-0000-0000-0000-000000000999'"),
            "api_tokens_space_id_fkey",
        ),
        (token_insert(2, "created_at", "NULL"), "SQLSTATE 23502"),
        // Rotation: both halves or neither, and links to tokens that exist.
        (
            token_insert(2, "replaced_by", TOKEN_1),
            "api_tokens_rotation_complete",
        ),
        (
            token_insert(2, "rotated_at", "now()"),
            "api_tokens_rotation_complete",
        ),
        (
            token_insert(2, "replaces", UNKNOWN),
            "api_tokens_replaces_fkey",
        ),
        (
            token_insert_with(2, &[("replaced_by", UNKNOWN), ("rotated_at", "now()")]),
            "api_tokens_replaced_by_fkey",
        ),
        // Events: known actions and actors, in spaces that exist.
        (
            event_insert(1, "action", "'token.deleted'"),
            "audit_events_action_known",
        ),
        (
            event_insert(1, "action", "'TOKEN.CREATED'"),
            "audit_events_action_known",
        ),
        (
            event_insert(1, "actor", "'robot'"),
            "audit_events_actor_known",
        ),
        (
            event_insert(1, "actor", "'user:'"),
            "audit_events_actor_known",
        ),
        (
            event_insert(1, "space_id", UNKNOWN),
            "audit_events_space_id_fkey",
        ),
        (
            event_insert(1, "token_id", "NULL"),
            "audit_events_subject_known",
        ),
        (
            event_insert(1, "action", "'space.deleted'"),
            "audit_events_subject_known",
        ),
        (event_insert(1, "at", "NULL"), "SQLSTATE 23502"),
    ];
    for (sql, expected) in cases {
        assert_eq!(refusal(&db, &sql).await, expected, "{sql}");
    }

    // What the domain accepts, the schema accepts.
    for (id, sql) in [
        (3, token_insert(3, "name", "repeat('é', 100)")),
        (
            4,
            token_insert(4, "name", "'zürich ünïcode ✓ inner  spaces'"),
        ),
        (5, token_insert(5, "created_by", "'user:u-42'")),
        (
            6,
            token_insert(
                6,
                "created_by",
                "'token:0190f3b2-c1d2-7c3e-8a5b-6c7d8e9f0a1b'",
            ),
        ),
        (
            7,
            token_insert(7, "space_id", "NULL").replace("'client'", "'admin'"),
        ),
        // A rotated token, and its replacement; a token whose predecessor is unknown to the
        // log is still a token.
        (
            8,
            token_insert_with(8, &[("replaced_by", TOKEN_1), ("rotated_at", "now()")]),
        ),
        (9, token_insert(9, "replaces", TOKEN_1)),
        (
            10,
            event_insert(10, "actor", "'token:0190f3b2-c1d2-7c3e-8a5b-6c7d8e9f0a1b'"),
        ),
        (11, event_insert(11, "space_id", "NULL")),
        (
            12,
            event_insert(12, "token_id", UNKNOWN).replace("'token.created'", "'token.rejected'"),
        ),
        // A space's own event names no token.
        (
            13,
            event_insert(13, "token_id", "NULL").replace("'token.created'", "'space.deleted'"),
        ),
    ] {
        sqlx::query(&sql)
            .execute(db.pool())
            .await
            .unwrap_or_else(|e| panic!("case {id}: {sql}: {e}"));
    }
}

/// The whole `source()` chain of an error, `Debug` and `Display`.
fn chain(err: &StoreError) -> String {
    let mut text = format!("{err:?}");
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        text.push_str(&format!(" / {e}"));
        source = e.source();
    }
    text
}

#[tokio::test]
async fn a_token_for_a_missing_space_is_not_stored_and_writes_nothing() {
    let db = TestDatabase::create().await;
    let store = db.store();
    let orphan = token(1, space_id(404), TokenLevel::Client);
    // The insert finds no living space, as for a deleted one: nothing stored.
    assert!(!insert(&store, &orphan).await.unwrap());
    assert_eq!(
        TokenRepository::get(&store, token_id(1)).await.unwrap(),
        None
    );
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(events, 0, "nor its event");
}

#[tokio::test]
async fn a_token_whose_event_cannot_be_stored_is_not_stored_either() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    let first = token(1, space_id(1), TokenLevel::Client);
    assert!(insert(&store, &first).await.unwrap());
    // The second token's event reuses the first one's id.
    let second = token(2, space_id(1), TokenLevel::Client);
    let clashing = AuditEvent {
        token_id: Some(second.id()),
        ..created(&first)
    };
    let err = TokenRepository::insert(&store, &second, &clashing)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    assert!(chain(&err).contains("exists already"), "{}", chain(&err));
    assert_eq!(
        TokenRepository::get(&store, token_id(2)).await.unwrap(),
        None
    );

    // Recording an event twice, or one in a missing space, fails in words of its own.
    let err = AuditRepository::record(&store, &created(&first))
        .await
        .unwrap_err();
    assert!(chain(&err).contains("exists already"), "{}", chain(&err));
    let elsewhere = event(
        7,
        AuditAction::TokenRejected,
        &token(7, space_id(404), TokenLevel::Client),
    );
    let err = AuditRepository::record(&store, &elsewhere)
        .await
        .unwrap_err();
    assert!(chain(&err).contains("does not exist"), "{}", chain(&err));
}

#[tokio::test]
async fn refused_writes_never_carry_the_secret_hash_in_their_error() {
    let db = TestDatabase::create().await;
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    // Postgres reports a check violation with the failing row, hash included, in its DETAIL.
    let bad = edited(&token(1, space_id(1), TokenLevel::Client), |t| {
        t.secret_hash = SecretHash::new("sha1:visible-secret-material".to_owned());
    });
    let err = insert(&store, &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    let text = chain(&err);
    assert!(text.contains("api_tokens_secret_hash_argon2id"), "{text}");
    assert!(!text.contains("visible-secret-material"), "{text}");
    assert!(!text.contains("Failing row"), "{text}");

    // A duplicate space id: the unique violation's DETAIL names the key; the error says what
    // happened in its own words.
    let err = SpaceRepository::insert(&store, &space(1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
    assert!(chain(&err).contains("exists already"), "{}", chain(&err));
}
