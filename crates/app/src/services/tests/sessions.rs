//! Console sessions: who may sign in, what a session remembers, when it ends, and what happens
//! when the session store fails.

use tollgate_domain::SessionTimeouts;

use super::*;
use crate::ports::{MockSessionRepository, SessionRepository};

/// A core, its session service, and the instance admin token's string.
async fn signed_core() -> (TestCore, SessionService, String) {
    let core = TestCore::new();
    let admin = core
        .tokens
        .ensure_instance_admin()
        .await
        .unwrap()
        .unwrap()
        .secret()
        .expose()
        .to_owned();
    let sessions = core.session_service();
    (core, sessions, admin)
}

#[tokio::test]
async fn only_admin_level_tokens_sign_in_and_the_session_holds_no_token() {
    let (core, sessions, admin) = signed_core().await;
    let (id, signed_in) = sessions.sign_in(&admin, None).await.unwrap();
    assert!(matches!(signed_in.actor, Actor::InstanceAdmin { .. }));
    let stored = core
        .store
        .sessions
        .get(&id.digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.token_id(), signed_in.token.id());
    assert!(!format!("{stored:?}").contains(&admin[4..30]));

    let actor = Actor::for_identity(&signed_in.token);
    let space = core
        .spaces
        .create(
            &actor,
            NewSpace {
                name: SpaceName::parse("acme").unwrap(),
            },
        )
        .await
        .unwrap()
        .id;
    let client = core
        .tokens
        .create(&actor, space, new_token("c", TokenLevel::Client))
        .await
        .unwrap();
    assert!(matches!(
        sessions.sign_in(client.secret().expose(), None).await,
        Err(SignInError::ClientToken)
    ));
    assert!(matches!(
        sessions.sign_in("tgi_nonsense", None).await,
        Err(SignInError::Invalid)
    ));
}

#[tokio::test]
async fn resume_finds_the_actor_and_writes_the_last_use_at_most_once_a_minute() {
    let (core, sessions, admin) = signed_core().await;
    let (id, _) = sessions.sign_in(&admin, None).await.unwrap();
    let begun = core.clock.now();
    core.clock.advance(Duration::seconds(30));
    sessions.resume(&id).await.unwrap();
    let stored = core
        .store
        .sessions
        .get(&id.digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_seen_at(), begun, "no write within the minute");
    core.clock.advance(Duration::seconds(31));
    let resumed = sessions.resume(&id).await.unwrap();
    assert_eq!(resumed.session.last_seen_at(), core.clock.now());
    let stored = core
        .store
        .sessions
        .get(&id.digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_seen_at(), core.clock.now());
}

#[tokio::test]
async fn an_ended_session_is_deleted_and_a_new_sign_in_sweeps_the_others() {
    let (core, sessions, admin) = signed_core().await;
    let sessions = sessions
        .with_timeouts(SessionTimeouts::new(Duration::minutes(5), Duration::hours(1)).unwrap());
    let (first, _) = sessions.sign_in(&admin, None).await.unwrap();
    let (second, _) = sessions.sign_in(&admin, None).await.unwrap();
    core.clock.advance(Duration::minutes(5));
    assert!(matches!(
        sessions.resume(&first).await,
        Err(ResumeError::Ended)
    ));
    assert!(core
        .store
        .sessions
        .get(&first.digest())
        .await
        .unwrap()
        .is_none());
    assert!(core
        .store
        .sessions
        .get(&second.digest())
        .await
        .unwrap()
        .is_some());
    sessions.sign_in(&admin, None).await.unwrap();
    assert!(
        core.store
            .sessions
            .get(&second.digest())
            .await
            .unwrap()
            .is_none(),
        "swept at the next sign-in"
    );
}

#[tokio::test]
async fn a_session_signed_in_with_a_token_that_is_then_suspended_ends() {
    let (core, sessions, admin) = signed_core().await;
    let (_, signed_in) = sessions.sign_in(&admin, None).await.unwrap();
    let instance_admin = signed_in.actor;
    let space = core
        .spaces
        .create(
            &instance_admin,
            NewSpace {
                name: SpaceName::parse("acme").unwrap(),
            },
        )
        .await
        .unwrap()
        .id;
    let space_admin = core
        .tokens
        .create(
            &instance_admin,
            space,
            new_token("console", TokenLevel::Admin),
        )
        .await
        .unwrap();
    let (id, _) = sessions
        .sign_in(space_admin.secret().expose(), None)
        .await
        .unwrap();
    assert!(sessions.resume(&id).await.is_ok());
    core.tokens
        .suspend(&instance_admin, space, space_admin.token().id())
        .await
        .unwrap();
    assert!(matches!(
        sessions.resume(&id).await,
        Err(ResumeError::Ended)
    ));
    core.tokens
        .resume(&instance_admin, space, space_admin.token().id())
        .await
        .unwrap();
    assert!(
        matches!(sessions.resume(&id).await, Err(ResumeError::Ended)),
        "the session was deleted: resuming the token does not bring it back"
    );
    assert!(sessions
        .sign_in(space_admin.secret().expose(), None)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_nonce_is_claimed_once_and_can_be_given_back() {
    let (_, sessions, admin) = signed_core().await;
    let (_, signed_in) = sessions.sign_in(&admin, None).await.unwrap();
    let nonce = new_form_nonce().unwrap();
    assert!(sessions.claim_nonce(&signed_in, &nonce).await.unwrap());
    assert!(!sessions.claim_nonce(&signed_in, &nonce).await.unwrap());
    sessions.release_nonce(&signed_in, &nonce).await.unwrap();
    assert!(sessions.claim_nonce(&signed_in, &nonce).await.unwrap());
}

fn service_over(core: &TestCore, store: MockSessionRepository) -> SessionService {
    SessionService::new(
        Arc::new(store),
        core.store.tokens.clone(),
        Arc::clone(core.tokens.verifier()),
        core.clock.clone(),
    )
}

#[tokio::test]
async fn a_session_store_that_is_down_is_a_store_error_never_a_sign_in() {
    let (core, _, admin) = signed_core().await;
    let mut store = MockSessionRepository::new();
    store.expect_delete_ended().returning(|_| Ok(0));
    store.expect_insert().returning(|_| Err(down()));
    store.expect_get().returning(|_| Err(down()));
    let sessions = service_over(&core, store);
    assert!(matches!(
        sessions.sign_in(&admin, None).await,
        Err(SignInError::Store(ref e)) if e.is_unavailable()
    ));
    let id = SessionId::generate().unwrap();
    assert!(matches!(
        sessions.resume(&id).await,
        Err(ResumeError::Store(ref e)) if e.is_unavailable()
    ));
}

#[tokio::test]
async fn a_failing_sweep_does_not_stop_a_sign_in() {
    let (core, _, admin) = signed_core().await;
    let mut store = MockSessionRepository::new();
    store
        .expect_delete_ended()
        .times(1)
        .returning(|_| Err(down()));
    store.expect_insert().times(1).returning(|_| Ok(true));
    let sessions = service_over(&core, store);
    assert!(sessions.sign_in(&admin, None).await.is_ok());
}
