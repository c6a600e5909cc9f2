//! `TOLLGATE_BOOTSTRAP_TOKEN` at start, and the rule for a new one (docs/operations.md,
//! "Bootstrap token"): a token not stored yet is registered beside the instance admin tokens
//! that exist, and the start-up log names every one of those that stays active, so that an
//! operator who replaced a leaked bootstrap token learns that the old one still works. With
//! `TOLLGATE_BOOTSTRAP_REVOKE_OTHERS=true`, every other instance admin token is revoked instead
//! (on every node, as any revocation): the break-glass step once one has leaked.

use anyhow::Context;
use tollgate_app::{BootstrapOutcome, TokenHome, TokenService};
use tollgate_domain::{Actor, ApiToken, ParsedToken, TokenStatus};

/// Registers `presented` and applies the rule to the other instance admin tokens.
pub async fn register(
    tokens: &TokenService,
    presented: &str,
    revoke_others: bool,
) -> anyhow::Result<()> {
    let outcome = tokens
        .register_instance_admin(presented)
        .await
        .context("TOLLGATE_BOOTSTRAP_TOKEN could not be registered")?;
    let id = ParsedToken::parse(presented)
        .context("TOLLGATE_BOOTSTRAP_TOKEN is not a well-formed token")?
        .id();
    let status = tokens
        .get(&Actor::Operator, TokenHome::Instance, id)
        .await
        .context("failed to read the bootstrap token back")?
        .status;
    match outcome {
        BootstrapOutcome::Registered => {
            tracing::info!(token_id = %id, "bootstrap instance admin token registered");
        }
        BootstrapOutcome::AlreadyRegistered => {
            tracing::info!(token_id = %id, "bootstrap instance admin token already registered");
        }
    }
    if status != TokenStatus::Active {
        if revoke_others {
            anyhow::bail!(
                "TOLLGATE_BOOTSTRAP_TOKEN is {}, so TOLLGATE_BOOTSTRAP_REVOKE_OTHERS would leave no \
                 instance admin token: mint a new one with `tollgate token mint --instance-admin`",
                status.as_str()
            );
        }
        tracing::warn!(
            token_id = %id,
            status = status.as_str(),
            "TOLLGATE_BOOTSTRAP_TOKEN is registered but no longer active, so it lets no one in; \
             to regain access, mint a new one with `tollgate token mint --instance-admin` and \
             start with it"
        );
    }
    if revoke_others {
        let revoked = tokens.revoke_other_instance_admins(id).await.context(
            "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS: failed to revoke the other instance admin tokens",
        )?;
        if revoked.is_empty() {
            tracing::info!(
                "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS: no other instance admin token was active"
            );
        } else {
            tracing::warn!(
                revoked = %describe(&revoked),
                "TOLLGATE_BOOTSTRAP_REVOKE_OTHERS: revoked every other instance admin token; \
                 unset it now, or each start will revoke the instance admin tokens made since"
            );
        }
        return Ok(());
    }
    if outcome == BootstrapOutcome::Registered {
        let others = tokens
            .other_active_instance_admins(id)
            .await
            .context("failed to list the other instance admin tokens")?;
        if !others.is_empty() {
            tracing::warn!(
                still_active = %describe(&others),
                "TOLLGATE_BOOTSTRAP_TOKEN is a new instance admin token; the instance admin \
                 tokens that existed before it stay active until revoked. If one of them has \
                 leaked, restart with TOLLGATE_BOOTSTRAP_REVOKE_OTHERS=true or revoke each with \
                 DELETE /v1/instance/tokens/{id} (docs/operations.md)"
            );
        }
    }
    Ok(())
}

/// The tokens as the log names them: id, hint, name and creator, never a secret.
fn describe(tokens: &[ApiToken]) -> String {
    tokens
        .iter()
        .map(|t| {
            format!(
                "{} ({}, {:?}, created by {})",
                t.id(),
                t.hint(),
                t.name().as_ref(),
                t.created_by()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
