//! Failure paths: ports that fail or must not be called, as `mockall` mocks.
use super::*;

#[tokio::test]
async fn a_failing_token_store_makes_create_fail_and_writes_nothing_else() {
    let space = space();
    let mut tokens = MockTokenRepository::new();
    // Any call other than this one insert would panic: nothing else is written.
    tokens
        .expect_insert()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable("connection refused".into())));
    let svc = service(tokens, Arc::new(FakeHasher::new()), clock()).await;
    let result = svc
        .create(&instance_admin(), space, new_token("x", TokenLevel::Client))
        .await;
    assert!(
        matches!(result, Err(CreateTokenError::Store(ref e)) if e.is_unavailable()),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_failing_hasher_makes_create_fail_before_anything_is_stored() {
    let space = space();
    let mut tokens = MockTokenRepository::new();
    tokens.expect_insert().never();
    let mut hasher = MockSecretHasher::new();
    hasher
        .expect_hash()
        .times(1)
        .returning(|_| Err(HashError("worker died".into())));
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    let result = svc
        .create(&instance_admin(), space, new_token("x", TokenLevel::Client))
        .await;
    assert!(
        matches!(result, Err(CreateTokenError::Hash(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn junk_is_rejected_without_touching_the_store_or_the_hasher() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().never();
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    let (_, good) = stored(None);
    let mut typo = good.expose().to_owned();
    typo.replace_range(30..31, if &typo[30..31] == "a" { "b" } else { "a" });
    for junk in [
        "",
        "Bearer",
        "tgc_",
        &typo,
        &good.expose()[1..],
        "tgc_😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
    ] {
        assert!(
            matches!(svc.verify(junk).await, Err(VerifyTokenError::Invalid)),
            "{junk:?}"
        );
    }
}

#[tokio::test]
async fn a_clock_past_the_expiry_rejects_the_token_before_hashing() {
    let expiry = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
    let (token, string) = stored(Some(expiry));
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(move || expiry + Duration::seconds(1));
    let svc = service(tokens, Arc::new(hasher), Arc::new(clock)).await;
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_revoked_token_is_rejected_before_hashing() {
    let (mut token, string) = stored(None);
    token.revoke(OffsetDateTime::UNIX_EPOCH);
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_store_outage_during_verification_is_not_reported_as_an_invalid_token() {
    let (_, string) = stored(None);
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(|_| Err(down()));
    let svc = service(tokens, Arc::new(MockSecretHasher::new()), clock()).await;
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Store(_))
    ));
}

#[tokio::test]
async fn a_hasher_failure_during_verification_is_an_invalid_token() {
    let (token, string) = stored(None);
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_assess().return_const(HashAssessment::Current);
    hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Err(HashError("not a PHC string".into())));
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_failing_store_on_revoke_is_reported_not_swallowed() {
    let space = space();
    let (token, _) = stored(None);
    let id = token.id();
    let mut tokens = store_holding(token);
    tokens
        .expect_revoke()
        .times(1)
        .returning(|_, _, _| Err(down()));
    let svc = service(tokens, Arc::new(MockSecretHasher::new()), clock()).await;
    assert!(matches!(
        svc.revoke(&instance_admin(), space, id).await,
        Err(RevokeTokenError::Store(_))
    ));
}
