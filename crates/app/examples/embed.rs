//! Another service embedding tollgate: `TokenService` on the in-memory adapters, a space member
//! with role `editor` creating a client token, and the token verified as a request would be.
//!
//! Run with `cargo run -p tollgate-app --example embed`.
#![allow(clippy::print_stdout)] // an example talks to its reader

use std::sync::Arc;

use tollgate_app::adapters::{Argon2Hasher, InMemoryStore, OsRandomSource, SystemClock};
use tollgate_app::{CreateTokenError, NewSpace, NewToken, SpaceService, TokenService};
use tollgate_domain::{Actor, MemberRole, SpaceName, TokenLevel, TokenName, UserId};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Wiring: the platform picks its adapters; here the in-memory store and argon2id at
    // OWASP's parameters.
    let store = InMemoryStore::new();
    let clock = Arc::new(SystemClock);
    let random = Arc::new(OsRandomSource);
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens.clone(),
        store.events.clone(),
        Arc::new(Argon2Hasher::for_tokens()),
        clock.clone(),
        random.clone(),
    );
    // Deleting a space drops its tokens from the token service's verification cache.
    let spaces = SpaceService::new(
        store.spaces.clone(),
        Arc::clone(tokens.verifier()),
        clock,
        random,
    );

    // The platform's own instance admin creates a space for a tenant.
    let Some(admin) = tokens.ensure_instance_admin().await? else {
        return Err("a fresh store has no instance admin token".into());
    };
    let platform = Actor::for_token(admin.token());
    let space = spaces
        .create(
            &platform,
            NewSpace {
                name: SpaceName::parse("Acme")?,
            },
        )
        .await?;

    // A member of that space, authenticated by the platform itself, with role `editor`.
    let editor = Actor::Member {
        user_id: UserId::parse("user-7")?,
        space_id: space.id,
        role: MemberRole::Editor,
        via_token_id: None,
    };
    let issued = tokens
        .create(
            &editor,
            space.id,
            NewToken {
                name: TokenName::parse("ci pipeline")?,
                level: TokenLevel::Client,
                expires_at: None,
            },
        )
        .await?;
    println!(
        "issued {} ({}), created by {}",
        issued.token().name(),
        issued.token().hint(),
        issued.token().created_by()
    );

    // Later, a program presents the token in a request: the platform verifies it.
    let verified = tokens.verify(issued.secret().expose()).await?;
    assert_eq!(
        verified.actor,
        Actor::SpaceToken {
            token_id: issued.token().id(),
            space_id: space.id,
            level: TokenLevel::Client
        }
    );
    println!(
        "verified: acts as a {} token of space {}",
        verified.token.level(),
        space.id
    );

    // An editor may not mint admin tokens.
    let denied = tokens
        .create(
            &editor,
            space.id,
            NewToken {
                name: TokenName::parse("root")?,
                level: TokenLevel::Admin,
                expires_at: None,
            },
        )
        .await;
    match denied {
        Err(CreateTokenError::Forbidden(_)) => {
            println!("an editor creating an admin token: refused");
        }
        other => return Err(format!("an editor must not mint admin tokens, got {other:?}").into()),
    }
    Ok(())
}
