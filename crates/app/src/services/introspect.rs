//! Introspection (RFC 7662): a caller with its own token asks whether another token string is
//! active, and what it is. The presented string goes through the same verifier and brute-force
//! limits as any request's token, so introspection is no way around either, and a success
//! counts as a use of the introspected token (`last_used_at`).

use std::net::IpAddr;

use tollgate_domain::{introspection_shows, may_introspect, Actor};

use super::token_service::TokenService;
use super::verify::{PresentedToken, VerifiedToken};
use super::VerifyTokenError;
use crate::auth_limits::{AuthLimits, LimitedVerifyError};
use crate::error::StoreError;

/// What introspection says of a presented token string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// It is active, and the caller may know of it.
    Active(Box<VerifiedToken>),
    /// Anything else, one answer for all: junk, unknown, revoked, expired, rotated past its
    /// grace period, a wrong secret, or a token the caller may not know of (another space's).
    Inactive,
}

/// Why introspection gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// The caller may not introspect at all (it lacks READ_ADMIN_API_TOKEN at home). Decided
    /// before the presented token is looked at.
    #[error("introspection needs READ_ADMIN_API_TOKEN")]
    Forbidden,
    /// The caller's address, or the presented token's id, failed authentication too often;
    /// the token was not verified.
    #[error("too many failed authentications")]
    TooManyFailures {
        /// Seconds until the next attempt is let through (at least 1).
        retry_after_secs: u64,
    },
    /// The store could not be asked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenService {
    /// Introspects `presented` for `caller`, sent from `address` (`None` if unknown), under
    /// `limits` (`None`: no brute-force limits, as for [`Self::verify`]).
    ///
    /// The caller's right is checked first ([`may_introspect`]); then the string is verified
    /// exactly as a request's token is, failures counting against `address` and the token id;
    /// then [`introspection_shows`] decides whether this caller may learn of the token. A
    /// verified token counts as used, whatever the caller is told.
    ///
    /// # Errors
    /// [`IntrospectError`]; every reason a token is not active is [`Introspection::Inactive`].
    #[tracing::instrument(skip_all)]
    pub async fn introspect(
        &self,
        caller: &Actor,
        presented: &str,
        limits: Option<&AuthLimits>,
        address: Option<IpAddr>,
    ) -> Result<Introspection, IntrospectError> {
        if !may_introspect(caller) {
            return Err(IntrospectError::Forbidden);
        }
        let verifier = self.verifier();
        let outcome = match limits {
            Some(limits) => {
                let presented = PresentedToken::parse(presented);
                limits.verify(verifier, address, presented.as_ref()).await
            }
            None => verifier
                .verify_from(presented, address)
                .await
                .map_err(Into::into),
        };
        let verified = match outcome {
            Ok(verified) => verified,
            Err(LimitedVerifyError::TooManyFailures { retry_after_secs }) => {
                return Err(IntrospectError::TooManyFailures { retry_after_secs })
            }
            Err(LimitedVerifyError::Verify(VerifyTokenError::Invalid)) => {
                return Ok(Introspection::Inactive)
            }
            Err(LimitedVerifyError::Verify(VerifyTokenError::Store(e))) => return Err(e.into()),
        };
        // The verifier refuses every token that cannot be used (revoked, suspended, rotated
        // past its grace period, expired); this check, against this service's clock, is where
        // any further reason to call a verified token inactive belongs.
        let active = !verified.token.is_expired_at(self.now());
        if active && introspection_shows(caller, &verified.token) {
            Ok(Introspection::Active(Box::new(verified)))
        } else {
            tracing::debug!(token_id = %verified.token.id(), "introspected token not shown to this caller");
            Ok(Introspection::Inactive)
        }
    }
}
