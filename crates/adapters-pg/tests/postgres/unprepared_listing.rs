//! The token listing runs unprepared, so that Postgres plans every run with its values: a
//! prepared statement switches to a generic plan after five runs on a connection, and for a set
//! of rare statuses with a level that plan reads the whole space (docs/performance.md, "A set
//! of rare statuses"). Checked on a pool of one connection, where every statement the store
//! runs meets the same `pg_prepared_statements`.

use tollgate_app::ports::{ListOrder, SpaceRepository, StatusFilter, TokenQuery, TokenRepository};
use tollgate_app::testing::fixtures::{space, space_id, token_id};
use tollgate_domain::{TokenLevel, TokenStatus};
use tollgate_pg::testing::TestDatabase;
use tollgate_pg::{PgOptions, PgStore};

/// More than the five custom plans Postgres makes of a prepared statement before it may switch
/// to the generic one.
const LISTINGS: usize = 8;

#[tokio::test]
async fn a_listing_is_never_left_prepared_on_its_connection_while_a_get_is() {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(
        db.url(),
        PgOptions {
            max_connections: 1,
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    // Tokens 1 to 100 of space 1, one in ten admin; among them 7 and 70 rotated (pointing at
    // themselves: only the status matters here) and 50 suspended.
    sqlx::raw_sql(
        r"
        INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
        SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(n), 12, '0'))::uuid,
               '00000000-0000-0000-0000-000000000001',
               CASE WHEN n % 10 = 0 THEN 'admin' ELSE 'client' END,
               'token ' || n, now(), 'system', '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'
        FROM generate_series(1, 100) n;
        UPDATE api_tokens SET replaced_by = id, rotated_at = now()
        WHERE id IN ('00000000-0000-0000-0000-000000000007', '00000000-0000-0000-0000-000000000046');
        UPDATE api_tokens SET suspended_at = now()
        WHERE id = '00000000-0000-0000-0000-000000000032';
        ",
    )
    .execute(db.pool())
    .await
    .unwrap();

    // A prepared query on the same connection, so that the check below is not vacuous.
    assert!(TokenRepository::get(&store, token_id(7))
        .await
        .unwrap()
        .is_some());
    let query = TokenQuery {
        space_id: space_id(1),
        level: Some(TokenLevel::Admin),
        statuses: StatusFilter::of(&[TokenStatus::Suspended, TokenStatus::Rotated]),
        now: time::OffsetDateTime::now_utc(),
        name: None,
        after: None,
        limit: 51,
        order: ListOrder::OldestFirst,
    };
    for _ in 0..LISTINGS {
        let listed: Vec<_> = TokenRepository::list(&store, &query)
            .await
            .unwrap()
            .iter()
            .map(tollgate_domain::ApiToken::id)
            .collect();
        assert_eq!(listed, [token_id(50), token_id(70)]);
    }

    let prepared: Vec<String> = sqlx::query_scalar("SELECT statement FROM pg_prepared_statements")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(
        prepared
            .iter()
            .any(|sql| sql.contains("FROM api_tokens WHERE id = $1")),
        "the get should be prepared on the one connection: {prepared:#?}"
    );
    assert!(
        !prepared
            .iter()
            .any(|sql| sql.contains("FROM api_tokens WHERE space_id = ")),
        "the listing should not be prepared: {prepared:#?}"
    );
}
