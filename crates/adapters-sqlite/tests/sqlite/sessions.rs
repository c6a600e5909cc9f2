//! The app's session contract suite, every case on a fresh file, and what the schema adds to
//! it: a session goes with its token.

use std::sync::Arc;

use sqlx::{Connection, SqliteConnection};
use tollgate_app::ports::{SessionRepository, SpaceRepository};
use tollgate_app::testing::contract::Repositories;
use tollgate_app::testing::fixtures::{epoch, insert, space, space_id, token, token_id};
use tollgate_app::testing::sessions::{digest, nonce, SessionStore};
use tollgate_domain::{ConsoleSession, TokenLevel};
use tollgate_sqlite::testing::TestFile;

async fn fresh() -> SessionStore {
    // The store keeps its directory until the test drops it.
    let store = TestFile::create().await.open().await;
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

#[tokio::test]
async fn deleting_a_token_deletes_its_sessions_and_their_nonces() {
    let file = TestFile::create().await;
    let store = file.open().await;
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in [1, 2] {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    let sessions: &dyn SessionRepository = &store;
    for (session, of) in [(1, 1), (2, 1), (3, 2)] {
        let begun = ConsoleSession::begin(digest(session), token_id(of), epoch());
        assert!(sessions.insert(&begun).await.unwrap());
        assert!(sessions
            .claim_nonce(&digest(session), &nonce(1), epoch())
            .await
            .unwrap());
    }
    let mut connection = SqliteConnection::connect(&file.url()).await.unwrap();
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query("DELETE FROM api_tokens WHERE id = ?")
        .bind(token_id(1).as_uuid())
        .execute(&mut connection)
        .await
        .unwrap();
    assert_eq!(sessions.get(&digest(1)).await.unwrap(), None);
    assert_eq!(sessions.get(&digest(2)).await.unwrap(), None);
    assert!(sessions.get(&digest(3)).await.unwrap().is_some());
    let nonces: Vec<Vec<u8>> = sqlx::query_scalar("SELECT session_digest FROM console_nonces")
        .fetch_all(&mut connection)
        .await
        .unwrap();
    assert_eq!(nonces, [digest(3).as_bytes().to_vec()]);
}

#[tokio::test]
async fn a_session_of_an_unknown_token_is_refused() {
    let store = TestFile::create().await.open().await;
    let sessions: &dyn SessionRepository = &store;
    let orphan = ConsoleSession::begin(digest(1), token_id(1), epoch());
    let refused = sessions.insert(&orphan).await.unwrap_err();
    assert!(
        refused.to_string().contains("token store failed")
            && format!("{refused:?}").contains("does not exist"),
        "{refused:?}"
    );
    assert_eq!(sessions.get(&digest(1)).await.unwrap(), None);
}
