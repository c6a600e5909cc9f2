//! Re-hashing outdated hashes and recording where a token was used (issues 16 and 15): the
//! new hash is made in the request right after a successful verification, queued (never the
//! secret) and written with the uses; `last_used_ip` is the latest use's address, shown only to
//! readers of admin-level tokens.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::adapters::InMemoryStore;
use crate::ports::{HashRefused, TokenUse};
use crate::testing::fixtures;

const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
const OFFICE: Option<IpAddr> = Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)));

/// A service hashing with `hasher` whose in-memory token store holds `token` (of [`space`]).
async fn service_holding(
    token: &ApiToken,
    hasher: Arc<dyn SecretHasher>,
) -> (TokenService, InMemoryStore) {
    let store = InMemoryStore::new();
    assert!(fixtures::insert(store.tokens.as_ref(), token)
        .await
        .unwrap());
    let ports = TestPorts {
        tokens: store.tokens.clone(),
        hasher,
        ..ports().await
    };
    (ports.token_service(), store)
}

async fn stored_hash(store: &InMemoryStore, id: TokenId) -> SecretHash {
    store
        .tokens
        .get(id)
        .await
        .unwrap()
        .unwrap()
        .secret_hash()
        .clone()
}

#[tokio::test]
async fn an_outdated_hash_is_replaced_after_its_next_successful_verification() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let (id, old) = (token.id(), token.secret_hash().clone());
    let hasher = fake(FakeHasher::of_generation(2));
    let (svc, store) = service_holding(&token, hasher.clone()).await;
    assert_eq!(hasher.assess(&old), HashAssessment::Outdated);

    svc.verify_from(string.expose(), HOME).await.unwrap();
    assert_eq!(hasher.hashed(), 1, "the new hash is made in the request");
    assert_eq!(
        stored_hash(&store, id).await,
        old,
        "and not written on its path"
    );

    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 1);
    let new = stored_hash(&store, id).await;
    assert_ne!(new, old);
    assert_eq!(hasher.assess(&new), HashAssessment::Current);
    let used = store.tokens.get(id).await.unwrap().unwrap();
    assert_eq!(used.last_used_ip(), HOME, "in the same batch as the use");

    // Verified again from the store: against the new hash, and never re-hashed again.
    svc.verifier().forget(id);
    svc.verify(string.expose()).await.unwrap();
    assert_eq!(hasher.checked().last(), Some(&new));
    svc.verifier().flush_last_used().await.unwrap();
    assert_eq!(hasher.hashed(), 1);
    assert_eq!(stored_hash(&store, id).await, new);
}

#[tokio::test]
async fn a_current_hash_or_a_wrong_secret_is_never_rehashed() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let current = fake(FakeHasher::new());
    let (svc, store) = service_holding(&token, current.clone()).await;
    svc.verify(string.expose()).await.unwrap();
    svc.verifier().flush_last_used().await.unwrap();
    assert_eq!(current.hashed(), 0);
    assert_eq!(&stored_hash(&store, token.id()).await, token.secret_hash());

    let newer = fake(FakeHasher::of_generation(2));
    let (svc, store) = service_holding(&token, newer.clone()).await;
    let forged = TokenString::new(TokenKind::Client, token.id(), &OsRandomSource.secret());
    assert!(svc.verify(forged.expose()).await.is_err());
    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 0);
    assert_eq!(newer.hashed(), 0, "no secret matched: nothing to re-hash");
    assert_eq!(&stored_hash(&store, token.id()).await, token.secret_hash());
}

#[tokio::test]
async fn a_failed_rehash_costs_the_rehash_not_the_verification() {
    let (token, string) = stored(None);
    let id = token.id();
    let mut tokens = store_holding(token);
    tokens
        .expect_record_uses()
        .times(1)
        .withf(move |uses| uses.len() == 1 && uses[0].id == id && uses[0].rehash.is_none())
        .returning(|_| Ok(()));
    let mut hasher = MockSecretHasher::new();
    hasher
        .expect_assess()
        .return_const(HashAssessment::Outdated);
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    hasher
        .expect_hash()
        .times(1)
        .returning(|_| Err(HashError("worker died".into())));
    let svc = service(tokens, Arc::new(hasher), clock()).await;
    assert!(svc.verify(string.expose()).await.is_ok());
    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 1);
}

#[tokio::test]
async fn a_stored_hash_the_hasher_refuses_is_never_run() {
    let (token, string) = stored(None);
    let mut hasher = MockSecretHasher::new();
    hasher
        .expect_assess()
        .return_const(HashAssessment::Refused(HashRefused::AboveBound {
            parameter: "memory cost in KiB",
            value: 4_194_304,
            max: 65_536,
        }));
    hasher.expect_verify().never();
    hasher.expect_hash().never();
    let svc = service(store_holding(token), Arc::new(hasher), clock()).await;
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn the_queued_rehash_carries_hashes_and_never_the_secret() {
    let (token, string) = stored_hashed_by(&FakeHasher::new(), None).await;
    let old = token.secret_hash().clone();
    let id = token.id();
    let mut tokens = store_holding(token);
    let secret = string.expose().to_owned();
    tokens
        .expect_record_uses()
        .times(1)
        .withf(move |uses: &[TokenUse]| {
            let printed = format!("{uses:?}");
            let rehash = uses[0].rehash.as_ref();
            uses.len() == 1
                && uses[0].id == id
                && rehash.is_some_and(|r| r.old == old && r.new != old)
                && !printed.contains(&secret[4..])
        })
        .returning(|_| Ok(()));
    let svc = service(tokens, fake(FakeHasher::of_generation(2)), clock()).await;
    svc.verify(string.expose()).await.unwrap();
    assert_eq!(svc.verifier().flush_last_used().await.unwrap(), 1);
}

#[tokio::test]
async fn the_last_used_address_is_the_latest_uses_and_only_admin_readers_see_it() {
    let core = core().await;
    let space = core.space("acme").await;
    let used = core.issue(&core.admin, space, TokenLevel::Client).await;
    let reader = core.issue(&core.admin, space, TokenLevel::Client).await;
    let reader = core.actor_of(&reader).await;
    core.tokens
        .verify_from(used.secret().expose(), OFFICE)
        .await
        .unwrap();
    core.clock.advance(Duration::seconds(5));
    core.tokens
        .verify_from(used.secret().expose(), HOME)
        .await
        .unwrap();
    core.tokens.verifier().flush_last_used().await.unwrap();

    let as_admin = core
        .tokens
        .get(&core.admin, space, used.token().id())
        .await
        .unwrap();
    assert_eq!(as_admin.token.last_used_ip(), HOME);
    let as_client = core
        .tokens
        .get(&reader, space, used.token().id())
        .await
        .unwrap();
    assert_eq!(
        as_client.token.last_used_at(),
        as_admin.token.last_used_at()
    );
    assert_eq!(
        as_client.token.last_used_ip(),
        None,
        "an address is for admin readers only"
    );
    let listed = core
        .tokens
        .list(&reader, space, ListTokens::default())
        .await
        .unwrap();
    assert!(listed
        .items
        .iter()
        .all(|v| v.token.last_used_ip().is_none()));

    // A use whose address nobody knew leaves no stale address beside its time.
    core.clock.advance(Duration::seconds(5));
    core.tokens.verify(used.secret().expose()).await.unwrap();
    core.tokens.verifier().flush_last_used().await.unwrap();
    let read = core
        .tokens
        .get(&core.admin, space, used.token().id())
        .await
        .unwrap();
    assert_eq!(read.token.last_used_ip(), None);
    assert_eq!(read.token.last_used_at(), Some(core.clock.now()));
}
