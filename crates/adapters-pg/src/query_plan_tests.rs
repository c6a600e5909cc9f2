//! The adapter's own statements, as Postgres plans them over tens of thousands of rows, use
//! the indexes: lookups and writes by id, a batch of uses, keyset pages of a space's tokens (in
//! both orders) and events, `any_instance_admin`, console sessions and nonces by key and the
//! sweep of ended sessions, the export's pages of every row. Each statement is planned both as
//! a custom plan and as the generic plan Postgres switches to for a prepared statement run
//! often, which is the plan the hot path ends up with (the sweep excepted, see
//! `assert_ended_sessions_plan`). The token listing runs unprepared, planned with its values
//! every time (see `TokenRepository::list` in `tokens.rs`), so its custom plan is the one that
//! runs. Its generic plans are still checked where they hold (a single status, with or without
//! a level), so that a listing would stay fast if it were ever prepared again; they do not hold
//! for a set of rare statuses with a level (docs/performance.md, "A set of rare statuses").
//!
//! These tests live in the crate, not in `tests/`, to plan the very SQL text the adapter runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Executor, Row};
use time::OffsetDateTime;
use tollgate_app::ports::{ListOrder, StatusFilter, TokenQuery};
use tollgate_domain::{SpaceId, TokenId, TokenLevel, TokenStatus};
use uuid::Uuid;

use crate::testing::TestDatabase;
use crate::{audit, sessions, spaces, tokens, transfer};

const SPACES: u32 = 2_000;
const TOKENS: u32 = 40_000;
/// Tokens of space 1; the others share the rest.
const BIG_SPACE_TOKENS: u32 = 20_000;
/// Audit events, spread over the spaces as the tokens are.
const EVENTS: u32 = 40_000;

/// The id of seeded space `n` (1-based), as SQL builds it.
fn space(n: u32) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-7000-8000-{n:012x}")).unwrap()
}

async fn seeded() -> TestDatabase {
    let db = TestDatabase::create().await;
    let seed = format!(
        r"
        INSERT INTO spaces (id, name, created_at)
        SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(s), 12, '0'))::uuid, 'space ' || s, now()
        FROM generate_series(1, {SPACES}) s;

        -- A third revoked; of the rest, one in seven rotated (pointing at itself: only the
        -- shape matters here), and one in five expired a day ago.
        INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, expires_at,
                                revoked_at, replaced_by, rotated_at, secret_hash)
        SELECT id,
               ('00000000-0000-7000-8000-'
                || lpad(to_hex(CASE WHEN n <= {BIG_SPACE_TOKENS} THEN 1 ELSE 2 + n % ({SPACES} - 1) END), 12, '0'))::uuid,
               CASE WHEN n % 10 = 0 THEN 'admin' ELSE 'client' END,
               'token ' || n, now(), 'system',
               CASE WHEN n % 5 = 1 THEN now() - interval '1 day' END,
               CASE WHEN n % 3 = 0 THEN now() END,
               CASE WHEN n % 3 <> 0 AND n % 7 = 0 THEN id END,
               CASE WHEN n % 3 <> 0 AND n % 7 = 0 THEN now() END,
               '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'
        FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, {TOKENS}) n) seeded;

        INSERT INTO audit_events (id, at, action, actor, token_id, space_id)
        SELECT gen_random_uuid(), now(), 'token.created', 'system', gen_random_uuid(),
               ('00000000-0000-7000-8000-'
                || lpad(to_hex(CASE WHEN n <= {EVENTS} / 2 THEN 1 ELSE 2 + n % ({SPACES} - 1) END), 12, '0'))::uuid
        FROM generate_series(1, {EVENTS}) n;

        INSERT INTO api_tokens (id, space_id, level, name, created_at, created_by, secret_hash)
        VALUES (gen_random_uuid(), NULL, 'admin', 'bootstrap', now(), 'system',
                '$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA');

        -- Console sessions of half the tokens, begun over the last week and seen over the last
        -- day, each with a claimed nonce.
        INSERT INTO console_sessions (digest, token_id, created_at, last_seen_at)
        SELECT sha256(convert_to(id::text, 'UTF8')), id,
               now() - (n % 10080) * interval '1 minute', now() - (n % 1440) * interval '1 minute'
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM api_tokens) t
        WHERE n % 2 = 0;
        INSERT INTO console_nonces (session_digest, nonce, claimed_at)
        SELECT digest, substring(sha256(digest) FOR 16), now() FROM console_sessions;

        ANALYZE spaces;
        ANALYZE api_tokens;
        ANALYZE audit_events;
        ANALYZE console_sessions;
        ANALYZE console_nonces;
        "
    );
    db.pool().execute(sqlx::raw_sql(&seed)).await.unwrap();
    db
}

/// The plan of `sql` run with `args` (SQL literals), as text, under `plan_cache_mode`.
async fn plan(db: &TestDatabase, sql: &str, args: &[String], mode: &str) -> String {
    let mut pooled = db.pool().acquire().await.unwrap();
    let conn = &mut *pooled;
    let setup = format!("DEALLOCATE ALL; SET plan_cache_mode = {mode}; PREPARE planned AS {sql};");
    conn.execute(sqlx::raw_sql(&setup)).await.unwrap();
    let explain = if args.is_empty() {
        "EXPLAIN EXECUTE planned".to_owned()
    } else {
        format!("EXPLAIN EXECUTE planned({})", args.join(", "))
    };
    let rows = conn.fetch_all(sqlx::raw_sql(&explain)).await.unwrap();
    conn.execute(sqlx::raw_sql("DEALLOCATE ALL; RESET plan_cache_mode;"))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

fn literal(id: Uuid) -> String {
    format!("'{id}'")
}

/// Asserts, in both plan modes, that `sql` reads through `index` and never scans the table; and
/// with `in_order`, that the index delivers the rows in order, so a page costs its own size
/// rather than a sort of the whole space.
async fn assert_plan(
    db: &TestDatabase,
    what: &str,
    sql: &str,
    args: &[String],
    index: &str,
    in_order: bool,
) {
    for mode in ["force_custom_plan", "force_generic_plan"] {
        let plan = plan(db, sql, args, mode).await;
        assert!(
            plan.contains(index)
                && !plan.contains("Seq Scan")
                && !(in_order && plan.contains("Sort")),
            "{what} ({mode}) should use {index}{}; plan:\n{plan}",
            if in_order { " in order" } else { "" }
        );
    }
}

fn literals(ids: &[Uuid], cast: &str) -> String {
    let list: Vec<String> = ids.iter().map(|id| literal(*id)).collect();
    format!("ARRAY[{}]::{cast}", list.join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_and_writes_by_id_and_keyset_pages_use_the_indexes() {
    let db = seeded().await;
    let big = space(1);
    let small = space(42);
    let big_tokens: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM api_tokens WHERE space_id = $1 ORDER BY id LIMIT 200")
            .bind(big)
            .fetch_all(db.pool())
            .await
            .unwrap();
    let big_token = big_tokens[100];
    let big_event: Uuid = sqlx::query_scalar(
        "SELECT id FROM audit_events WHERE space_id = $1 ORDER BY id DESC OFFSET 100 LIMIT 1",
    )
    .bind(big)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let limit = "51".to_owned();
    let now = "now()".to_owned();
    let event = |token: Uuid, action: &str| {
        vec![
            literal(Uuid::now_v7()),
            now.clone(),
            format!("'{action}'"),
            "'system'".to_owned(),
            literal(token),
            literal(big),
            "NULL".to_owned(),
            "NULL".to_owned(),
        ]
    };
    let space_event = |space: Uuid, action: &str| {
        vec![
            literal(Uuid::now_v7()),
            now.clone(),
            format!("'{action}'"),
            "'system'".to_owned(),
            "NULL".to_owned(),
            literal(space),
            "NULL".to_owned(),
            "NULL".to_owned(),
        ]
    };
    let new_id = Uuid::now_v7();
    let new_token = [
        literal(new_id),
        literal(big),
        "'client'".to_owned(),
        "'rotated'".to_owned(),
        now.clone(),
        "'system'".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        literal(big_token),
        "NULL".to_owned(),
        "NULL".to_owned(),
        "'$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA'".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
    ];

    let by_id = [
        (
            "get space",
            spaces::GET,
            vec![literal(small)],
            "spaces_pkey",
        ),
        (
            "first spaces page",
            spaces::LIST_FIRST,
            vec![limit.clone()],
            "spaces_living_id_idx",
        ),
        (
            "next spaces page",
            spaces::LIST_AFTER,
            vec![literal(small), limit.clone()],
            "spaces_living_id_idx",
        ),
        (
            "lock a space to rename or delete it",
            spaces::LOCK,
            vec![literal(small)],
            "spaces_pkey",
        ),
        (
            "rename a space",
            spaces::RENAME,
            [
                vec![literal(small), "'renamed'".to_owned()],
                space_event(small, "space.renamed"),
            ]
            .concat(),
            "spaces_pkey",
        ),
        (
            "mark a space deleted",
            spaces::MARK_DELETED,
            vec![literal(small), now.clone()],
            "spaces_pkey",
        ),
        (
            // A small space's tokens; a big space's deletion may rightly read the table.
            "revoke a deleted space's tokens",
            spaces::REVOKE_SPACE_TOKENS,
            vec![literal(small), now.clone()],
            "api_tokens_space_id_id_idx",
        ),
        (
            "lock the living space of a rotation",
            spaces::LOCK_LIVING_SPACE,
            vec![literal(small)],
            "spaces_",
        ),
        (
            "insert a token into its living space",
            tokens::INSERT,
            [new_token.to_vec(), event(new_id, "token.created")].concat(),
            "spaces_",
        ),
        (
            "get token",
            tokens::GET,
            vec![literal(big_token)],
            "api_tokens_pkey",
        ),
        (
            "revoke token",
            tokens::REVOKE,
            [
                vec![
                    literal(big_token),
                    "NULL".to_owned(),
                    now.clone(),
                    "NULL".to_owned(),
                    "NULL".to_owned(),
                    "NULL".to_owned(),
                ],
                event(big_token, "token.revoked"),
            ]
            .concat(),
            "api_tokens_pkey",
        ),
        (
            "update token",
            tokens::UPDATE_DETAILS,
            [
                vec![
                    literal(big_token),
                    "'renamed'".to_owned(),
                    "'described'".to_owned(),
                    "NULL".to_owned(),
                ],
                event(big_token, "token.updated"),
            ]
            .concat(),
            "api_tokens_pkey",
        ),
        (
            "lock a token to rotate",
            tokens::LOCK,
            vec![literal(big_token)],
            "api_tokens_pkey",
        ),
        (
            "rotate token",
            tokens::ROTATE,
            [
                vec![
                    literal(big_token),
                    now.clone(),
                    "NULL".to_owned(),
                    literal(new_id),
                    now.clone(),
                    "NULL".to_owned(),
                ],
                new_token.to_vec(),
                event(big_token, "token.rotated"),
            ]
            .concat(),
            "api_tokens_pkey",
        ),
        (
            // A flush's batch; one much larger than a small table may rightly be hash-joined.
            "record uses",
            tokens::RECORD_USES,
            vec![
                literals(&big_tokens[..50], "uuid[]"),
                "array_fill(now(), ARRAY[50])".to_owned(),
                "array_fill('192.0.2.1'::inet, ARRAY[50])".to_owned(),
                "array_fill(NULL::text, ARRAY[50])".to_owned(),
                "array_fill('$argon2id$v=19$m=8,t=1,p=1$c2FsdA$bmV3'::text, ARRAY[50])".to_owned(),
            ],
            "api_tokens_pkey",
        ),
        (
            "any instance admin",
            tokens::ANY_INSTANCE_ADMIN,
            vec![],
            "api_tokens_space_",
        ),
    ];
    for (what, sql, args, index) in by_id {
        assert_plan(&db, what, sql, &args, index, false).await;
    }

    // An export reads every row in pages of the primary key, in order: a million tokens cost a
    // thousand index range reads, never a sort of the table.
    let export_page = "1000".to_owned();
    // Cursors near the start, so that most of the table lies after them.
    let early = |table: &str| {
        let sql = format!("SELECT id FROM {table} ORDER BY id OFFSET 100 LIMIT 1");
        let pool = db.pool().clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(&sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (early_token, early_event) = (early("api_tokens").await, early("audit_events").await);
    let export_pages = [
        (
            "first export page of tokens",
            transfer::EXPORT_TOKENS_FIRST,
            vec![export_page.clone()],
            "api_tokens_pkey",
        ),
        (
            "next export page of tokens",
            transfer::EXPORT_TOKENS_AFTER,
            vec![literal(early_token), export_page.clone()],
            "api_tokens_pkey",
        ),
        (
            "first export page of events",
            transfer::EXPORT_EVENTS_FIRST,
            vec![export_page.clone()],
            "audit_events_pkey",
        ),
        (
            "next export page of events",
            transfer::EXPORT_EVENTS_AFTER,
            vec![literal(early_event), export_page],
            "audit_events_pkey",
        ),
    ];
    for (what, sql, args, index) in export_pages {
        assert_plan(&db, what, sql, &args, index, true).await;
    }

    let sessions = session_statements(&db).await;
    for (what, sql, args, index) in sessions {
        assert_plan(&db, what, sql, &args, index, false).await;
    }
    assert_ended_sessions_plan(&db).await;

    let first_active = |space_id: Uuid| TokenQuery {
        space_id: SpaceId::from_uuid(space_id),
        level: None,
        statuses: StatusFilter::ACTIVE,
        now: OffsetDateTime::now_utc(),
        name: None,
        after: None,
        limit: 51,
        order: ListOrder::OldestFirst,
    };
    let pages = [
        (
            "first page of active tokens",
            first_active(big),
            vec![literal(big), now.clone(), limit.clone()],
            "api_tokens_live_space_",
        ),
        (
            "next page of active client tokens",
            TokenQuery {
                level: Some(TokenLevel::Client),
                after: Some(TokenId::from_uuid(big_token)),
                ..first_active(big)
            },
            vec![
                literal(big),
                now.clone(),
                "'client'".to_owned(),
                literal(big_token),
                limit.clone(),
            ],
            "api_tokens_live_space_",
        ),
        (
            "next page of all tokens",
            TokenQuery {
                statuses: StatusFilter::ALL,
                after: Some(TokenId::from_uuid(big_token)),
                ..first_active(big)
            },
            vec![literal(big), literal(big_token), limit.clone()],
            "api_tokens_space_id_id_idx",
        ),
        (
            "newest page of active tokens",
            TokenQuery {
                order: ListOrder::NewestFirst,
                ..first_active(big)
            },
            vec![literal(big), now.clone(), limit.clone()],
            "api_tokens_live_space_",
        ),
        (
            "next newest page of active client tokens",
            TokenQuery {
                level: Some(TokenLevel::Client),
                after: Some(TokenId::from_uuid(big_token)),
                order: ListOrder::NewestFirst,
                ..first_active(big)
            },
            vec![
                literal(big),
                now.clone(),
                "'client'".to_owned(),
                literal(big_token),
                limit.clone(),
            ],
            "api_tokens_live_space_",
        ),
        (
            "next newest page of all tokens",
            TokenQuery {
                statuses: StatusFilter::ALL,
                after: Some(TokenId::from_uuid(big_token)),
                order: ListOrder::NewestFirst,
                ..first_active(big)
            },
            vec![literal(big), literal(big_token), limit.clone()],
            "api_tokens_space_id_id_idx",
        ),
        (
            "first page of revoked tokens",
            TokenQuery {
                statuses: StatusFilter::of(&[TokenStatus::Revoked]),
                ..first_active(big)
            },
            vec![literal(big), limit.clone()],
            "api_tokens_revoked_space_id_idx",
        ),
    ];
    let events = [
        (
            "first page of events",
            audit::LIST_FIRST,
            vec![literal(big), limit.clone()],
            "audit_events_space_id_id_idx",
        ),
        (
            "next page of events",
            audit::LIST_BEFORE,
            vec![literal(big), literal(big_event), limit.clone()],
            "audit_events_space_id_id_idx",
        ),
    ];
    let pages = pages
        .into_iter()
        .map(|(what, query, args, index)| {
            (
                what,
                tokens::list_statement(&query).sql().to_owned(),
                args,
                index,
            )
        })
        .chain(
            events
                .into_iter()
                .map(|(what, sql, args, index)| (what, sql.to_owned(), args, index)),
        );
    for (what, sql, args, index) in pages {
        // In the big space, in order; in a small one Postgres may as well sort a dozen rows.
        assert_plan(
            &db,
            &format!("{what} (big space)"),
            &sql,
            &args,
            index,
            true,
        )
        .await;
        let mut small_args = args.clone();
        small_args[0] = literal(small);
        assert_plan(
            &db,
            &format!("{what} (small space)"),
            &sql,
            &small_args,
            index,
            false,
        )
        .await;
    }
}

/// A seeded session's digest and the nonce it claimed, as SQL literals.
async fn a_session(db: &TestDatabase) -> (String, String) {
    let (digest, nonce): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT session_digest, nonce FROM console_nonces ORDER BY session_digest OFFSET 100 LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let bytea = |bytes: &[u8]| {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("'\\x{hex}'::bytea")
    };
    (bytea(&digest), bytea(&nonce))
}

/// The session statements that find their rows by key, with arguments, and the key's index.
async fn session_statements(
    db: &TestDatabase,
) -> Vec<(&'static str, &'static str, Vec<String>, &'static str)> {
    let (digest, nonce) = a_session(db).await;
    let token = sqlx::query_scalar::<_, Uuid>("SELECT id FROM api_tokens LIMIT 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let now = "now()".to_owned();
    vec![
        (
            "insert a session",
            sessions::INSERT,
            vec![
                "sha256('new')".to_owned(),
                literal(token),
                now.clone(),
                now.clone(),
            ],
            "console_sessions_pkey",
        ),
        (
            "get a session",
            sessions::GET,
            vec![digest.clone()],
            "console_sessions_pkey",
        ),
        (
            "touch a session",
            sessions::TOUCH,
            vec![digest.clone(), now.clone()],
            "console_sessions_pkey",
        ),
        (
            "delete a session",
            sessions::DELETE,
            vec![digest.clone()],
            "console_sessions_pkey",
        ),
        (
            "claim a nonce",
            sessions::CLAIM_NONCE,
            vec![digest.clone(), nonce.clone(), now],
            "console_sessions_pkey",
        ),
        (
            "release a nonce",
            sessions::RELEASE_NONCE,
            vec![digest, nonce],
            "console_nonces_pkey",
        ),
    ]
}

/// Deleting ended sessions reads both timestamp indexes, never the table, when few sessions
/// have ended (as between two sweeps). Only as a custom plan: a generic plan cannot know how
/// many rows the cutoffs select and estimates a third each, so it may scan; Postgres keeps
/// planning such a statement with its arguments for as long as the generic plan costs more
/// than the custom ones, which for a sweep of a few rows is always.
async fn assert_ended_sessions_plan(db: &TestDatabase) {
    let args = [
        "now() - interval '1 day' - interval '1 minute'".to_owned(),
        "now() - interval '7 days' - interval '1 minute'".to_owned(),
    ];
    let plan = plan(db, sessions::DELETE_ENDED, &args, "force_custom_plan").await;
    assert!(
        plan.contains("console_sessions_last_seen_at_idx")
            && plan.contains("console_sessions_created_at_idx")
            && !plan.contains("Seq Scan"),
        "delete ended sessions should read both timestamp indexes; plan:\n{plan}"
    );
}

/// Every `status=` and `level=` filter, and each pair of them, reads a page of a big space in id
/// order through an index (never a scan of the space, never a sort of it), in both orders and
/// both plan modes: the first page and a page after a cursor. So does a name search
/// (`q=`), through pg_trgm's index for a rare term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_and_level_filter_pages_through_an_index_in_order() {
    let db = seeded().await;
    let big = space(1);
    let cursor: Uuid = sqlx::query_scalar(
        "SELECT id FROM api_tokens WHERE space_id = $1 ORDER BY id OFFSET 5000 LIMIT 1",
    )
    .bind(big)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let statuses: Vec<Option<TokenStatus>> = std::iter::once(None)
        .chain(TokenStatus::ALL.into_iter().map(Some))
        .collect();
    for status in statuses {
        for level in [None, Some(TokenLevel::Client), Some(TokenLevel::Admin)] {
            for order in [ListOrder::OldestFirst, ListOrder::NewestFirst] {
                for after in [None, Some(TokenId::from_uuid(cursor))] {
                    let query = TokenQuery {
                        space_id: SpaceId::from_uuid(big),
                        level,
                        statuses: status.map_or(StatusFilter::ALL, |s| StatusFilter::of(&[s])),
                        now: OffsetDateTime::now_utc(),
                        name: None,
                        after,
                        limit: 51,
                        order,
                    };
                    let sql = tokens::list_statement(&query).sql().to_owned();
                    let mut args = vec![literal(big)];
                    if sql.contains("$2")
                        && status.is_some_and(|s| {
                            !matches!(s, TokenStatus::Revoked | TokenStatus::Rotated)
                        })
                    {
                        args.push("now()".to_owned());
                    }
                    if let Some(level) = level {
                        args.push(format!("'{}'", level.as_str()));
                    }
                    if after.is_some() {
                        args.push(literal(cursor));
                    }
                    args.push("51".to_owned());
                    let what =
                        format!("{status:?} {level:?} {order:?} after {:?}", after.is_some());
                    assert_plan(&db, &what, &sql, &args, "api_tokens_", true).await;
                }
            }
        }
    }
    // A name that five tokens of the big space have (`token 1234`'s digits), read through the
    // trigram index.
    let search = TokenQuery {
        space_id: SpaceId::from_uuid(big),
        level: None,
        statuses: StatusFilter::ALL,
        now: OffsetDateTime::now_utc(),
        name: Some(tollgate_domain::NameSearch::parse("en 12345").unwrap()),
        after: None,
        limit: 51,
        order: ListOrder::OldestFirst,
    };
    let sql = tokens::list_statement(&search).sql().to_owned();
    let plan = plan(
        &db,
        &sql,
        &[literal(big), "'%en 12345%'".to_owned(), "51".to_owned()],
        "force_custom_plan",
    )
    .await;
    assert!(
        plan.contains("api_tokens_name_trgm_idx") && !plan.contains("Seq Scan"),
        "a rare name search should read the trigram index; plan:\n{plan}"
    );
}
