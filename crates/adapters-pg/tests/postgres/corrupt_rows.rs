//! Rows edited by hand so that they break a domain rule (the checks dropped first, as an
//! operator with a SQL prompt could) read back as `StoreError::Corrupt` naming the row and the
//! rule: never a panic, never a silently wrong value, never the secret hash.

use tollgate_app::ports::{
    AuditRepository, ListOrder, SpaceRepository, StatusFilter, TokenQuery, TokenRepository,
};
use tollgate_app::testing::fixtures::{epoch, event, space, space_id, token, token_id};
use tollgate_app::StoreError;
use tollgate_domain::{AuditAction, TokenLevel};
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::PgStore;

use tollgate_app::testing::fixtures::{insert, revoke};

const DROP_CHECKS: &str = "
    ALTER TABLE api_tokens
        DROP CONSTRAINT api_tokens_name_valid,
        DROP CONSTRAINT api_tokens_level_known,
        DROP CONSTRAINT api_tokens_instance_tokens_are_admin,
        DROP CONSTRAINT api_tokens_created_by_known,
        DROP CONSTRAINT api_tokens_rotation_complete;
    ALTER TABLE spaces DROP CONSTRAINT spaces_name_valid;
    ALTER TABLE audit_events
        DROP CONSTRAINT audit_events_action_known,
        DROP CONSTRAINT audit_events_actor_known;
";

fn assert_corrupt<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    row: &str,
    rule: &str,
    what: &str,
) {
    match result {
        Err(StoreError::Corrupt(message)) => {
            assert!(
                message.contains(row),
                "{what}: {message:?} should name {row}"
            );
            assert!(
                message.contains(rule),
                "{what}: {message:?} should name {rule:?}"
            );
            assert!(
                !message.contains("argon2id") && !message.contains("placeholder"),
                "{what}: {message:?} must not quote the hash"
            );
        }
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

fn all_of_space(n: u128) -> TokenQuery {
    TokenQuery {
        space_id: space_id(n),
        level: None,
        statuses: StatusFilter::ALL,
        now: epoch(),
        name: None,
        after: None,
        limit: 100,
        order: ListOrder::OldestFirst,
    }
}

/// Stores space `n` with one valid token `n` in it, then applies `edit` to that token's row.
async fn token_edited(db: &TestDatabase, store: &PgStore, n: u128, edit: &str) {
    SpaceRepository::insert(store, &space(n)).await.unwrap();
    assert!(insert(store, &token(n, space_id(n), TokenLevel::Client))
        .await
        .unwrap());
    sqlx::query(&format!("UPDATE api_tokens SET {edit} WHERE id = $1"))
        .bind(token_id(n).as_uuid())
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn tokens_edited_to_break_a_domain_rule_read_as_corrupt_from_every_read() {
    let db = TestDatabase::create().await;
    let store = db.store();
    sqlx::raw_sql(DROP_CHECKS).execute(db.pool()).await.unwrap();

    let cases: &[(u128, &str, &str)] = &[
        (1, r"name = E'bad\u0007name'", "control characters"),
        (2, "name = ''", "must not be empty"),
        (3, "name = repeat('x', 101)", "at most 100"),
        (4, "name = ' padded '", "stored trimmed"),
        (5, "created_by = 'robot'", "created_by"),
        (6, "created_by = 'token:not-a-uuid'", "created_by"),
        (7, "level = 'root'", "token level"),
        (
            8,
            "expires_at = 'infinity'",
            "expires_at is out of the supported range",
        ),
        (
            9,
            "created_at = '200000-01-01 00:00:00+00'",
            "created_at is out of",
        ),
        (10, "last_used_at = '-infinity'", "last_used_at is out of"),
        (11, "revoked_at = 'infinity'", "revoked_at is out of"),
        (
            13,
            "replaced_by = id",
            "replaced_by and rotated_at must be set together",
        ),
        (
            14,
            "rotated_at = now()",
            "replaced_by and rotated_at must be set together",
        ),
        (
            15,
            "replaced_by = id, rotated_at = 'infinity'",
            "rotated_at is out of",
        ),
        // Visibility is the domain's alone: the CHECK lets a name that shows nothing through
        // (with the checks on, too), and the adapter reads it as corrupt.
        (16, r"name = E'\u200b\u2060'", "visible character"),
    ];
    for &(n, edit, _) in cases {
        token_edited(&db, &store, n, edit).await;
    }
    // A client-level token without a space: the scope rule.
    SpaceRepository::insert(&store, &space(12)).await.unwrap();
    assert!(insert(&store, &token(12, space_id(12), TokenLevel::Client))
        .await
        .unwrap());
    sqlx::query("UPDATE api_tokens SET space_id = NULL WHERE id = $1")
        .bind(token_id(12).as_uuid())
        .execute(db.pool())
        .await
        .unwrap();

    let mut all = cases.to_vec();
    all.push((
        12,
        "space_id = NULL",
        "an instance token must be admin-level",
    ));
    for (n, edit, rule) in all {
        let row = format!("api_tokens row {}", token_id(n));
        assert_corrupt(
            TokenRepository::get(&store, token_id(n)).await,
            &row,
            rule,
            &format!("get after {edit}"),
        );
        assert_corrupt(
            revoke(&store, token_id(n), space_id(n), epoch()).await,
            &row,
            rule,
            &format!("revoke after {edit}"),
        );
        if n != 12 {
            assert_corrupt(
                TokenRepository::list(&store, &all_of_space(n)).await,
                &row,
                rule,
                &format!("list after {edit}"),
            );
        }
    }

    // The damage stays with the broken rows: a healthy space still lists, and the instance-admin
    // probe reads no row at all.
    SpaceRepository::insert(&store, &space(99)).await.unwrap();
    let healthy = token(99, space_id(99), TokenLevel::Admin);
    assert!(insert(&store, &healthy).await.unwrap());
    assert_eq!(
        TokenRepository::list(&store, &all_of_space(99))
            .await
            .unwrap(),
        vec![healthy]
    );
    assert!(store.any_instance_admin().await.unwrap());
}

#[tokio::test]
async fn spaces_edited_to_break_a_domain_rule_read_as_corrupt() {
    let db = TestDatabase::create().await;
    let store = db.store();
    sqlx::raw_sql(DROP_CHECKS).execute(db.pool()).await.unwrap();
    let cases: &[(u128, &str, &str)] = &[
        (1, r"name = E'line\nbreak'", "control characters"),
        (2, "name = 'trailing '", "stored trimmed"),
        (3, "name = ''", "must not be empty"),
        (
            4,
            "created_at = 'infinity'",
            "created_at is out of the supported range",
        ),
    ];
    for &(n, edit, rule) in cases {
        SpaceRepository::insert(&store, &space(n)).await.unwrap();
        sqlx::query(&format!("UPDATE spaces SET {edit} WHERE id = $1"))
            .bind(space_id(n).as_uuid())
            .execute(db.pool())
            .await
            .unwrap();
        let row = format!("spaces row {}", space_id(n));
        assert_corrupt(
            SpaceRepository::get(&store, space_id(n)).await,
            &row,
            rule,
            edit,
        );
        let before = (n > 1).then(|| space_id(n - 1));
        assert_corrupt(
            SpaceRepository::list(&store, before, 1).await,
            &row,
            rule,
            edit,
        );
    }
}

#[tokio::test]
async fn events_edited_to_break_a_domain_rule_read_as_corrupt() {
    let db = TestDatabase::create().await;
    let store = db.store();
    sqlx::raw_sql(DROP_CHECKS).execute(db.pool()).await.unwrap();
    let cases: &[(u128, &str, &str)] = &[
        (
            1,
            "action = 'token.deleted'",
            "action: unknown audit action",
        ),
        (2, "action = ''", "action: unknown audit action"),
        (3, "actor = 'robot'", "actor: created_by must be"),
        (4, "actor = 'token:not-a-uuid'", "actor: created_by must be"),
        (5, "at = 'infinity'", "at is out of the supported range"),
    ];
    for &(n, edit, rule) in cases {
        SpaceRepository::insert(&store, &space(n)).await.unwrap();
        let recorded = event(
            n,
            AuditAction::TokenRejected,
            &token(n, space_id(n), TokenLevel::Client),
        );
        AuditRepository::record(&store, &recorded).await.unwrap();
        sqlx::query(&format!("UPDATE audit_events SET {edit} WHERE id = $1"))
            .bind(recorded.id.as_uuid())
            .execute(db.pool())
            .await
            .unwrap();
        let row = format!("audit_events row {}", recorded.id);
        assert_corrupt(
            AuditRepository::list(&store, space_id(n), None, 10).await,
            &row,
            rule,
            edit,
        );
    }
    // Other spaces' logs still read.
    SpaceRepository::insert(&store, &space(99)).await.unwrap();
    let healthy = event(
        99,
        AuditAction::TokenCreated,
        &token(99, space_id(99), TokenLevel::Client),
    );
    AuditRepository::record(&store, &healthy).await.unwrap();
    assert_eq!(
        AuditRepository::list(&store, space_id(99), None, 10)
            .await
            .unwrap(),
        vec![healthy]
    );
}
