//! The app's session contract suite, every case on a fresh database, and what the schema adds
//! to it: a session goes with its token, and hand-written rows that break a rule are refused
//! by name.

use std::sync::Arc;

use tollgate_app::ports::{SessionRepository, SpaceRepository};
use tollgate_app::testing::contract::Repositories;
use tollgate_app::testing::fixtures::{epoch, insert, space, space_id, token, token_id};
use tollgate_app::testing::sessions::{digest, nonce, SessionStore};
use tollgate_app::StoreError;
use tollgate_domain::{ConsoleSession, TokenLevel};
use tollgate_pg::testing::TestDatabase;

async fn fresh() -> SessionStore {
    // The store keeps its database alive until the test drops it.
    let store = TestDatabase::create().await.store();
    SessionStore {
        sessions: Arc::new(store.clone()),
        repositories: Repositories {
            spaces: Arc::new(store.clone()),
            tokens: Arc::new(store.clone()),
            events: Arc::new(store),
        },
    }
}

tollgate_app::session_contract_tests!(fresh);

/// A store holding space 1, client tokens 1 and 2, and sessions 1 and 2 of token 1 and session
/// 3 of token 2, each with nonce 1 claimed.
async fn with_sessions(db: &TestDatabase) -> Arc<dyn SessionRepository> {
    let store = db.store();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in [1, 2] {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    let sessions: Arc<dyn SessionRepository> = Arc::new(store);
    for (session, of) in [(1, 1), (2, 1), (3, 2)] {
        let begun = ConsoleSession::begin(digest(session), token_id(of), epoch());
        assert!(sessions.insert(&begun).await.unwrap());
        assert!(sessions
            .claim_nonce(&digest(session), &nonce(1), epoch())
            .await
            .unwrap());
    }
    sessions
}

#[tokio::test]
async fn deleting_a_token_deletes_its_sessions_and_their_nonces() {
    let db = TestDatabase::create().await;
    let store = with_sessions(&db).await;
    sqlx::query("DELETE FROM api_tokens WHERE id = $1")
        .bind(token_id(1).as_uuid())
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(store.get(&digest(1)).await.unwrap(), None);
    assert_eq!(store.get(&digest(2)).await.unwrap(), None);
    assert!(store.get(&digest(3)).await.unwrap().is_some());
    let nonces: Vec<Vec<u8>> = sqlx::query_scalar("SELECT session_digest FROM console_nonces")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(nonces, [digest(3).as_bytes().to_vec()]);
}

#[tokio::test]
async fn a_session_of_an_unknown_token_is_refused_in_the_adapters_words() {
    let store: Arc<dyn SessionRepository> = Arc::new(TestDatabase::create().await.store());
    let orphan = ConsoleSession::begin(digest(1), token_id(1), epoch());
    let refused = store.insert(&orphan).await.unwrap_err();
    assert!(matches!(refused, StoreError::Failed(_)), "{refused:?}");
    assert!(
        format!("{refused:?}").contains("does not exist"),
        "{refused:?}"
    );
    assert_eq!(store.get(&digest(1)).await.unwrap(), None);
}

#[tokio::test]
async fn hand_written_session_rows_that_break_a_rule_are_refused_by_name() {
    let db = TestDatabase::create().await;
    with_sessions(&db).await;
    let token = "'00000000-0000-0000-0000-000000000001'";
    for (sql, constraint) in [
        (
            format!("INSERT INTO console_sessions VALUES ('\\x0102', {token}, now(), now())"),
            "console_sessions_digest_is_sha256",
        ),
        (
            "INSERT INTO console_sessions VALUES (sha256('x'), gen_random_uuid(), now(), now())"
                .to_owned(),
            "console_sessions_token_id_fkey",
        ),
        (
            "INSERT INTO console_nonces SELECT digest, '\\x01'::bytea, now() FROM console_sessions"
                .to_owned(),
            "console_nonces_nonce_is_128_bits",
        ),
        (
            "INSERT INTO console_nonces VALUES (sha256('x'), substring(sha256('y') for 16), now())"
                .to_owned(),
            "console_nonces_session_digest_fkey",
        ),
    ] {
        let Err(sqlx::Error::Database(refused)) = sqlx::query(&sql).execute(db.pool()).await else {
            panic!("{sql} was accepted");
        };
        assert_eq!(refused.constraint(), Some(constraint), "{sql}");
    }
}
