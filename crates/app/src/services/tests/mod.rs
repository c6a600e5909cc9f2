//! Service tests: the use cases on the in-memory adapters, and failure paths with mocks. The
//! wiring is [`TestPorts`]'s and [`TestCore`]'s; what is here is the vocabulary the tests share.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod failures;
mod instance_tokens;
mod introspect;
mod leak_reports;
mod lifecycle;
mod lockout;
mod rehash;
mod sessions;
mod spaces;
mod suspension;
mod tokens;
mod update;
mod verify;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tollgate_domain::{
    Actor, ApiToken, CreatedBy, MemberRole, NewApiToken, SecretHash, Space, SpaceId, SpaceName,
    TokenId, TokenKind, TokenLevel, TokenName, TokenScope, TokenString, UserId,
};

use super::*;
use crate::adapters::{
    InMemorySpaceRepository, ManualClock, OsRandomSource, SequentialRandomSource,
};
use crate::error::StoreError;
use crate::pagination::{PageLimit, PageRequest};
use crate::ports::{
    Clock, HashAssessment, HashError, MockClock, MockSecretHasher, MockTokenRepository,
    RandomSource, SecretHasher, SpaceRepository, TokenRepository,
};
use crate::testing::{FakeHasher, TestCore, TestPorts};

/// A whole core on the in-memory store, with its instance admin.
struct Core {
    spaces: SpaceService,
    tokens: TokenService,
    clock: Arc<ManualClock>,
    admin: Actor,
    /// The instance admin's token string.
    admin_token: String,
}

async fn core() -> Core {
    core_over(TestCore::new()).await
}

/// A [`core`] whose token service hashes with `hasher`.
async fn core_hashing_with(hasher: Arc<dyn SecretHasher>) -> Core {
    core_over(TestCore::with_hasher(hasher)).await
}

async fn core_over(core: TestCore) -> Core {
    let TestCore {
        spaces,
        tokens,
        clock,
        ..
    } = core;
    let bootstrap = tokens.ensure_instance_admin().await.unwrap().unwrap();
    Core {
        admin: Actor::for_token(bootstrap.token()),
        admin_token: bootstrap.secret().expose().to_owned(),
        spaces,
        tokens,
        clock,
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
        via_token_id: None,
    }
}

fn rotate_with(grace_seconds: u64) -> RotateToken {
    RotateToken {
        grace_period: tollgate_domain::GracePeriod::from_seconds(grace_seconds).unwrap(),
    }
}

fn instance_admin() -> Actor {
    Actor::InstanceAdmin {
        token_id: TokenId::from_uuid(uuid::Uuid::from_u128(1)),
    }
}

fn down() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

/// The space every mock-store test acts in.
fn space() -> SpaceId {
    SpaceId::from_uuid(uuid::Uuid::from_u128(7))
}

/// Default [`TestPorts`] whose space repository holds [`space`].
async fn ports() -> TestPorts {
    let spaces = InMemorySpaceRepository::new();
    spaces
        .insert(&Space {
            id: space(),
            name: SpaceName::parse("s").unwrap(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            deleted_at: None,
        })
        .await
        .unwrap();
    TestPorts {
        spaces: Arc::new(spaces),
        ..TestPorts::default()
    }
}

/// A client token `id` of [`space`] with `hash`, expiring at `expires_at`.
fn client_token(id: TokenId, hash: SecretHash, expires_at: Option<OffsetDateTime>) -> ApiToken {
    ApiToken::issue(NewApiToken {
        id,
        scope: TokenScope::Space {
            space_id: space(),
            level: TokenLevel::Client,
        },
        name: TokenName::parse("t").unwrap(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        created_by: CreatedBy::System,
        expires_at,
        replaces: None,
        secret_hash: hash,
    })
}

/// A stored client token of [`space`] and its token string, hashed by `hasher` (use the one
/// the service verifies with, so that the string verifies).
async fn stored_hashed_by(
    hasher: &dyn SecretHasher,
    expires_at: Option<OffsetDateTime>,
) -> (ApiToken, TokenString) {
    let random = SequentialRandomSource::new();
    let (id, secret) = (random.token_id(), random.secret());
    let hash = hasher.hash(&secret).await.unwrap();
    let string = TokenString::new(tollgate_domain::TokenKind::Client, id, &secret);
    (client_token(id, hash, expires_at), string)
}

/// A stored client token of [`space`] and its string, with a hash no hasher accepts: what the
/// tests use where the secret is never checked, or a mock answers for it.
fn stored(expires_at: Option<OffsetDateTime>) -> (ApiToken, TokenString) {
    let random = SequentialRandomSource::new();
    let (id, secret) = (random.token_id(), random.secret());
    let token = client_token(id, SecretHash::new("$argon2id$stored".into()), expires_at);
    let string = TokenString::new(tollgate_domain::TokenKind::Client, id, &secret);
    (token, string)
}

/// A token store whose `get` always finds `token`; other calls fail the test unless expected.
fn store_holding(token: ApiToken) -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_get()
        .returning(move |_| Ok(Some(token.clone())));
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

/// A token store that holds a client token under every id, hashed as `hash_of` says.
fn store_holding_every_id(hash_of: fn(TokenId) -> SecretHash) -> MockTokenRepository {
    let mut tokens = MockTokenRepository::new();
    tokens
        .expect_get()
        .returning(move |id| Ok(Some(client_token(id, hash_of(id), None))));
    tokens
}

/// A fake hasher's hash of a secret nobody presents: every check against it fails.
fn unmatched_hash(_: TokenId) -> SecretHash {
    SecretHash::new("$argon2id$unmatched".into())
}

/// The token service over `tokens` and `hasher` (each a mock or a fake), with [`space`] and
/// `clock`; everything else as [`TestPorts`] has it.
async fn service(
    tokens: impl TokenRepository + 'static,
    hasher: Arc<dyn SecretHasher>,
    clock: Arc<dyn Clock>,
) -> TokenService {
    TestPorts {
        clock,
        ..ports_with(tokens, hasher).await
    }
    .token_service()
}

/// A clock standing at [`ManualClock::default`]'s moment.
fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::default())
}

/// Ports over `tokens` (a mock) and `hasher`, with [`space`].
async fn ports_with(
    tokens: impl TokenRepository + 'static,
    hasher: Arc<dyn SecretHasher>,
) -> TestPorts {
    TestPorts {
        tokens: Arc::new(tokens),
        hasher,
        ..ports().await
    }
}

/// A fake hasher shared with the test, so that it can look inside.
fn fake(hasher: FakeHasher) -> Arc<FakeHasher> {
    Arc::new(hasher)
}
