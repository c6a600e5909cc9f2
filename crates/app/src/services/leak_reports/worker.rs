//! The leak reports' worker: verifies queued candidates one at a time, exactly as a request's
//! token is verified, and revokes each that is a valid token.
//!
//! One at a time is what makes it low priority: it never holds more than one of the argon2
//! permits the requests share (and those run on the lowest-priority hashing threads), so a
//! flood of reports queues behind itself, never in front of the platform's requests.

use tokio::sync::mpsc;
use tollgate_domain::TokenId;

use super::Candidate;
use crate::auth_limits::{AuthLimits, LimitedVerifyError};
use crate::services::{TokenService, Usage, VerifyTokenError};

/// What became of one reported candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateOutcome {
    /// It was a valid token, and is revoked now.
    Revoked(TokenId),
    /// Not a valid token: unknown, revoked, expired, or a wrong secret. Nothing changed.
    NotValid,
    /// The brute-force limits refused to verify it (its reporter's address or its token id
    /// failed too often); nothing was verified and nothing changed.
    Refused,
    /// The store failed; the candidate is dropped (a report can be sent again).
    Failed,
}

/// Verifies and revokes reported candidates; see [`LeakReports`](super::LeakReports).
pub struct LeakWorker {
    candidates: mpsc::Receiver<Candidate>,
    tokens: TokenService,
    limits: Option<AuthLimits>,
}

impl std::fmt::Debug for LeakWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakWorker")
            .field("queued", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

impl LeakWorker {
    pub(super) fn new(
        candidates: mpsc::Receiver<Candidate>,
        tokens: TokenService,
        limits: Option<AuthLimits>,
    ) -> Self {
        Self {
            candidates,
            tokens,
            limits,
        }
    }

    /// Verifies candidates as they come, until every intake feeding it is dropped.
    pub async fn run(mut self) {
        while let Some(candidate) = self.candidates.recv().await {
            self.check(candidate).await;
        }
        tracing::debug!("leak report intake closed");
    }

    /// Waits for the next candidate and verifies it; `None` once every intake is dropped and
    /// the queue is empty.
    pub async fn check_next(&mut self) -> Option<CandidateOutcome> {
        let candidate = self.candidates.recv().await?;
        Some(self.check(candidate).await)
    }

    /// Verifies every candidate queued now, in order, without waiting for more.
    pub async fn check_queued(&mut self) -> Vec<CandidateOutcome> {
        let mut outcomes = Vec::new();
        while let Ok(candidate) = self.candidates.try_recv() {
            outcomes.push(self.check(candidate).await);
        }
        outcomes
    }

    #[tracing::instrument(skip_all, fields(token_id = %candidate.presented.id()))]
    async fn check(&self, candidate: Candidate) -> CandidateOutcome {
        let verifier = self.tokens.verifier();
        let verified = match &self.limits {
            Some(limits) => {
                // Counted against the reporter's address, and no use of the token: the
                // reporter must not show as where the token was last used from.
                limits
                    .verify_as(
                        verifier,
                        candidate.address,
                        Ok(&candidate.presented),
                        Usage::NotAUse,
                    )
                    .await
            }
            None => verifier
                .verify_presented(&candidate.presented, Usage::NotAUse)
                .await
                .map_err(LimitedVerifyError::from),
        };
        let token = match verified {
            Ok(verified) => verified.token,
            Err(LimitedVerifyError::Verify(VerifyTokenError::Invalid)) => {
                return CandidateOutcome::NotValid
            }
            Err(LimitedVerifyError::TooManyFailures { .. }) => {
                tracing::debug!("reported candidate not verified: too many failures");
                return CandidateOutcome::Refused;
            }
            Err(LimitedVerifyError::Verify(VerifyTokenError::Store(error))) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "reported candidate dropped: the store failed"
                );
                return CandidateOutcome::Failed;
            }
        };
        match self.tokens.revoke_leaked(&token).await {
            Ok(_) => {
                tracing::warn!("token revoked: it was reported as leaked");
                CandidateOutcome::Revoked(token.id())
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "reported token not revoked: the store failed"
                );
                CandidateOutcome::Failed
            }
        }
    }
}
