//! Service tests: the use cases on the in-memory adapters, and failure paths with mocks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tollgate_domain::{
    Actor, ApiToken, MemberRole, SecretHash, Space, SpaceId, SpaceName, TokenKind, TokenLevel,
    TokenName, TokenString, UserId,
};

use super::*;
use crate::adapters::{
    Argon2Hasher, Argon2Params, InMemoryStore, ManualClock, OsRandomSource, SequentialRandomSource,
};
use crate::error::StoreError;
use crate::pagination::{PageLimit, PageRequest};
use crate::ports::{
    Clock, HashError, MockClock, MockSecretHasher, MockTokenRepository, RandomSource, SecretHasher,
    SpaceRepository, TokenRepository,
};

struct Core {
    spaces: SpaceService,
    tokens: TokenService,
    clock: Arc<ManualClock>,
    admin: Actor,
}

fn hasher() -> Arc<Argon2Hasher> {
    Arc::new(Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS).unwrap())
}

async fn core() -> Core {
    let store = InMemoryStore::new();
    let clock = Arc::new(ManualClock::default());
    let random = Arc::new(OsRandomSource);
    let spaces = SpaceService::new(store.spaces.clone(), clock.clone(), random.clone());
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens.clone(),
        store.events.clone(),
        hasher(),
        clock.clone(),
        random,
    );
    let admin = Actor::for_token(&tokens.ensure_instance_admin().await.unwrap().unwrap().token);
    Core {
        spaces,
        tokens,
        clock,
        admin,
    }
}

impl Core {
    async fn space(&self, name: &str) -> SpaceId {
        self.spaces
            .create(
                &self.admin,
                NewSpace {
                    name: SpaceName::parse(name).unwrap(),
                },
            )
            .await
            .unwrap()
            .id
    }

    async fn issue(&self, actor: &Actor, space: SpaceId, level: TokenLevel) -> IssuedToken {
        self.tokens
            .create(actor, space, new_token("t", level))
            .await
            .unwrap()
    }

    async fn actor_of(&self, issued: &IssuedToken) -> Actor {
        self.tokens
            .verify(issued.secret().expose())
            .await
            .unwrap()
            .actor
    }
}

fn new_token(name: &str, level: TokenLevel) -> NewToken {
    NewToken {
        name: TokenName::parse(name).unwrap(),
        level,
        expires_at: None,
    }
}

fn member(space: SpaceId, user: &str, role: MemberRole) -> Actor {
    Actor::Member {
        user_id: UserId::parse(user).unwrap(),
        space_id: space,
        role,
    }
}

#[tokio::test]
async fn only_the_instance_admin_creates_spaces() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let denied = core
        .spaces
        .create(
            &space_admin,
            NewSpace {
                name: SpaceName::parse("x").unwrap(),
            },
        )
        .await;
    assert!(matches!(denied, Err(CreateSpaceError::Forbidden)));
    let owner = member(space, "o", MemberRole::Owner);
    assert!(matches!(
        core.spaces
            .create(
                &owner,
                NewSpace {
                    name: SpaceName::parse("x").unwrap()
                }
            )
            .await,
        Err(CreateSpaceError::Forbidden)
    ));
}

#[tokio::test]
async fn space_tokens_see_only_their_own_space() {
    let core = core().await;
    let (a, b) = (core.space("a").await, core.space("b").await);
    let token_a = core
        .actor_of(&core.issue(&core.admin, a, TokenLevel::Client).await)
        .await;
    assert_eq!(core.spaces.get(&token_a, a).await.unwrap().id, a);
    assert!(matches!(
        core.spaces.get(&token_a, b).await,
        Err(GetSpaceError::NotFound)
    ));
    let listed = core
        .spaces
        .list(&token_a, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.items.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![a]
    );
    let all = core
        .spaces
        .list(&core.admin, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
}

#[tokio::test]
async fn spaces_page_with_a_cursor() {
    let core = core().await;
    for n in 0..5 {
        core.space(&format!("s{n}")).await;
    }
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: PageLimit::new(2).unwrap(),
        cursor: None,
    };
    loop {
        let got = core.spaces.list(&core.admin, page).await.unwrap();
        seen.extend(got.items.into_iter().map(|s: Space| s.name.to_string()));
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s3", "s4"]);
}

#[tokio::test]
async fn an_editor_creates_a_client_token_that_verifies_as_a_space_token() {
    let core = core().await;
    let space = core.space("acme").await;
    let editor = member(space, "user-7", MemberRole::Editor);
    let issued = core.issue(&editor, space, TokenLevel::Client).await;
    assert_eq!(issued.token.created_by.to_string(), "user:user-7");
    assert!(issued.secret().expose().starts_with("tgc_"));
    let verified = core.tokens.verify(issued.secret().expose()).await.unwrap();
    assert_eq!(
        verified.actor,
        Actor::SpaceToken {
            token_id: issued.token.id,
            space_id: space,
            level: TokenLevel::Client
        }
    );
    assert_eq!(verified.token, issued.token);
}

#[tokio::test]
async fn nobody_but_instance_admins_owners_and_admins_mints_admin_tokens() {
    let core = core().await;
    let space = core.space("acme").await;
    let space_admin = core
        .actor_of(&core.issue(&core.admin, space, TokenLevel::Admin).await)
        .await;
    for actor in [
        space_admin,
        member(space, "e", MemberRole::Editor),
        member(space, "v", MemberRole::Viewer),
    ] {
        let denied = core
            .tokens
            .create(&actor, space, new_token("root", TokenLevel::Admin))
            .await;
        assert!(
            matches!(denied, Err(CreateTokenError::Forbidden(TokenLevel::Admin))),
            "{actor:?}"
        );
    }
    for role in [MemberRole::Owner, MemberRole::Admin] {
        let issued = core
            .issue(&member(space, "o", role), space, TokenLevel::Admin)
            .await;
        assert!(issued.secret().expose().starts_with("tga_"));
    }
}

#[tokio::test]
async fn a_token_of_another_space_finds_nothing_there() {
    let core = core().await;
    let (a, b) = (core.space("a").await, core.space("b").await);
    let in_b = core.issue(&core.admin, b, TokenLevel::Client).await;
    let admin_a = core
        .actor_of(&core.issue(&core.admin, a, TokenLevel::Admin).await)
        .await;
    assert!(matches!(
        core.tokens
            .create(&admin_a, b, new_token("x", TokenLevel::Client))
            .await,
        Err(CreateTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.list(&admin_a, b, ListTokens::default()).await,
        Err(ListTokensError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.get(&admin_a, b, in_b.token.id).await,
        Err(GetTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens.revoke(&admin_a, b, in_b.token.id).await,
        Err(RevokeTokenError::SpaceNotFound)
    ));
    // Asking for B's token under A's own space finds nothing either.
    assert!(matches!(
        core.tokens.get(&admin_a, a, in_b.token.id).await,
        Err(GetTokenError::NotFound)
    ));
    assert!(core.tokens.verify(in_b.secret().expose()).await.is_ok());
}

#[tokio::test]
async fn a_space_that_does_not_exist_is_not_found_even_for_the_instance_admin() {
    let core = core().await;
    let nowhere = SpaceId::from_uuid(uuid::Uuid::from_u128(12345));
    assert!(matches!(
        core.tokens
            .create(&core.admin, nowhere, new_token("x", TokenLevel::Client))
            .await,
        Err(CreateTokenError::SpaceNotFound)
    ));
    assert!(matches!(
        core.tokens
            .list(&core.admin, nowhere, ListTokens::default())
            .await,
        Err(ListTokensError::SpaceNotFound)
    ));
}

#[tokio::test]
async fn client_tokens_never_learn_that_admin_tokens_exist() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let client_actor = core.actor_of(&client).await;
    let seen = core
        .tokens
        .list(&client_actor, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(
        seen.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![client.token.id]
    );
    let asked = ListTokens {
        level: Some(TokenLevel::Admin),
        ..ListTokens::default()
    };
    assert!(core
        .tokens
        .list(&client_actor, space, asked)
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        core.tokens
            .get(&client_actor, space, admin_token.token.id)
            .await,
        Err(GetTokenError::NotFound)
    ));
    assert!(matches!(
        core.tokens
            .revoke(&client_actor, space, admin_token.token.id)
            .await,
        Err(RevokeTokenError::NotFound)
    ));
    let admin_actor = core.actor_of(&admin_token).await;
    assert_eq!(
        core.tokens
            .list(&admin_actor, space, ListTokens::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

#[tokio::test]
async fn token_lists_page_and_leave_revoked_tokens_out() {
    let core = core().await;
    let space = core.space("acme").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            core.issue(&core.admin, space, TokenLevel::Client)
                .await
                .token
                .id,
        );
    }
    core.tokens
        .revoke(&core.admin, space, ids[2])
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut query = ListTokens {
        level: None,
        statuses: crate::ports::StatusFilter::ACTIVE,
        page: PageRequest {
            limit: PageLimit::new(2).unwrap(),
            cursor: None,
        },
    };
    loop {
        let page = core.tokens.list(&core.admin, space, query).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|t| t.id));
        match page.next_cursor {
            Some(cursor) => query.page.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, vec![ids[0], ids[1], ids[3], ids[4]]);
}

#[tokio::test]
async fn a_revoked_token_fails_verification_and_revoking_again_succeeds() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let first = core
        .tokens
        .revoke(&core.admin, space, issued.token.id)
        .await
        .unwrap();
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    core.clock.advance(Duration::minutes(5));
    let second = core
        .tokens
        .revoke(&core.admin, space, issued.token.id)
        .await
        .unwrap();
    assert_eq!(first.revoked_at, second.revoked_at);
    let read = core
        .tokens
        .get(&core.admin, space, issued.token.id)
        .await
        .unwrap();
    assert!(read.revoked_at.is_some());
}

#[tokio::test]
async fn an_editor_revokes_only_the_client_tokens_it_created() {
    let core = core().await;
    let space = core.space("acme").await;
    let alice = member(space, "alice", MemberRole::Editor);
    let bob = member(space, "bob", MemberRole::Editor);
    let hers = core.issue(&alice, space, TokenLevel::Client).await;
    let his = core.issue(&bob, space, TokenLevel::Client).await;
    assert!(matches!(
        core.tokens.revoke(&alice, space, his.token.id).await,
        Err(RevokeTokenError::Forbidden)
    ));
    core.tokens
        .revoke(&alice, space, hers.token.id)
        .await
        .unwrap();
    let viewer = member(space, "vic", MemberRole::Viewer);
    assert!(matches!(
        core.tokens.revoke(&viewer, space, his.token.id).await,
        Err(RevokeTokenError::Forbidden)
    ));
    let client = core.actor_of(&his).await;
    assert!(matches!(
        core.tokens.revoke(&client, space, his.token.id).await,
        Err(RevokeTokenError::Forbidden)
    ));
}

#[tokio::test]
async fn a_space_admin_token_revokes_any_token_of_its_space_including_itself() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let actor = core.actor_of(&admin_token).await;
    let client = core.issue(&actor, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&actor, space, client.token.id)
        .await
        .unwrap();
    core.tokens
        .revoke(&actor, space, admin_token.token.id)
        .await
        .unwrap();
    assert!(core
        .tokens
        .verify(admin_token.secret().expose())
        .await
        .is_err());
}

#[tokio::test]
async fn tokens_stop_verifying_at_their_expiry() {
    let core = core().await;
    let space = core.space("acme").await;
    let expires_at = core.clock.now() + Duration::hours(1);
    let cmd = NewToken {
        expires_at: Some(expires_at),
        ..new_token("short", TokenLevel::Client)
    };
    let issued = core.tokens.create(&core.admin, space, cmd).await.unwrap();
    assert!(core.tokens.verify(issued.secret().expose()).await.is_ok());
    core.clock.set(expires_at);
    assert!(matches!(
        core.tokens.verify(issued.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn an_expiry_that_is_not_in_the_future_is_refused() {
    let core = core().await;
    let space = core.space("acme").await;
    for at in [core.clock.now(), core.clock.now() - Duration::days(1)] {
        let cmd = NewToken {
            expires_at: Some(at),
            ..new_token("late", TokenLevel::Client)
        };
        assert!(matches!(
            core.tokens.create(&core.admin, space, cmd).await,
            Err(CreateTokenError::ExpiryNotInFuture)
        ));
    }
}

#[tokio::test]
async fn wrong_secrets_and_swapped_kinds_are_invalid() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let random = SequentialRandomSource::new();
    let wrong_secret = TokenString::new(TokenKind::Client, issued.token.id, &random.secret());
    assert!(matches!(
        core.tokens.verify(wrong_secret.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    let real = tollgate_domain::ParsedToken::parse(issued.secret().expose()).unwrap();
    let as_admin = TokenString::new(TokenKind::SpaceAdmin, issued.token.id, real.secret());
    assert!(matches!(
        core.tokens.verify(as_admin.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    let unknown = TokenString::new(TokenKind::Client, random.token_id(), &random.secret());
    assert!(matches!(
        core.tokens.verify(unknown.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn the_issued_token_never_shows_its_secret_in_debug() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    let secret_part = &issued.secret().expose()[26..69];
    let debug = format!("{issued:?}");
    assert!(!debug.contains(secret_part), "{debug}");
    assert!(!debug.contains(issued.secret().expose()));
}

#[tokio::test]
async fn bootstrap_registers_a_token_once_and_refuses_impostors() {
    let core = core().await;
    let random = OsRandomSource;
    let token = mint_token_string(&random, TokenKind::InstanceAdmin);
    let tokens = &core.tokens;
    assert_eq!(
        tokens
            .register_instance_admin(token.expose())
            .await
            .unwrap(),
        BootstrapOutcome::Registered
    );
    assert_eq!(
        tokens
            .register_instance_admin(token.expose())
            .await
            .unwrap(),
        BootstrapOutcome::AlreadyRegistered
    );
    let verified = tokens.verify(token.expose()).await.unwrap();
    assert!(matches!(verified.actor, Actor::InstanceAdmin { .. }));
    let parsed = tollgate_domain::ParsedToken::parse(token.expose()).unwrap();
    let impostor = TokenString::new(TokenKind::InstanceAdmin, parsed.id(), &random.secret());
    assert!(matches!(
        tokens.register_instance_admin(impostor.expose()).await,
        Err(BootstrapError::Conflict)
    ));
    let client = mint_token_string(&random, TokenKind::Client);
    assert!(matches!(
        tokens.register_instance_admin(client.expose()).await,
        Err(BootstrapError::NotInstanceAdmin)
    ));
    assert!(matches!(
        tokens.register_instance_admin("tgi_nope").await,
        Err(BootstrapError::Malformed)
    ));
}

#[tokio::test]
async fn a_store_is_given_an_instance_admin_only_once() {
    let core = core().await;
    assert!(core.tokens.ensure_instance_admin().await.unwrap().is_none());
}

// ---- failure paths with mocks ----

async fn space_repo_with(space: SpaceId) -> Arc<dyn SpaceRepository> {
    let spaces = crate::adapters::InMemorySpaceRepository::new();
    let created_at = OffsetDateTime::UNIX_EPOCH;
    spaces
        .insert(&Space {
            id: space,
            name: SpaceName::parse("s").unwrap(),
            created_at,
        })
        .await
        .unwrap();
    Arc::new(spaces)
}

fn service(
    spaces: Arc<dyn SpaceRepository>,
    tokens: impl TokenRepository + 'static,
    hasher: impl SecretHasher + 'static,
    clock: Arc<dyn Clock>,
) -> TokenService {
    TokenService::new(
        spaces,
        Arc::new(tokens),
        Arc::new(crate::adapters::InMemoryAuditRepository::new()),
        Arc::new(hasher),
        clock,
        Arc::new(OsRandomSource),
    )
}

/// A token store whose `get` always finds `token`; other calls fail the test unless expected.
fn store_holding(token: ApiToken) -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_get()
        .returning(move |_| Ok(Some(token.clone())));
    tokens
}

/// A token store whose `get` finds a copy of `token` under whatever id it is asked for.
fn store_holding_any_id(token: ApiToken) -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(move |id| {
        let mut found = token.clone();
        found.id = id;
        Ok(Some(found))
    });
    tokens
}

/// A token store whose `get` finds `token` exactly `lookups` times: what the cache tests count.
fn store_looked_up(token: ApiToken, lookups: usize) -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_get()
        .times(lookups)
        .returning(move |_| Ok(Some(token.clone())));
    tokens
}

fn instance_admin() -> Actor {
    Actor::InstanceAdmin {
        token_id: tollgate_domain::TokenId::from_uuid(uuid::Uuid::from_u128(1)),
    }
}

fn down() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

#[tokio::test]
async fn a_failing_token_store_makes_create_fail_and_writes_nothing_else() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let mut tokens = MockTokenRepository::new();
    // Any call other than this one insert would panic: nothing else is written.
    tokens
        .expect_insert()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable("connection refused".into())));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS).unwrap(),
        Arc::new(ManualClock::default()),
    );
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
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_insert().never();
    let mut hasher = MockSecretHasher::new();
    hasher
        .expect_hash()
        .times(1)
        .returning(|_| Err(HashError("worker died".into())));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        hasher,
        Arc::new(ManualClock::default()),
    );
    let result = svc
        .create(&instance_admin(), space, new_token("x", TokenLevel::Client))
        .await;
    assert!(
        matches!(result, Err(CreateTokenError::Hash(_))),
        "{result:?}"
    );
}

pub(super) fn stored(
    level: TokenLevel,
    space: SpaceId,
    expires_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
) -> (ApiToken, TokenString) {
    let random = SequentialRandomSource::new();
    let (id, secret) = (random.token_id(), random.secret());
    let token = ApiToken {
        id,
        scope: tollgate_domain::TokenScope::Space {
            space_id: space,
            level,
        },
        name: TokenName::parse("t").unwrap(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        created_by: tollgate_domain::CreatedBy::System,
        expires_at,
        last_used_at: None,
        revoked_at,
        replaces: None,
        replaced_by: None,
        rotated_at: None,
        secret_hash: SecretHash::new("$argon2id$stored".into()),
    };
    let string = TokenString::new(token.scope.kind(), id, &secret);
    (token, string)
}

#[tokio::test]
async fn junk_is_rejected_without_touching_the_store_or_the_hasher() {
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().never();
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let svc = service(
        Arc::new(crate::adapters::InMemorySpaceRepository::new()),
        tokens,
        hasher,
        Arc::new(ManualClock::default()),
    );
    let (_, good) = stored(
        TokenLevel::Client,
        SpaceId::from_uuid(uuid::Uuid::from_u128(7)),
        None,
        None,
    );
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
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let expiry = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
    let (token, string) = stored(TokenLevel::Client, space, Some(expiry), None);
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(move || expiry + Duration::seconds(1));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        hasher,
        Arc::new(clock),
    );
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_revoked_token_is_rejected_before_hashing() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored(
        TokenLevel::Client,
        space,
        None,
        Some(OffsetDateTime::UNIX_EPOCH),
    );
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().never();
    let svc = service(
        space_repo_with(space).await,
        tokens,
        hasher,
        Arc::new(ManualClock::default()),
    );
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_store_outage_during_verification_is_not_reported_as_an_invalid_token() {
    let (_, string) = stored(
        TokenLevel::Client,
        SpaceId::from_uuid(uuid::Uuid::from_u128(7)),
        None,
        None,
    );
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(|_| Err(down()));
    let svc = service(
        Arc::new(crate::adapters::InMemorySpaceRepository::new()),
        tokens,
        MockSecretHasher::new(),
        Arc::new(ManualClock::default()),
    );
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Store(_))
    ));
}

#[tokio::test]
async fn a_hasher_failure_during_verification_is_an_invalid_token() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored(TokenLevel::Client, space, None, None);
    let tokens = store_holding(token);
    let mut hasher = MockSecretHasher::new();
    hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Err(HashError("not a PHC string".into())));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        hasher,
        Arc::new(ManualClock::default()),
    );
    assert!(matches!(
        svc.verify(string.expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_failing_store_on_revoke_is_reported_not_swallowed() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, _) = stored(TokenLevel::Client, space, None, None);
    let id = token.id;
    let mut tokens = store_holding(token);
    tokens
        .expect_revoke()
        .times(1)
        .returning(|_, _, _| Err(down()));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        MockSecretHasher::new(),
        Arc::new(ManualClock::default()),
    );
    assert!(matches!(
        svc.revoke(&instance_admin(), space, id).await,
        Err(RevokeTokenError::Store(_))
    ));
}

#[test]
fn random_source_mock_is_usable_for_deterministic_ids() {
    let mut random = crate::ports::MockRandomSource::new();
    random
        .expect_token_id()
        .return_const(tollgate_domain::TokenId::from_uuid(uuid::Uuid::from_u128(
            3,
        )));
    assert_eq!(random.token_id().as_uuid().as_u128(), 3);
}

// ---- the verification cache ----

fn fast_hasher() -> Argon2Hasher {
    Argon2Hasher::new(Argon2Params::INSECURE_FAST_FOR_TESTS).unwrap()
}

/// A token whose hash is real, so that the real hasher accepts its string.
async fn stored_with_real_hash(
    space: SpaceId,
    expires_at: Option<OffsetDateTime>,
) -> (ApiToken, TokenString) {
    let random = SequentialRandomSource::new();
    let (id, secret) = (random.token_id(), random.secret());
    let (mut token, _) = stored(TokenLevel::Client, space, expires_at, None);
    token.id = id;
    token.secret_hash = fast_hasher().hash(&secret).await.unwrap();
    let string = TokenString::new(token.scope.kind(), id, &secret);
    (token, string)
}

#[tokio::test]
async fn a_cached_token_verifies_without_the_store_or_argon2() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let tokens = store_looked_up(token, 1);
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        Arc::new(ManualClock::default()),
    );
    for _ in 0..100 {
        assert!(svc.verify(string.expose()).await.is_ok());
    }
    assert_eq!(svc.cached_tokens(), 1);
}

#[tokio::test]
async fn a_wrong_secret_for_a_cached_id_is_never_accepted_from_the_cache() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let id = token.id;
    let tokens = store_holding(token);
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        Arc::new(ManualClock::default()),
    );
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
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let clock = Arc::new(ManualClock::default());
    let expiry = clock.now() + Duration::minutes(1);
    let (token, string) = stored_with_real_hash(space, Some(expiry)).await;
    let tokens = store_holding(token);
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        clock.clone(),
    );
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
    let svc = service(
        Arc::new(crate::adapters::InMemorySpaceRepository::new()),
        tokens,
        MockSecretHasher::new(),
        Arc::new(ManualClock::default()),
    );
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
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let tokens = store_looked_up(token, 3);
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        Arc::new(ManualClock::default()),
    )
    .with_verify_cache(VerifyCacheConfig::disabled());
    for _ in 0..3 {
        assert!(svc.verify(string.expose()).await.is_ok());
    }
}

#[tokio::test]
async fn forgetting_every_token_sends_the_next_use_back_to_the_store() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let id = token.id;
    let tokens = store_looked_up(token, 3);
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        Arc::new(ManualClock::default()),
    );
    assert!(svc.verify(string.expose()).await.is_ok());
    svc.forget_all_tokens();
    assert!(svc.verify(string.expose()).await.is_ok());
    svc.forget_token(id);
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
            .revoke(&core.admin, space, issued.token.id)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn argon2_runs_at_most_the_permitted_number_of_times_at_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting {
        now: AtomicUsize,
        max: AtomicUsize,
    }
    #[async_trait::async_trait]
    impl SecretHasher for Counting {
        async fn hash(&self, _: &tollgate_domain::TokenSecret) -> Result<SecretHash, HashError> {
            unreachable!()
        }
        async fn verify(
            &self,
            _: &tollgate_domain::TokenSecret,
            _: &SecretHash,
        ) -> Result<bool, HashError> {
            let running = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(false)
        }
    }

    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, _) = stored(TokenLevel::Client, space, None, None);
    let hasher = Arc::new(Counting::default());
    let config = VerifyCacheConfig {
        max_concurrent_hashes: 2,
        ..VerifyCacheConfig::default()
    };
    let svc = TokenService::new(
        space_repo_with(space).await,
        Arc::new(store_holding_any_id(token)),
        Arc::new(crate::adapters::InMemoryAuditRepository::new()),
        hasher.clone(),
        Arc::new(ManualClock::default()),
        Arc::new(OsRandomSource),
    )
    .with_verify_cache(config);
    // Twelve tokens, so that one id's lane does not serialize them.
    let attempts = (0..12).map(|n| {
        let svc = svc.clone();
        let id = tollgate_domain::TokenId::from_uuid(uuid::Uuid::from_u128(1000 + n));
        let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
        tokio::spawn(async move { svc.verify(forged.expose()).await })
    });
    for attempt in futures::future::join_all(attempts).await {
        assert!(matches!(attempt.unwrap(), Err(VerifyTokenError::Invalid)));
    }
    assert_eq!(hasher.max.load(Ordering::SeqCst), 2);
}

/// Hashes that run until the test opens the gate (as argon2 keeps its core whether or not
/// anyone still waits for the answer), noting whose hash each one checks. Every check fails.
struct Gated {
    checked: std::sync::Mutex<Vec<SecretHash>>,
    gate: tokio::sync::Semaphore,
    started: std::sync::atomic::AtomicUsize,
}

impl Default for Gated {
    /// The gate starts closed.
    fn default() -> Self {
        Self {
            checked: std::sync::Mutex::default(),
            gate: tokio::sync::Semaphore::new(0),
            started: std::sync::atomic::AtomicUsize::default(),
        }
    }
}

#[async_trait::async_trait]
impl SecretHasher for Gated {
    async fn hash(&self, _: &tollgate_domain::TokenSecret) -> Result<SecretHash, HashError> {
        unreachable!()
    }
    async fn verify(
        &self,
        _: &tollgate_domain::TokenSecret,
        hash: &SecretHash,
    ) -> Result<bool, HashError> {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(hash.clone());
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.gate.acquire().await.map(|p| p.forget()).ok();
        Ok(false)
    }
}

/// Polls `what` until it holds.
async fn until(what: impl Fn() -> bool) {
    while !what() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_does_not_free_its_argon2_permit_before_the_hash_ends() {
    use std::sync::atomic::Ordering;

    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, _) = stored(TokenLevel::Client, space, None, None);
    let id = token.id;
    let hasher = Arc::new(Gated::default());
    let svc = TokenService::new(
        space_repo_with(space).await,
        Arc::new(store_holding(token)),
        Arc::new(crate::adapters::InMemoryAuditRepository::new()),
        hasher.clone(),
        Arc::new(ManualClock::default()),
        Arc::new(OsRandomSource),
    )
    .with_verify_cache(VerifyCacheConfig {
        max_concurrent_hashes: 1,
        ..VerifyCacheConfig::default()
    });
    let forgery = || {
        let svc = svc.clone();
        let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
        tokio::spawn(async move { svc.verify(forged.expose()).await })
    };

    let hung_up = forgery();
    until(|| hasher.started.load(Ordering::SeqCst) == 1).await;
    hung_up.abort();
    assert!(hung_up.await.is_err_and(|e| e.is_cancelled()));
    let next = forgery();
    // The first hash still runs, so its permit is still taken: the next one waits for it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(hasher.started.load(Ordering::SeqCst), 1);
    hasher.gate.add_permits(1);
    until(|| hasher.started.load(Ordering::SeqCst) == 2).await;
    hasher.gate.add_permits(1);
    assert!(matches!(
        next.await.unwrap(),
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn revocations_from_the_feed_and_feed_losses_empty_the_cache() {
    use crate::ports::{RevocationEvent, RevocationFeed};

    struct Scripted(tokio::sync::mpsc::Receiver<RevocationEvent>);
    #[async_trait::async_trait]
    impl RevocationFeed for Scripted {
        async fn next(&mut self) -> RevocationEvent {
            match self.0.recv().await {
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
    let before = core.tokens.cached_tokens();
    let (events, rx) = tokio::sync::mpsc::channel(4);
    let follower = core.tokens.clone();
    let task = tokio::spawn(async move { follower.follow_revocations(Scripted(rx)).await });

    events
        .send(RevocationEvent::Revoked(a.token.id))
        .await
        .unwrap();
    let mut waited = 0;
    while core.tokens.cached_tokens() != before - 1 && waited < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        waited += 1;
    }
    assert_eq!(core.tokens.cached_tokens(), before - 1);
    events.send(RevocationEvent::Lost).await.unwrap();
    while core.tokens.cached_tokens() != 0 && waited < 400 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        waited += 1;
    }
    assert_eq!(core.tokens.cached_tokens(), 0);
    task.abort();
}

// ---- lifecycle: rotation, lifetimes, last used, audit ----

fn rotate_with(grace_seconds: u64) -> RotateToken {
    RotateToken {
        grace_period: tollgate_domain::GracePeriod::from_seconds(grace_seconds).unwrap(),
    }
}

#[tokio::test]
async fn rotation_issues_a_twin_and_the_old_token_works_until_the_grace_period_ends() {
    let core = core().await;
    let space = core.space("acme").await;
    let old = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(old.secret().expose()).await.unwrap();
    let new = core
        .tokens
        .rotate(&core.admin, space, old.token.id, rotate_with(3600))
        .await
        .unwrap();
    assert_ne!(new.token.id, old.token.id);
    assert_eq!(
        (
            new.token.name.clone(),
            new.token.level(),
            new.token.space_id()
        ),
        (
            old.token.name.clone(),
            old.token.level(),
            old.token.space_id()
        )
    );
    assert_eq!(new.token.replaces, Some(old.token.id));
    assert!(core.tokens.verify(new.secret().expose()).await.is_ok());
    assert!(
        core.tokens.verify(old.secret().expose()).await.is_ok(),
        "inside the grace period"
    );
    let stored = core
        .tokens
        .get(&core.admin, space, old.token.id)
        .await
        .unwrap();
    assert_eq!(
        core.tokens.status_of(&stored),
        tollgate_domain::TokenStatus::Rotated
    );
    assert_eq!(stored.replaced_by, Some(new.token.id));
    core.clock.advance(Duration::hours(1));
    assert!(matches!(
        core.tokens.verify(old.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
    assert!(core.tokens.verify(new.secret().expose()).await.is_ok());
}

#[tokio::test]
async fn rotation_without_grace_ends_the_old_token_at_once_even_when_cached() {
    let core = core().await;
    let space = core.space("acme").await;
    let old = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(old.secret().expose()).await.unwrap();
    core.tokens
        .rotate(&core.admin, space, old.token.id, RotateToken::default())
        .await
        .unwrap();
    assert!(matches!(
        core.tokens.verify(old.secret().expose()).await,
        Err(VerifyTokenError::Invalid)
    ));
}

#[tokio::test]
async fn only_active_tokens_rotate() {
    let core = core().await;
    let space = core.space("acme").await;
    let rotated = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .rotate(&core.admin, space, rotated.token.id, rotate_with(60))
        .await
        .unwrap();
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token.id)
        .await
        .unwrap();
    let expiring = NewToken {
        expires_at: Some(core.clock.now() + Duration::minutes(1)),
        ..new_token("x", TokenLevel::Client)
    };
    let expired = core
        .tokens
        .create(&core.admin, space, expiring)
        .await
        .unwrap();
    core.clock.advance(Duration::minutes(1));
    for (token, status) in [
        (&rotated, tollgate_domain::TokenStatus::Rotated),
        (&revoked, tollgate_domain::TokenStatus::Revoked),
        (&expired, tollgate_domain::TokenStatus::Expired),
    ] {
        let result = core
            .tokens
            .rotate(&core.admin, space, token.token.id, RotateToken::default())
            .await;
        assert!(
            matches!(result, Err(RotateTokenError::NotActive(s)) if s == status),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn rotating_needs_the_permission_to_create_that_level() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let client = core.issue(&core.admin, space, TokenLevel::Client).await;
    assert!(core
        .tokens
        .rotate(&space_admin, space, client.token.id, RotateToken::default())
        .await
        .is_ok());
    let result = core
        .tokens
        .rotate(
            &space_admin,
            space,
            admin_token.token.id,
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Admin))),
        "{result:?}"
    );
    let viewer = member(space, "v", MemberRole::Viewer);
    let other_client = core.issue(&core.admin, space, TokenLevel::Client).await;
    let result = core
        .tokens
        .rotate(
            &viewer,
            space,
            other_client.token.id,
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Client))),
        "{result:?}"
    );
    let client_actor = core.actor_of(&other_client).await;
    let result = core
        .tokens
        .rotate(
            &client_actor,
            space,
            admin_token.token.id,
            RotateToken::default(),
        )
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::NotFound)),
        "an admin token it cannot see: {result:?}"
    );
}

#[tokio::test]
async fn the_lifetime_policy_sets_and_bounds_expiry() {
    let core = core().await;
    let space = core.space("acme").await;
    let policy = tollgate_domain::LifetimePolicy::from_days(Some(30), Some(7)).unwrap();
    let tokens = core.tokens.clone().with_lifetime_policy(policy);
    let defaulted = tokens
        .create(&core.admin, space, new_token("d", TokenLevel::Client))
        .await
        .unwrap();
    assert_eq!(
        defaulted.token.expires_at,
        Some(core.clock.now() + Duration::days(7))
    );
    let far = NewToken {
        expires_at: Some(core.clock.now() + Duration::days(31)),
        ..new_token("f", TokenLevel::Client)
    };
    let refused = tokens.create(&core.admin, space, far).await;
    assert!(
        matches!(
            refused,
            Err(CreateTokenError::ExpiryBeyondMaximum { max_days: 30 })
        ),
        "{refused:?}"
    );
    // A rotated token keeps its lifetime length, counted from the rotation.
    core.clock.advance(Duration::days(2));
    let rotated = tokens
        .rotate(
            &core.admin,
            space,
            defaulted.token.id,
            RotateToken::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        rotated.token.expires_at,
        Some(core.clock.now() + Duration::days(7))
    );
}

#[tokio::test]
async fn lists_show_active_tokens_unless_other_statuses_are_asked_for() {
    let core = core().await;
    let space = core.space("acme").await;
    let active = core.issue(&core.admin, space, TokenLevel::Client).await;
    let revoked = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens
        .revoke(&core.admin, space, revoked.token.id)
        .await
        .unwrap();
    let ids =
        |page: crate::Page<ApiToken>| page.items.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let default = core
        .tokens
        .list(&core.admin, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(ids(default), vec![active.token.id]);
    let asked = ListTokens {
        statuses: crate::ports::StatusFilter::of(&[tollgate_domain::TokenStatus::Revoked]),
        ..ListTokens::default()
    };
    let listed = core.tokens.list(&core.admin, space, asked).await.unwrap();
    assert_eq!(ids(listed.clone()), vec![revoked.token.id]);
    assert!(listed.items[0].revoked_at.is_some());
}

#[tokio::test]
async fn many_verifications_of_one_token_within_an_interval_cause_one_write() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let id = token.id;
    let mut tokens = store_holding(token);
    tokens
        .expect_record_last_used()
        .times(1)
        .withf(move |uses| uses.len() == 1 && uses[0].0 == id)
        .returning(|_| Ok(()));
    let clock = Arc::new(ManualClock::default());
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        clock.clone(),
    );
    for _ in 0..500 {
        svc.verify(string.expose()).await.unwrap();
        clock.advance(Duration::milliseconds(10));
    }
    assert_eq!(svc.flush_last_used().await.unwrap(), 1);
    assert_eq!(
        svc.flush_last_used().await.unwrap(),
        0,
        "nothing new: no second write"
    );
}

#[tokio::test]
async fn last_used_reaches_the_store_with_the_latest_use() {
    let core = core().await;
    let space = core.space("acme").await;
    let issued = core.issue(&core.admin, space, TokenLevel::Client).await;
    core.tokens.verify(issued.secret().expose()).await.unwrap();
    core.clock.advance(Duration::seconds(30));
    let last = core.clock.now();
    core.tokens.verify(issued.secret().expose()).await.unwrap();
    core.tokens.flush_last_used().await.unwrap();
    let read = core
        .tokens
        .get(&core.admin, space, issued.token.id)
        .await
        .unwrap();
    assert_eq!(read.last_used_at, Some(last));
}

#[tokio::test]
async fn a_failed_flush_keeps_the_uses_for_the_next_one() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored_with_real_hash(space, None).await;
    let mut tokens = store_holding(token);
    let mut calls = 0;
    tokens
        .expect_record_last_used()
        .times(2)
        .returning(move |_| {
            calls += 1;
            if calls == 1 {
                Err(down())
            } else {
                Ok(())
            }
        });
    let svc = service(
        space_repo_with(space).await,
        tokens,
        fast_hasher(),
        Arc::new(ManualClock::default()),
    );
    svc.verify(string.expose()).await.unwrap();
    assert!(svc.flush_last_used().await.is_err());
    assert_eq!(svc.flush_last_used().await.unwrap(), 1);
}

#[tokio::test]
async fn creations_rotations_revocations_and_rejected_uses_are_audited_without_secrets() {
    let core = core().await;
    let space = core.space("acme").await;
    let editor = member(space, "user-7", MemberRole::Editor);
    let first = core.issue(&editor, space, TokenLevel::Client).await;
    let second = core
        .tokens
        .rotate(&core.admin, space, first.token.id, RotateToken::default())
        .await
        .unwrap();
    core.tokens
        .revoke(&core.admin, space, second.token.id)
        .await
        .unwrap();
    for _ in 0..5 {
        assert!(core.tokens.verify(second.secret().expose()).await.is_err());
    }
    let page = core
        .tokens
        .list_events(&core.admin, space, PageRequest::default())
        .await
        .unwrap();
    let actions: Vec<_> = page
        .items
        .iter()
        .map(|e| (e.action.as_str(), e.token_id, e.actor.to_string()))
        .collect();
    let admin = format!("{}", core.admin.as_creator());
    assert_eq!(
        actions,
        vec![
            (
                "token.rejected",
                second.token.id,
                format!("token:{}", second.token.id)
            ),
            ("token.revoked", second.token.id, admin.clone()),
            // One event per rotation, about the replaced token; the new token names it in
            // `replaces`.
            ("token.rotated", first.token.id, admin),
            ("token.created", first.token.id, "user:user-7".to_owned()),
        ],
        "newest first, one rejection event for five rejected uses"
    );
    let debug = format!("{page:?}");
    for secret in [first.secret().expose(), second.secret().expose()] {
        assert!(!debug.contains(&secret[26..69]));
    }
    let viewer = member(space, "v", MemberRole::Viewer);
    assert!(matches!(
        core.tokens
            .list_events(&viewer, space, PageRequest::default())
            .await,
        Err(ListEventsError::Forbidden)
    ));
    let other = core.space("other").await;
    let stranger = member(other, "s", MemberRole::Owner);
    assert!(matches!(
        core.tokens
            .list_events(&stranger, space, PageRequest::default())
            .await,
        Err(ListEventsError::SpaceNotFound)
    ));
}

#[tokio::test]
async fn an_editor_rotates_only_the_client_tokens_it_could_revoke() {
    let core = core().await;
    let space = core.space("acme").await;
    let alice = member(space, "alice", MemberRole::Editor);
    let hers = core.issue(&alice, space, TokenLevel::Client).await;
    let owners = core
        .issue(
            &member(space, "olga", MemberRole::Owner),
            space,
            TokenLevel::Client,
        )
        .await;
    assert!(core
        .tokens
        .rotate(&alice, space, hers.token.id, RotateToken::default())
        .await
        .is_ok());
    let result = core
        .tokens
        .rotate(&alice, space, owners.token.id, RotateToken::default())
        .await;
    assert!(
        matches!(result, Err(RotateTokenError::Forbidden(TokenLevel::Client))),
        "{result:?}"
    );
    assert!(
        core.tokens.verify(owners.secret().expose()).await.is_ok(),
        "the owner's token is untouched"
    );
}

#[tokio::test]
async fn a_revocation_landing_while_argon2_runs_is_not_missed() {
    // The hasher revokes the token while it "computes": the row read before hashing is stale.
    struct RevokingHasher {
        inner: Argon2Hasher,
        tokens: std::sync::OnceLock<(TokenService, Actor, SpaceId, tollgate_domain::TokenId)>,
    }
    #[async_trait::async_trait]
    impl SecretHasher for RevokingHasher {
        async fn hash(
            &self,
            secret: &tollgate_domain::TokenSecret,
        ) -> Result<SecretHash, HashError> {
            self.inner.hash(secret).await
        }
        async fn verify(
            &self,
            secret: &tollgate_domain::TokenSecret,
            hash: &SecretHash,
        ) -> Result<bool, HashError> {
            if let Some((tokens, admin, space, id)) = self.tokens.get() {
                tokens.revoke(admin, *space, *id).await.unwrap();
            }
            self.inner.verify(secret, hash).await
        }
    }

    let store = InMemoryStore::new();
    let clock = Arc::new(ManualClock::default());
    let random = Arc::new(OsRandomSource);
    let hasher = Arc::new(RevokingHasher {
        inner: fast_hasher(),
        tokens: std::sync::OnceLock::new(),
    });
    let spaces = SpaceService::new(store.spaces.clone(), clock.clone(), random.clone());
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens.clone(),
        store.events.clone(),
        hasher.clone(),
        clock,
        random,
    );
    let admin = Actor::for_token(&tokens.ensure_instance_admin().await.unwrap().unwrap().token);
    let space = spaces
        .create(
            &admin,
            NewSpace {
                name: SpaceName::parse("s").unwrap(),
            },
        )
        .await
        .unwrap()
        .id;
    let issued = tokens
        .create(&admin, space, new_token("t", TokenLevel::Client))
        .await
        .unwrap();
    let _ = hasher
        .tokens
        .set((tokens.clone(), admin, space, issued.token.id));
    let result = tokens.verify(issued.secret().expose()).await;
    assert!(
        matches!(result, Err(VerifyTokenError::Invalid)),
        "{result:?}"
    );
}

#[tokio::test]
async fn readers_without_read_admin_api_token_never_learn_an_admin_token_id_from_created_by() {
    let core = core().await;
    let space = core.space("acme").await;
    let admin_token = core.issue(&core.admin, space, TokenLevel::Admin).await;
    let space_admin = core.actor_of(&admin_token).await;
    let client = core.issue(&space_admin, space, TokenLevel::Client).await;
    let reader = core.actor_of(&client).await;
    let listed = core
        .tokens
        .list(&reader, space, ListTokens::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].created_by.to_string(), "token");
    let read = core
        .tokens
        .get(&reader, space, client.token.id)
        .await
        .unwrap();
    assert_eq!(read.created_by.to_string(), "token");
    let viewer = member(space, "v", MemberRole::Viewer);
    assert_eq!(
        core.tokens
            .get(&viewer, space, client.token.id)
            .await
            .unwrap()
            .created_by
            .to_string(),
        "token"
    );
    // Holders of READ_ADMIN_API_TOKEN see which token it was.
    let as_admin = core
        .tokens
        .get(&space_admin, space, client.token.id)
        .await
        .unwrap();
    assert_eq!(
        as_admin.created_by,
        tollgate_domain::CreatedBy::Token(admin_token.token.id)
    );
}

#[tokio::test]
async fn forgeries_against_a_cached_token_cost_no_store_lookup_and_no_argon2() {
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored(TokenLevel::Client, space, None, None);
    let id = token.id;
    let tokens = store_looked_up(token, 1);
    // One argon2 run in all: the genuine first verification. Forgeries never reach the hasher.
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    let svc = service(
        space_repo_with(space).await,
        tokens,
        hasher,
        Arc::new(ManualClock::default()),
    );
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
    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored(TokenLevel::Client, space, None, None);
    let mut hasher = MockSecretHasher::new();
    hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    let verified = futures::executor::block_on(async {
        let svc = service(
            space_repo_with(space).await,
            store_holding(token),
            hasher,
            Arc::new(ManualClock::default()),
        );
        svc.verify(string.expose()).await
    });
    assert!(verified.is_ok(), "{verified:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_first_uses_of_one_token_costs_one_lookup_and_one_argon2_run() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Slow(AtomicUsize);
    #[async_trait::async_trait]
    impl SecretHasher for Slow {
        async fn hash(&self, _: &tollgate_domain::TokenSecret) -> Result<SecretHash, HashError> {
            unreachable!()
        }
        async fn verify(
            &self,
            _: &tollgate_domain::TokenSecret,
            _: &SecretHash,
        ) -> Result<bool, HashError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(true)
        }
    }

    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, string) = stored(TokenLevel::Client, space, None, None);
    let hasher = Arc::new(Slow(AtomicUsize::new(0)));
    let svc = TokenService::new(
        space_repo_with(space).await,
        Arc::new(store_looked_up(token, 1)),
        Arc::new(crate::adapters::InMemoryAuditRepository::new()),
        hasher.clone(),
        Arc::new(ManualClock::default()),
        Arc::new(OsRandomSource),
    );
    let uses = (0..8).map(|_| {
        let (svc, string) = (svc.clone(), string.clone());
        tokio::spawn(async move { svc.verify(string.expose()).await })
    });
    for used in futures::future::join_all(uses).await {
        assert!(used.unwrap().is_ok());
    }
    assert_eq!(hasher.0.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_forgeries_against_one_id_leaves_the_other_permits_to_other_tokens() {
    use std::sync::atomic::Ordering;
    use tollgate_domain::TokenId;

    let space = SpaceId::from_uuid(uuid::Uuid::from_u128(7));
    let (token, _) = stored(TokenLevel::Client, space, None, None);
    let (attacked, other) = (
        TokenId::from_uuid(uuid::Uuid::from_u128(1)),
        TokenId::from_uuid(uuid::Uuid::from_u128(2)),
    );
    let hash_of = |id: TokenId| SecretHash::new(format!("$argon2id$v=19$of-{id}"));
    let mut tokens = MockTokenRepository::new();
    tokens.expect_get().returning(move |id| {
        let mut found = token.clone();
        found.id = id;
        found.secret_hash = hash_of(id);
        Ok(Some(found))
    });
    let hasher = Arc::new(Gated::default());
    let svc = TokenService::new(
        space_repo_with(space).await,
        Arc::new(tokens),
        Arc::new(crate::adapters::InMemoryAuditRepository::new()),
        hasher.clone(),
        Arc::new(ManualClock::default()),
        Arc::new(OsRandomSource),
    )
    .with_verify_cache(VerifyCacheConfig {
        max_concurrent_hashes: 2,
        ..VerifyCacheConfig::default()
    });
    let verify = |id: TokenId| {
        let svc = svc.clone();
        let forged = TokenString::new(TokenKind::Client, id, &OsRandomSource.secret());
        tokio::spawn(async move { svc.verify(forged.expose()).await })
    };

    let flood: Vec<_> = (0..6).map(|_| verify(attacked)).collect();
    until(|| hasher.started.load(Ordering::SeqCst) >= 1).await;
    // Give the rest of the flood every chance to take the second permit, as it would without
    // lanes: here it waits in the attacked id's lane instead.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let legitimate = verify(other);
    until(|| hasher.started.load(Ordering::SeqCst) >= 2).await;
    let second = hasher
        .checked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)[1]
        .clone();
    assert_eq!(
        second,
        hash_of(other),
        "the second permit went to the flood"
    );
    hasher.gate.add_permits(100);
    assert!(legitimate.await.unwrap().is_err());
    for forged in flood {
        assert!(forged.await.unwrap().is_err());
    }
}
