//! The session contract: the behaviour every [`SessionRepository`] must have, written once.
//! Each case takes a fresh, empty store: its session repository, and the same store's
//! repositories to hold the tokens that sessions name (SQL stores check that they exist).
//!
//! An adapter crate runs the whole suite with one line in a test file:
//!
//! ```ignore
//! async fn fresh() -> tollgate_app::testing::sessions::SessionStore { /* empty store */ }
//! tollgate_app::session_contract_tests!(fresh);
//! ```
//!
//! which expands to one `#[tokio::test]` per case (the caller needs tokio as a dev-dependency).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tollgate_domain::{ConsoleSession, EndedSessions, FormNonce, SessionDigest, TokenLevel};

use super::contract::Repositories;
use super::fixtures::{self, epoch, space, space_id, token, token_id};
use crate::ports::SessionRepository;

/// A fresh, empty store: its session repository, and its other repositories.
#[derive(Clone)]
pub struct SessionStore {
    /// The store's [`SessionRepository`].
    pub sessions: Arc<dyn SessionRepository>,
    /// The same store's repositories, where the tokens sessions name are stored.
    pub repositories: Repositories,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}

macro_rules! ok {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => panic!("{} failed: {e:?}", stringify!($e)),
        }
    };
}

/// The digest of session `n`: every byte `n`.
#[must_use]
pub const fn digest(n: u8) -> SessionDigest {
    SessionDigest::from_bytes([n; 32])
}

/// Form nonce `n`: every byte `n`.
#[must_use]
pub const fn nonce(n: u8) -> FormNonce {
    FormNonce::from_bytes([n; 16])
}

/// [`epoch`] plus `micros` microseconds: instants at the stores' full precision.
fn at(micros: i64) -> OffsetDateTime {
    epoch() + Duration::microseconds(micros)
}

/// Session `n` of token 1, begun at `micros` after [`epoch`].
fn begun(n: u8, micros: i64) -> ConsoleSession {
    ConsoleSession::begin(digest(n), token_id(1), at(micros))
}

/// Session `n` of token 1 as stored: begun at `created` and last seen at `seen`.
fn stored(n: u8, created: OffsetDateTime, seen: OffsetDateTime) -> ConsoleSession {
    ConsoleSession::restore(digest(n), token_id(1), created, seen)
}

/// Stores space 1 and its client token 1 and admin token 2, which sessions can name.
async fn with_tokens(s: &SessionStore) {
    let r = &s.repositories;
    ok!(r.spaces.insert(&space(1)).await);
    for (n, level) in [(1, TokenLevel::Client), (2, TokenLevel::Admin)] {
        assert!(ok!(fixtures::insert(
            r.tokens.as_ref(),
            &token(n, space_id(1), level)
        )
        .await));
    }
}

async fn insert(s: &SessionStore, session: &ConsoleSession) -> bool {
    ok!(s.sessions.insert(session).await)
}

async fn get(s: &SessionStore, n: u8) -> Option<ConsoleSession> {
    ok!(s.sessions.get(&digest(n)).await)
}

async fn claim(s: &SessionStore, session: u8, form: u8) -> bool {
    ok!(s
        .sessions
        .claim_nonce(&digest(session), &nonce(form), at(0))
        .await)
}

/// A stored session reads back with every field equal, to the microsecond; an unknown digest
/// reads as `None`.
pub async fn a_session_reads_back_with_every_field(s: SessionStore) {
    with_tokens(&s).await;
    let used = stored(1, at(1_234_567), at(3_600_000_001));
    let admin = ConsoleSession::begin(digest(2), token_id(2), at(-999_999));
    for session in [&used, &admin] {
        assert!(insert(&s, session).await);
        assert_eq!(
            ok!(s.sessions.get(session.digest()).await).as_ref(),
            Some(session)
        );
    }
    assert_eq!(get(&s, 2).await.map(|s| s.token_id()), Some(token_id(2)));
    assert_eq!(get(&s, 3).await, None);
}

/// Inserting a digest twice returns `false` and keeps the first session as it was.
pub async fn inserting_a_digest_twice_changes_nothing(s: SessionStore) {
    with_tokens(&s).await;
    let first = begun(1, 0);
    assert!(insert(&s, &first).await);
    let twin = ConsoleSession::restore(digest(1), token_id(2), at(5), at(10));
    assert!(!insert(&s, &twin).await);
    assert_eq!(get(&s, 1).await, Some(first));
}

/// `touch` keeps the later of the stored and the given time, changes nothing else and no other
/// session, and ignores an unknown digest.
pub async fn touch_keeps_the_later_time_and_ignores_unknown_digests(s: SessionStore) {
    with_tokens(&s).await;
    assert!(insert(&s, &begun(1, 0)).await);
    assert!(insert(&s, &begun(2, 0)).await);
    ok!(s.sessions.touch(&digest(1), at(5_000_001)).await);
    ok!(s.sessions.touch(&digest(1), at(2_000_000)).await);
    let touched = get(&s, 1).await;
    assert_eq!(touched, Some(stored(1, at(0), at(5_000_001))));
    assert_eq!(get(&s, 2).await, Some(begun(2, 0)), "another session");
    ok!(s.sessions.touch(&digest(9), at(1)).await);
    assert_eq!(get(&s, 9).await, None, "touching creates nothing");
}

/// Deleting a session deletes the nonces it claimed, not another session's; a session begun
/// again with the same digest claims them afresh. An unknown digest is ignored.
pub async fn deleting_a_session_deletes_its_nonces(s: SessionStore) {
    with_tokens(&s).await;
    assert!(insert(&s, &begun(1, 0)).await);
    assert!(insert(&s, &begun(2, 0)).await);
    assert!(claim(&s, 1, 1).await && claim(&s, 2, 1).await);
    ok!(s.sessions.delete(&digest(1)).await);
    assert_eq!(get(&s, 1).await, None);
    assert!(!claim(&s, 1, 1).await, "a deleted session claims nothing");
    assert!(get(&s, 2).await.is_some());
    assert!(!claim(&s, 2, 1).await, "the other session's nonce is kept");
    assert!(insert(&s, &begun(1, 0)).await);
    assert!(
        claim(&s, 1, 1).await,
        "the deleted session's nonces went with it"
    );
    ok!(s.sessions.delete(&digest(9)).await);
}

/// `delete_ended` deletes exactly the sessions [`EndedSessions::contains`] says have ended
/// (last seen at or before its cutoff, or begun at or before its other one), with their nonces,
/// returns how many, and leaves the others and their nonces alone.
pub async fn delete_ended_deletes_exactly_the_ended_sessions_and_their_nonces(s: SessionStore) {
    with_tokens(&s).await;
    let hour = 3_600_000_000;
    let ended = EndedSessions {
        last_seen_by: at(hour),
        created_by: at(0),
    };
    let late = at(2 * hour);
    // Each side of each cutoff, to the microsecond.
    let sessions = [
        stored(1, at(-1), late),
        stored(2, at(0), late),
        stored(3, at(1), late),
        stored(4, at(1), at(hour)),
        stored(5, at(1), at(hour - 1)),
        stored(6, at(1), at(hour + 1)),
        stored(7, at(600_000_000), at(hour + 600_000_000)),
        stored(8, at(-hour), at(hour)),
    ];
    let expected: Vec<bool> = sessions.iter().map(|s| ended.contains(s)).collect();
    assert_eq!(
        expected,
        [true, true, false, true, true, false, false, true],
        "the cases cover both cutoffs from both sides"
    );
    for (n, session) in (1..).zip(&sessions) {
        assert!(insert(&s, session).await);
        assert!(claim(&s, n, 1).await);
    }
    assert_eq!(ok!(s.sessions.delete_ended(&ended).await), 5);
    for ((n, session), gone) in (1..).zip(&sessions).zip(&expected) {
        let left = get(&s, n).await;
        if *gone {
            assert_eq!(left, None, "session {n} has ended");
            assert!(insert(&s, session).await);
            assert!(claim(&s, n, 1).await, "session {n}'s nonce went with it");
            ok!(s.sessions.delete(&digest(n)).await);
        } else {
            assert_eq!(left.as_ref(), Some(session), "session {n} is live");
            assert!(!claim(&s, n, 1).await, "session {n}'s nonce is kept");
        }
    }
    assert_eq!(ok!(s.sessions.delete_ended(&ended).await), 0);
}

/// A nonce is claimed once per session: `true` the first time, `false` after; sessions claim
/// independently; an unknown session claims nothing, and a claim does not create it.
pub async fn a_nonce_is_claimed_once_per_session(s: SessionStore) {
    with_tokens(&s).await;
    assert!(insert(&s, &begun(1, 0)).await);
    assert!(insert(&s, &begun(2, 0)).await);
    assert!(claim(&s, 1, 1).await);
    assert!(!claim(&s, 1, 1).await);
    assert!(claim(&s, 1, 2).await, "another nonce");
    assert!(claim(&s, 2, 1).await, "the same nonce, for another session");
    assert!(!claim(&s, 2, 1).await);
    assert!(!claim(&s, 9, 1).await, "an unknown session");
    assert_eq!(get(&s, 9).await, None);
    assert!(insert(&s, &begun(9, 0)).await);
    assert!(
        claim(&s, 9, 1).await,
        "the failed claim left nothing behind"
    );
}

/// A released nonce can be claimed again, once; releasing one session's nonce leaves another's
/// claimed, and releasing an unknown nonce or session is ignored.
pub async fn a_released_nonce_can_be_claimed_again(s: SessionStore) {
    with_tokens(&s).await;
    assert!(insert(&s, &begun(1, 0)).await);
    assert!(insert(&s, &begun(2, 0)).await);
    assert!(claim(&s, 1, 1).await && claim(&s, 2, 1).await);
    ok!(s.sessions.release_nonce(&digest(1), &nonce(1)).await);
    assert!(claim(&s, 1, 1).await);
    assert!(!claim(&s, 1, 1).await);
    assert!(!claim(&s, 2, 1).await, "the other session's claim stands");
    ok!(s.sessions.release_nonce(&digest(1), &nonce(7)).await);
    ok!(s.sessions.release_nonce(&digest(9), &nonce(1)).await);
    assert_eq!(get(&s, 9).await, None);
}

/// Of concurrent claims of one nonce, exactly one gets `true`, round after round.
pub async fn of_concurrent_claims_of_one_nonce_exactly_one_wins(s: SessionStore) {
    with_tokens(&s).await;
    assert!(insert(&s, &begun(1, 0)).await);
    for form in 1..=10 {
        let claims = (0..8).map(|_| {
            let sessions = Arc::clone(&s.sessions);
            tokio::spawn(async move {
                sessions
                    .claim_nonce(&digest(1), &nonce(form), at(0))
                    .await
                    .map_err(|e| format!("{e:?}"))
            })
        });
        let mut winners = 0;
        for claimed in futures::future::join_all(claims).await {
            if ok!(ok!(claimed)) {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "claims of nonce {form}");
    }
}

/// Runs every session contract case as its own `#[tokio::test]`, each on the fresh store that
/// the given async function returns.
#[macro_export]
macro_rules! session_contract_tests {
    ($fresh:path) => {
        $crate::session_contract_tests!(@cases $fresh;
            a_session_reads_back_with_every_field,
            inserting_a_digest_twice_changes_nothing,
            touch_keeps_the_later_time_and_ignores_unknown_digests,
            deleting_a_session_deletes_its_nonces,
            delete_ended_deletes_exactly_the_ended_sessions_and_their_nonces,
            a_nonce_is_claimed_once_per_session,
            a_released_nonce_can_be_claimed_again,
            of_concurrent_claims_of_one_nonce_exactly_one_wins,
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $fresh().await;
                $crate::testing::sessions::$case(store).await;
            }
        )*
    };
}
