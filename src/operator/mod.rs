//! The operator CLI: `tollgate space ...` and `tollgate token ...` on the configured store, for
//! break-glass work and scripts (docs/operations.md, "The operator CLI").
//!
//! - Every command goes through the same services as the REST API, as the actor
//!   [`Actor::Operator`]: the policy treats it as instance-wide, and events record it as `cli`.
//! - On a SQLite file a running server holds, commands open it beside the server (no lock):
//!   the schema's triggers log every change to a token, and the server's change feed applies
//!   it to its cache within a poll (`tollgate_sqlite::POLL_INTERVAL`). On Postgres the same
//!   triggers NOTIFY every node.
//! - A secret is printed only by `create` and `rotate`, to standard output and nothing else
//!   there (in `table` output the metadata goes to standard error), so that
//!   `TOKEN=$(tollgate token create ...)` holds the token alone.
//! - Bad input exits with 2 ([`BadInput`]), as clap's own refusals do; a failure of the store or
//!   of the action (not found, a token that has ended) with 1.

pub mod args;
mod output;

use std::io::{Read, Write};
use std::sync::Arc;

use anyhow::Context;
use tollgate_app::adapters::{Argon2Hasher, Argon2Params, OsRandomSource};
use tollgate_app::ports::StatusFilter;
use tollgate_app::{
    mint_token_string, CreateTokenError, ListInstanceTokens, ListTokens, NewSpace, NewToken,
    PageLimit, PageRequest, PresentedToken, RotateToken, SpaceService, TokenHome, TokenService,
    UpdateTokenError,
};
use tollgate_domain::{
    Actor, GracePeriod, SpaceName, TokenDescription, TokenKind, TokenLevel, TokenName, TokenUpdate,
};

use self::args::{Home, IssuingArgs, Output, SpaceCommand, StoreArgs, TokenCommand};
use self::output::Printer;
use crate::serve::{runtime, services_clock};
use crate::store;

/// Bad input from the command line: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

fn bad_input(message: impl Into<String>) -> anyhow::Error {
    BadInput(message.into()).into()
}

/// Whether the error is the operator's bad input (exit 2) rather than a failure (exit 1).
pub fn is_bad_input(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<BadInput>())
}

/// The services on the store the arguments name.
struct Services {
    spaces: SpaceService,
    tokens: TokenService,
}

async fn services(
    store_args: &StoreArgs,
    issuing: Option<&IssuingArgs>,
) -> anyhow::Result<Services> {
    let hasher = match issuing {
        Some(issuing) => Arc::new(issuing.hashing.hasher()?),
        // Commands that issue nothing still give the service a hasher; they never use it.
        None => Arc::new(Argon2Hasher::new(Argon2Params::default())?),
    };
    let lifetimes = issuing
        .map(|issuing| issuing.lifetimes.policy())
        .transpose()?
        .unwrap_or_default();
    let store = store::open_for_operator(&store_args.database).await?;
    let (clock, random) = (services_clock()?, Arc::new(OsRandomSource));
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens,
        store.events,
        hasher,
        clock.clone(),
        random.clone(),
    )
    .with_lifetime_policy(lifetimes);
    let spaces = SpaceService::new(store.spaces, Arc::clone(tokens.verifier()), clock, random);
    Ok(Services { spaces, tokens })
}

/// `tollgate space ...`.
pub fn space(command: SpaceCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let actor = Actor::Operator;
        match command {
            SpaceCommand::Create { name, store } => {
                let name =
                    SpaceName::parse(&name).map_err(|e| bad_input(format!("space name: {e}")))?;
                let services = services(&store, None).await?;
                let space = services
                    .spaces
                    .create(&actor, NewSpace { name })
                    .await
                    .context("failed to create the space")?;
                Printer::new(store.output).space(&space)
            }
            SpaceCommand::Rename {
                space_id,
                name,
                store,
            } => {
                let name =
                    SpaceName::parse(&name).map_err(|e| bad_input(format!("space name: {e}")))?;
                let services = services(&store, None).await?;
                let space = services
                    .spaces
                    .rename(&actor, space_id, name)
                    .await
                    .with_context(|| format!("failed to rename space {space_id}"))?;
                Printer::new(store.output).space(&space)
            }
            SpaceCommand::Delete { space_id, store } => {
                let services = services(&store, None).await?;
                let deletion = services
                    .spaces
                    .delete(&actor, space_id)
                    .await
                    .with_context(|| format!("failed to delete space {space_id}"))?;
                Printer::new(store.output).deletion(space_id, &deletion)
            }
            SpaceCommand::List { store } => {
                let services = services(&store, None).await?;
                let mut spaces = Vec::new();
                let mut cursor = None;
                loop {
                    let page = services
                        .spaces
                        .list(
                            &actor,
                            PageRequest {
                                limit: largest_page(),
                                cursor,
                            },
                        )
                        .await
                        .context("failed to list the spaces")?;
                    spaces.extend(page.items);
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Printer::new(store.output).spaces(&spaces)
            }
        }
    })
}

/// `tollgate token ...`. Returns whether the command succeeded in what it checked (`check`
/// exits 1 for a malformed token without it being an error).
pub fn token(command: TokenCommand) -> anyhow::Result<bool> {
    match command {
        TokenCommand::Mint { instance_admin: _ } => {
            // Printing the token is the whole point of this command; it goes to stdout alone so
            // that `export TOLLGATE_BOOTSTRAP_TOKEN=$(tollgate token mint --instance-admin)` works.
            let token = mint_token_string(&OsRandomSource, TokenKind::InstanceAdmin);
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", token.expose())?;
            Ok(true)
        }
        TokenCommand::Check { token, output } => check(token.as_deref(), output),
        command => {
            runtime()?.block_on(on_store(command))?;
            Ok(true)
        }
    }
}

/// `tollgate token check`: the offline format and checksum check.
fn check(token: Option<&str>, output: Output) -> anyhow::Result<bool> {
    let read;
    let token = match token {
        Some(token) if token != "-" => token,
        _ => {
            let mut input = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut input)
                .context("failed to read the token from standard input")?;
            read = input;
            read.trim()
        }
    };
    let parsed = PresentedToken::parse(token).ok();
    Printer::new(output).check(parsed.as_ref())?;
    Ok(parsed.is_some())
}

async fn on_store(command: TokenCommand) -> anyhow::Result<()> {
    let actor = Actor::Operator;
    match command {
        TokenCommand::Mint { .. } | TokenCommand::Check { .. } => unreachable!("handled offline"),
        TokenCommand::Create {
            home,
            name,
            level,
            expiry,
            issuing,
        } => {
            let name = token_name(&name)?;
            let services = services(&issuing.store, Some(&issuing)).await?;
            let now = services.tokens.now();
            let expires_at = match (expiry.expires_at, expiry.expires_in_days) {
                (Some(at), _) => Some(at),
                (None, Some(days)) => Some(now + time::Duration::days(i64::from(days))),
                (None, None) => None,
            };
            let created = match home_of(&home) {
                TokenHome::Instance => {
                    if level.is_some_and(|level| level != TokenLevel::Admin) {
                        return Err(bad_input(
                            "an instance admin token is admin-level: leave out --level",
                        ));
                    }
                    services
                        .tokens
                        .create_instance_admin(&actor, name, expires_at)
                        .await
                }
                TokenHome::Space(space_id) => {
                    let level = level.ok_or_else(|| {
                        bad_input("--level client or --level admin is needed for a space token")
                    })?;
                    services
                        .tokens
                        .create(
                            &actor,
                            space_id,
                            NewToken {
                                name,
                                level,
                                expires_at,
                            },
                        )
                        .await
                }
            };
            let issued = created.map_err(create_error)?;
            Printer::new(issuing.store.output).issued(issued)
        }
        TokenCommand::List {
            home,
            status,
            level,
            store,
        } => {
            let services = services(&store, None).await?;
            let statuses = if status.is_empty() {
                StatusFilter::ACTIVE
            } else {
                StatusFilter::of(&status)
            };
            let home = home_of(&home);
            if home == TokenHome::Instance && level.is_some_and(|l| l != TokenLevel::Admin) {
                return Err(bad_input(
                    "instance admin tokens are admin-level: leave out --level",
                ));
            }
            let mut views = Vec::new();
            let mut cursor = None;
            loop {
                let page = PageRequest {
                    limit: largest_page(),
                    cursor,
                };
                let page = match home {
                    TokenHome::Space(space_id) => services
                        .tokens
                        .list(
                            &actor,
                            space_id,
                            ListTokens {
                                level,
                                statuses,
                                page,
                                ..ListTokens::default()
                            },
                        )
                        .await
                        .with_context(|| {
                            format!("failed to list the tokens of space {space_id}")
                        })?,
                    TokenHome::Instance => services
                        .tokens
                        .list_instance_admins(&actor, ListInstanceTokens { statuses, page })
                        .await
                        .context("failed to list the instance admin tokens")?,
                };
                views.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Printer::new(store.output).tokens(&views)
        }
        TokenCommand::Get { target, store } => {
            let services = services(&store, None).await?;
            let view = services
                .tokens
                .get(&actor, home_of(&target.home), target.token_id)
                .await
                .with_context(|| format!("failed to read token {}", target.token_id))?;
            Printer::new(store.output).token(&view)
        }
        TokenCommand::Update {
            target,
            name,
            description,
            no_description,
            expires_at,
            never_expires,
            issuing,
        } => {
            let changes = TokenUpdate {
                name: name.as_deref().map(token_name).transpose()?,
                description: match (description, no_description) {
                    (Some(text), _) => Some(Some(
                        TokenDescription::parse(&text)
                            .map_err(|e| bad_input(format!("--description: {e}")))?,
                    )),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                expires_at: match (expires_at, never_expires) {
                    (Some(at), _) => Some(Some(at)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
            };
            if changes == TokenUpdate::default() {
                return Err(bad_input(
                    "nothing to change: give --name, --description, --no-description, --expires-at or --never-expires",
                ));
            }
            let services = services(&issuing.store, Some(&issuing)).await?;
            let view = services
                .tokens
                .update(&actor, home_of(&target.home), target.token_id, changes)
                .await
                .map_err(update_error)
                .with_context(|| format!("failed to update token {}", target.token_id))?;
            Printer::new(issuing.store.output).token(&view)
        }
        TokenCommand::Suspend { target, store } => {
            let services = services(&store, None).await?;
            let view = services
                .tokens
                .suspend(&actor, home_of(&target.home), target.token_id)
                .await
                .with_context(|| format!("failed to suspend token {}", target.token_id))?;
            Printer::new(store.output).token(&view)
        }
        TokenCommand::Resume { target, store } => {
            let services = services(&store, None).await?;
            let view = services
                .tokens
                .resume(&actor, home_of(&target.home), target.token_id)
                .await
                .with_context(|| format!("failed to resume token {}", target.token_id))?;
            Printer::new(store.output).token(&view)
        }
        TokenCommand::Revoke { target, store } => {
            let services = services(&store, None).await?;
            let view = services
                .tokens
                .revoke(&actor, home_of(&target.home), target.token_id)
                .await
                .with_context(|| format!("failed to revoke token {}", target.token_id))?;
            Printer::new(store.output).token(&view)
        }
        TokenCommand::Rotate {
            target,
            grace_seconds,
            issuing,
        } => {
            let grace_period = GracePeriod::from_seconds(grace_seconds).map_err(|_| {
                bad_input(format!(
                    "--grace-seconds must be between 0 and {}",
                    GracePeriod::MAX_SECONDS
                ))
            })?;
            let services = services(&issuing.store, Some(&issuing)).await?;
            let issued = services
                .tokens
                .rotate(
                    &actor,
                    home_of(&target.home),
                    target.token_id,
                    RotateToken { grace_period },
                )
                .await
                .with_context(|| format!("failed to rotate token {}", target.token_id))?;
            Printer::new(issuing.store.output).issued(issued)
        }
    }
}

/// Pages as large as the services give: the CLI reads every page of a listing.
fn largest_page() -> PageLimit {
    PageLimit::new(PageLimit::MAX).unwrap_or_default()
}

fn home_of(home: &Home) -> TokenHome {
    match home.space {
        Some(space_id) => TokenHome::Space(space_id),
        None => TokenHome::Instance,
    }
}

fn token_name(raw: &str) -> anyhow::Result<TokenName> {
    TokenName::parse(raw).map_err(|e| bad_input(format!("token name: {e}")))
}

/// A refused expiry is the operator's bad input; anything else a failure.
fn create_error(error: CreateTokenError) -> anyhow::Error {
    match error {
        CreateTokenError::ExpiryNotInFuture | CreateTokenError::ExpiryBeyondMaximum { .. } => {
            bad_input(format!("failed to create the token: {error}"))
        }
        other => anyhow::Error::new(other).context("failed to create the token"),
    }
}

fn update_error(error: UpdateTokenError) -> anyhow::Error {
    match error {
        UpdateTokenError::ExpiryNotInFuture
        | UpdateTokenError::ExpiryBeyondMaximum { .. }
        | UpdateTokenError::NeverBeyondMaximum { .. } => bad_input(error.to_string()),
        other => other.into(),
    }
}
