//! Console sessions: signing in with a token, finding the signed-in actor again on each
//! request, and signing out. A session records only the token's id; on every request the token
//! is read again from the store, so a session ends at once, on any node, when its token is
//! revoked, expires or is rotated past its grace period.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use tollgate_domain::{
    Actor, ConsoleSession, FormNonce, SessionDigest, SessionTimeouts, TokenIdentity, TokenLevel,
};

use super::errors::VerifyTokenError;
use super::verify::{PresentedToken, Usage, VerifiedToken, Verifier};
use crate::auth_limits::{AuthLimits, LimitedVerifyError};
use crate::error::StoreError;
use crate::ports::{Clock, SessionRepository, TokenRepository};

/// A session's last use is written at most this often, so that a page view is not a write;
/// the idle timeout is therefore honoured to within this much.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// A session id: 256 bits from the operating system's CSPRNG. It lives only in the browser's
/// cookie; stores keep its [`SessionDigest`]. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId([u8; 32]);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// Domain separation for the values derived from a session id.
const CSRF_CONTEXT: &[u8] = b"tollgate console csrf v1\0";

impl SessionId {
    /// A fresh id.
    ///
    /// # Errors
    /// [`StoreError::Failed`] if the operating system's random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Failed(Box::new(e)))?;
        Ok(Self(bytes))
    }

    /// The id a cookie value spells (64 lowercase hex digits), or `None`.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        decode_hex(value).map(Self)
    }

    /// The cookie value: 64 lowercase hex digits.
    #[must_use]
    pub fn to_cookie_value(&self) -> String {
        encode_hex(&self.0)
    }

    /// What stores keep: its SHA-256 digest.
    #[must_use]
    pub fn digest(&self) -> SessionDigest {
        SessionDigest::from_bytes(Sha256::digest(self.0).into())
    }

    /// The session's CSRF token: a digest of the id under its own context, so a page can carry
    /// it without revealing the id, and a forger who cannot read the cookie cannot make it.
    #[must_use]
    pub fn csrf_token(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(CSRF_CONTEXT);
        hasher.update(self.0);
        encode_hex(&hasher.finalize())
    }

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    #[must_use]
    pub fn is_csrf_token(&self, presented: &str) -> bool {
        self.csrf_token()
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

/// A fresh one-time form nonce.
///
/// # Errors
/// [`StoreError::Failed`] if the operating system's random source fails.
pub fn new_form_nonce() -> Result<FormNonce, StoreError> {
    let mut bytes = [0; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Failed(Box::new(e)))?;
    Ok(FormNonce::from_bytes(bytes))
}

/// A form nonce as a form field: 32 lowercase hex digits.
#[must_use]
pub fn form_nonce_to_field(nonce: &FormNonce) -> String {
    encode_hex(nonce.as_bytes())
}

/// The nonce a form field spells, or `None`.
#[must_use]
pub fn form_nonce_from_field(value: &str) -> Option<FormNonce> {
    decode_hex(value).map(FormNonce::from_bytes)
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn decode_hex<const N: usize>(value: &str) -> Option<[u8; N]> {
    let value = value.as_bytes();
    if value.len() != N * 2 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(value.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A live session and whom it acts as.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The session as stored.
    pub session: ConsoleSession,
    /// The actor its token acts as.
    pub actor: Actor,
    /// Who the token that signed in is, as stored now.
    pub token: TokenIdentity,
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Not a valid, active token (one answer for every reason).
    #[error("invalid token")]
    Invalid,
    /// A valid client-level token: the console is for admins.
    #[error("a client token cannot sign in to the console")]
    ClientToken,
    /// Too many failed authentications from this address or for this token id from this address.
    #[error("too many failed sign-ins")]
    TooManyFailures {
        /// Seconds until the next attempt is let through.
        retry_after_secs: u64,
    },
    /// The store could not be asked or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a request's session could not be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// No such session, or it has ended (timed out, or its token no longer works).
    #[error("the session has ended")]
    Ended,
    /// The store could not be asked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The console's session use cases.
#[derive(Clone)]
pub struct SessionService {
    sessions: Arc<dyn SessionRepository>,
    tokens: Arc<dyn TokenRepository>,
    verifier: Arc<Verifier>,
    limits: Option<AuthLimits>,
    clock: Arc<dyn Clock>,
    timeouts: SessionTimeouts,
}

impl fmt::Debug for SessionService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionService")
            .field("timeouts", &self.timeouts)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SessionService {
    /// Sessions in `sessions`, signing in with tokens that `verifier` checks (share the one of
    /// the node's [`TokenService`](crate::TokenService), so its cache and revocations apply),
    /// reading tokens back from `tokens`, with the default timeouts and no brute-force limits.
    #[must_use]
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        tokens: Arc<dyn TokenRepository>,
        verifier: Arc<Verifier>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            sessions,
            tokens,
            verifier,
            limits: None,
            clock,
            timeouts: SessionTimeouts::DEFAULT,
        }
    }

    /// The same service with these timeouts.
    #[must_use]
    pub const fn with_timeouts(mut self, timeouts: SessionTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same service counting failed sign-ins in `limits`: pass the ones the REST API
    /// counts in, so a guesser gets no second budget through the console.
    #[must_use]
    pub fn with_auth_limits(mut self, limits: Option<AuthLimits>) -> Self {
        self.limits = limits;
        self
    }

    /// The timeouts sessions end by.
    #[must_use]
    pub const fn timeouts(&self) -> &SessionTimeouts {
        &self.timeouts
    }

    /// Signs in with a presented token string, sent from `address` (for the brute-force
    /// limits). Only admin-level tokens (space admin or instance admin) may sign in. Ended
    /// sessions are swept from the store on the way.
    ///
    /// # Errors
    /// [`SignInError`]; on any error no session exists.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in(
        &self,
        presented: &str,
        address: Option<IpAddr>,
    ) -> Result<(SessionId, SignedIn), SignInError> {
        let verified = self.verify(presented, address).await?;
        if verified.token.level() == TokenLevel::Client {
            return Err(SignInError::ClientToken);
        }
        let now = self.clock.now();
        self.sweep(now).await;
        // 256 random bits do not repeat; the loop only makes "inserted" a checked fact.
        for _ in 0..3 {
            let id = SessionId::generate()?;
            let session = ConsoleSession::begin(id.digest(), verified.token.id(), now);
            if self.sessions.insert(&session).await? {
                tracing::info!(token_id = %verified.token.id(), "console session started");
                let VerifiedToken { actor, token } = verified;
                return Ok((
                    id,
                    SignedIn {
                        session,
                        actor,
                        token,
                    },
                ));
            }
        }
        Err(StoreError::Failed("could not store a new session id".into()).into())
    }

    async fn verify(
        &self,
        presented: &str,
        address: Option<IpAddr>,
    ) -> Result<VerifiedToken, SignInError> {
        let parsed = PresentedToken::parse(presented);
        let outcome = match &self.limits {
            Some(limits) => {
                limits
                    .verify(&self.verifier, address, parsed.as_ref())
                    .await
            }
            None => match &parsed {
                Ok(parsed) => {
                    self.verifier
                        .verify_presented(parsed, Usage::From(address))
                        .await
                }
                Err(malformed) => Err(self.verifier.refuse_malformed(*malformed)),
            }
            .map_err(LimitedVerifyError::from),
        };
        outcome.map_err(|e| match e {
            LimitedVerifyError::TooManyFailures { retry_after_secs } => {
                SignInError::TooManyFailures { retry_after_secs }
            }
            LimitedVerifyError::Verify(VerifyTokenError::Invalid) => SignInError::Invalid,
            LimitedVerifyError::Verify(VerifyTokenError::Store(e)) => SignInError::Store(e),
        })
    }

    /// Deletes ended sessions; a failure is logged, not answered (sign-in works without it).
    async fn sweep(&self, now: OffsetDateTime) {
        match self
            .sessions
            .delete_ended(&self.timeouts.cutoffs(now))
            .await
        {
            Ok(0) => {}
            Ok(swept) => tracing::debug!(swept, "ended console sessions deleted"),
            Err(error) => tracing::warn!(%error, "could not delete ended console sessions"),
        }
    }

    /// The live session `id` names, and whom it acts as now. A session that timed out, or
    /// whose token no longer works, is deleted and answered [`ResumeError::Ended`].
    ///
    /// # Errors
    /// [`ResumeError`].
    #[tracing::instrument(skip_all)]
    pub async fn resume(&self, id: &SessionId) -> Result<SignedIn, ResumeError> {
        let digest = id.digest();
        let Some(mut session) = self.sessions.get(&digest).await? else {
            return Err(ResumeError::Ended);
        };
        let now = self.clock.now();
        let token = if session.is_live_at(now, &self.timeouts) {
            self.tokens.get(session.token_id()).await?
        } else {
            None
        };
        let Some(token) = token.filter(|token| token.is_live_at(now)) else {
            tracing::debug!(token_id = %session.token_id(), "console session ended");
            self.sessions.delete(&digest).await?;
            return Err(ResumeError::Ended);
        };
        if now - session.last_seen_at() >= TOUCH_INTERVAL {
            self.sessions.touch(&digest, now).await?;
            session.seen_at(now);
        }
        Ok(SignedIn {
            session,
            actor: Actor::for_token(&token),
            token: token.identity(),
        })
    }

    /// Ends the session `id` names (nothing happens for an unknown one).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub async fn sign_out(&self, id: &SessionId) -> Result<(), StoreError> {
        self.sessions.delete(&id.digest()).await
    }

    /// Claims a form's one-time nonce for the session: `true` the first time.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub async fn claim_nonce(
        &self,
        signed_in: &SignedIn,
        nonce: &FormNonce,
    ) -> Result<bool, StoreError> {
        self.sessions
            .claim_nonce(signed_in.session.digest(), nonce, self.clock.now())
            .await
    }

    /// Gives a claimed nonce back, because the work it guarded failed.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    pub async fn release_nonce(
        &self,
        signed_in: &SignedIn,
        nonce: &FormNonce,
    ) -> Result<(), StoreError> {
        self.sessions
            .release_nonce(signed_in.session.digest(), nonce)
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_round_trips_through_its_cookie_value_and_nothing_else_parses() {
        let id = SessionId::generate().unwrap();
        let value = id.to_cookie_value();
        assert_eq!(value.len(), 64);
        assert_eq!(SessionId::parse(&value), Some(id.clone()));
        assert_eq!(SessionId::parse(&value.to_uppercase()), None);
        assert_eq!(SessionId::parse(&value[1..]), None);
        assert_eq!(SessionId::parse(""), None);
        assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_session_and_reveals_neither_id_nor_digest() {
        let id = SessionId::generate().unwrap();
        let other = SessionId::generate().unwrap();
        let token = id.csrf_token();
        assert!(id.is_csrf_token(&token));
        assert!(!other.is_csrf_token(&token));
        assert!(!id.is_csrf_token(""));
        assert_ne!(token, id.to_cookie_value());
        assert_ne!(token, encode_hex(id.digest().as_bytes()));
    }

    #[test]
    fn form_nonces_round_trip_through_their_field() {
        let nonce = new_form_nonce().unwrap();
        assert_eq!(
            form_nonce_from_field(&form_nonce_to_field(&nonce)),
            Some(nonce)
        );
        assert_eq!(form_nonce_from_field("zz"), None);
    }
}
