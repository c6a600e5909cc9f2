//! The verifier: its cache, lanes and argon2 permits, and what it never does for junk.
use super::*;

#[tokio::test]
async fn a_cached_token_verifies_without_the_store_or_argon2() {
    let hasher = fake(FakeHasher::new());
    let (token, string) = stored_hashed_by(hasher.as_ref(), None).await;
    let tokens = store_looked_up(token, 1);
    let svc = service(tokens, hasher.clone(), clock()).await;
    for _ in 0..100 {
        assert!(svc.verify(string.expose()).await.is_ok());
    }
    assert_eq!(svc.verifier().cached_tokens(), 1);
    assert_eq!(hasher.started(), 1, "argon2 ran for the first use only");
}

#[tokio::test]
async fn a_cached_verification_answers_what_the_cold_one_did() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let identity = token.identity();
    let svc = service(
        store_looked_up(token, 1),
        Arc::new(FakeHasher::new()),
        clock(),
    )
    .await;
    let cold = svc.verify(string.expose()).await.unwrap();
    let cached = svc.verify(string.expose()).await.unwrap();
    assert_eq!(cold.token, identity);
    assert_eq!(cold.actor, Actor::for_identity(&identity));
    assert_eq!(cached, cold);
}

#[tokio::test]
async fn a_wrong_secret_for_a_cached_id_is_never_accepted_from_the_cache() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let id = token.id();
    let tokens = store_holding(token);
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock()).await;
    assert!(svc.verify(string.expose()).await.is_ok());
    let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
    assert!(matches!(
        svc.verify(forged.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    assert!(
        svc.verify(string.expose()).await.is_ok(),
        "the good entry survives a forgery attempt"
    );
}

#[tokio::test]
async fn a_cached_token_stops_at_its_expiry() {
    let clock = Arc::new(ManualClock::default());
    let expiry = clock.now() + Duration::minutes(1);
    let (token, string) = stored_hashed_by(&FakeHasher::new(), Some(expiry)).await;
    let tokens = store_holding(token);
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock.clone()).await;
    assert!(svc.verify(string.expose()).await.is_ok());
    clock.set(expiry);
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn unknown_ids_are_remembered_so_a_flood_costs_one_lookup_each() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().times(1).returning(|_| Ok(None));
    let svc = service(tokens, Arc::new(MockSecretHasher::new()), clock()).await;
    let random = SequentialRandomSource::new();
    let id = random.token_id();
    for _ in 0..50 {
        let invented = TokenString::new(TokenKind::Client, id, &random.secret());
        assert!(matches!(
            svc.verify(invented.expose()).await,
            Err(VerifyTokenError::Invalid)
        ));
    }
}

#[tokio::test]
async fn a_disabled_cache_asks_the_store_every_time() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let tokens = store_looked_up(token, 3);
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock())
        .await
        .with_verify_cache(VerifyCacheConfig::disabled());
    for _ in 0..3 {
        assert!(svc.verify(string.expose()).await.is_ok());
    }
}

#[tokio::test]
async fn forgetting_every_token_sends_the_next_use_back_to_the_store() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let id = token.id();
    let tokens = store_looked_up(token, 3);
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock()).await;
    assert!(svc.verify(string.expose()).await.is_ok());
    svc.verifier().forget_all();
    assert!(svc.verify(string.expose()).await.is_ok());
    svc.verifier().forget(id);
    assert!(svc.verify(string.expose()).await.is_ok());
    assert!(
        svc.verify(string.expose()).await.is_ok(),
        "cached again: no fourth lookup"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_revoke_returns_no_use_succeeds_even_when_a_verification_was_in_flight() {
    let core = core().await;
    let space = core.space("acme").await;
    for round in 0..40 {
        let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
        let (tokens, presented) = (core.tokens.clone(), issued.secret().expose().to_owned());
        let in_flight = tokio::spawn(async move { tokens.verify(&presented).await.is_ok() });
        if round % 2 == 0 {
            tokio::task::yield_now().await;
        }
        core.tokens
            .revoke(&core.admin, space, issued.token().id())
            .await
            .unwrap();
        let _ = in_flight.await;
        assert!(
            matches!(
                core.tokens.verify(issued.secret().expose()).await,
                Err(VerifyTokenError::Invalid)
            ),
            "round {round}: a revoked token verified after the revoke returned"
        );
    }
}

/// Waits until every other task of this (paused, current-thread) runtime is idle: tokio moves a
/// paused clock forward only when nothing else can run, so a sleep returns exactly then.
async fn until_idle() {
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}

/// Verifications of a forged client token string for each id, each on a task of its own.
fn forge(
    svc: &TokenService,
    id: TokenId,
) -> tokio::task::JoinHandle<Result<VerifiedToken, VerifyTokenError>> {
    let svc = svc.clone();
    let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
    tokio::spawn(async move { svc.verify(forged.expose()).await })
}

fn id(n: u128) -> TokenId {
    TokenId::from_uuid(uuid::Uuid::from_u128(n))
}

#[tokio::test(start_paused = true)]
async fn argon2_runs_at_most_the_permitted_number_of_times_at_once() {
    let hasher = fake(FakeHasher::gated());
    let svc = TestPorts {
        cache: VerifyCacheConfig {
            max_concurrent_hashes: 2,
            ..VerifyCacheConfig::default()
        },
        ..ports_with(store_holding_every_id(unmatched_hash), hasher.clone()).await
    }
    .token_service();
    // Twelve tokens, so that one id's lane does not serialize them.
    let attempts: Vec<_> = (0..12).map(|n| forge(&svc, id(1000 + n))).collect();
    hasher.wait_started(2).await;
    until_idle().await;
    assert_eq!(hasher.started(), 2, "every other hash waits for a permit");
    hasher.open(12);
    for attempt in futures::future::join_all(attempts).await {
        assert!(matches!(attempt.unwrap(), Err(VerifyTokenError::Invalid)));
    }
    assert_eq!(hasher.started(), 12);
    assert_eq!(hasher.max_running(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_client_hanging_up_does_not_free_its_argon2_permit_before_the_hash_ends() {
    let (token, _) = stored(None);
    let id = token.id();
    let hasher = fake(FakeHasher::gated());
    let svc = TestPorts {
        cache: VerifyCacheConfig {
            max_concurrent_hashes: 1,
            ..VerifyCacheConfig::default()
        },
        ..ports_with(store_holding(token), hasher.clone()).await
    }
    .token_service();

    let hung_up = forge(&svc, id);
    hasher.wait_started(1).await;
    hung_up.abort();
    assert!(hung_up.await.is_err_and(|e| e.is_cancelled()));
    let next = forge(&svc, id);
    until_idle().await;
    // The first hash still runs, so its permit is still taken: the next one waits for it.
    assert_eq!(hasher.started(), 1);
    hasher.open(1);
    hasher.wait_started(2).await;
    hasher.open(1);
    assert!(matches!(
        next.await.unwrap(),
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn revocations_from_the_feed_and_feed_losses_empty_the_cache() {
    use crate::ports::{RevocationEvent, RevocationFeed};

    /// A feed the test writes to; it counts the calls to `next`, so the test knows when the
    /// follower has applied an event (it asks for the next one only then).
    struct Scripted {
        events: tokio::sync::mpsc::Receiver<RevocationEvent>,
        asked: tokio::sync::watch::Sender<usize>,
    }
    #[async_trait::async_trait]
    impl RevocationFeed for Scripted {
        async fn next(&mut self) -> RevocationEvent {
            self.asked.send_modify(|n| *n += 1);
            match self.events.recv().await {
                Some(event) => event,
                None => std::future::pending().await,
            }
        }
    }

    let core = core().await;
    let space = core.space("acme").await;
    let (a, b) = (
        core.issue(&core.admin, space, TokenLevel::Client).await,
        core.issue(&core.admin, space, TokenLevel::Client).await,
    );
    core.tokens.verify(a.secret().expose()).await.unwrap();
    core.tokens.verify(b.secret().expose()).await.unwrap();
    let verifier = Arc::clone(core.tokens.verifier());
    let before = verifier.cached_tokens();
    let (events, rx) = tokio::sync::mpsc::channel(4);
    let (asked, mut applied) = tokio::sync::watch::channel(0);
    let follower = Arc::clone(&verifier);
    let task = tokio::spawn(async move {
        follower
            .follow_revocations(Scripted { events: rx, asked })
            .await;
    });

    events
        .send(RevocationEvent::Revoked(a.token().id()))
        .await
        .unwrap();
    applied.wait_for(|&n| n >= 2).await.unwrap();
    assert_eq!(verifier.cached_tokens(), before - 1);
    events.send(RevocationEvent::Lost).await.unwrap();
    applied.wait_for(|&n| n >= 3).await.unwrap();
    assert_eq!(verifier.cached_tokens(), 0);
    // Listening (again) forgets too: whatever was cached before may have missed revocations.
    core.tokens.verify(b.secret().expose()).await.unwrap();
    assert_eq!(verifier.cached_tokens(), 1);
    events.send(RevocationEvent::Listening).await.unwrap();
    applied.wait_for(|&n| n >= 4).await.unwrap();
    assert_eq!(verifier.cached_tokens(), 0);
    task.abort();
}

#[tokio::test]
async fn a_revocation_landing_while_argon2_runs_is_not_missed() {
    // The token is revoked while its hash "computes": the row read before hashing is stale.
    let hasher = fake(FakeHasher::gated());
    let core = core_hashing_with(hasher.clone()).await;
    let space = core.space("s").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let (tokens, admin) = (&core.tokens, &core.admin);
    let verifying = {
        let (tokens, presented) = (tokens.clone(), issued.secret().expose().to_owned());
        tokio::spawn(async move { tokens.verify(&presented).await })
    };
    hasher.wait_started(1).await;
    tokens
        .revoke(admin, space, issued.token().id())
        .await
        .unwrap();
    hasher.open(1);
    let result = verifying.await.unwrap();
    assert!(
        matches!(result, Err(VerifyTokenError::Invalid)),
        "{result:?}"
    );
}

#[tokio::test]
async fn forgeries_against_a_cached_token_cost_no_store_lookup_and_no_argon2() {
    let (token, string) = stored(None);
    let id = token.id();
    let tokens = store_looked_up(token, 1);
    // One argon2 run in all: the genuine first verification. Forgeries never reach the hasher.
    let mut hasher = MockSecretHasher::new();
    hasher.expect_assess().return_const(HashAssessment::Current);
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    assert!(svc.verify(string.expose()).await.is_ok());
    for _ in 0..5 {
        let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
        assert!(matches!(
            svc.verify(forged.expose()).await,
            Err(VerifyTokenError::Invalid)
        ));
        let other_kind = TokenString::new(TokenKind::SpaceAdmin, id, &OsRandomSource.secret());
        assert!(matches!(
            svc.verify(other_kind.expose()).await,
            Err(VerifyTokenError::Invalid)
        ));
    }
    assert!(svc.verify(string.expose()).await.is_ok());
}

#[test]
fn verification_works_outside_a_tokio_runtime() {
    let (token, string) = stored(None);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_assess().return_const(HashAssessment::Current);
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    let verified = futures::executor::block_on(async {
        let svc = service(store_holding(token), Arc::new(hasher), clock()).await;
        svc.verify(string.expose()).await
    });
    assert!(verified.is_ok(), "{verified:?}");
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_first_uses_of_one_token_costs_one_lookup_and_one_argon2_run() {
    let hasher = fake(FakeHasher::gated());
    let (token, string) = stored_hashed_by(hasher.as_ref(), None).await;
    let svc = ports_with(store_looked_up(token, 1), hasher.clone())
        .await
        .token_service();
    let uses: Vec<_> = (0..8)
        .map(|_| {
            let (svc, string) = (svc.clone(), string.clone());
            tokio::spawn(async move { svc.verify(string.expose()).await })
        })
        .collect();
    hasher.wait_started(1).await;
    // Every other use is now waiting in the token id's lane.
    until_idle().await;
    hasher.open(8);
    for used in futures::future::join_all(uses).await {
        assert!(used.unwrap().is_ok());
    }
    assert_eq!(hasher.started(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_forgeries_against_one_id_leaves_the_other_permits_to_other_tokens() {
    let (attacked, other) = (id(1), id(2));
    let hash_of = |id: TokenId| SecretHash::new(format!("$argon2id$v=19$of-{id}"));
    let hasher = fake(FakeHasher::gated());
    let svc = TestPorts {
        cache: VerifyCacheConfig {
            max_concurrent_hashes: 2,
            ..VerifyCacheConfig::default()
        },
        ..ports_with(store_holding_every_id(hash_of), hasher.clone()).await
    }
    .token_service();

    let flood: Vec<_> = (0..6).map(|_| forge(&svc, attacked)).collect();
    hasher.wait_started(1).await;
    // The rest of the flood has every chance to take the second permit, as it would without
    // lanes: here it waits in the attacked id's lane instead.
    until_idle().await;
    let legitimate = forge(&svc, other);
    hasher.wait_started(2).await;
    assert_eq!(
        hasher.checked()[1],
        hash_of(other),
        "the second permit went to the flood"
    );
    hasher.open(100);
    assert!(legitimate.await.unwrap().is_err());
    for forged in flood {
        assert!(forged.await.unwrap().is_err());
    }
}
