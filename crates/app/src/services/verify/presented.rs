//! A token string as a request presents it, checked offline once: its format and checksum, and
//! the digest the verification cache knows it by. Parsed once per request, then handed to the
//! brute-force limits (for its id) and to the verifier.

use std::fmt;

use sha2::{Digest, Sha256};
use tollgate_domain::{ParsedToken, TokenId, TokenKind, TokenSecret};

/// The SHA-256 digest of a presented token string.
pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn digest(presented: &str) -> TokenDigest {
    Sha256::digest(presented.as_bytes()).into()
}

/// A presented string that is not a well-formed token: junk, a typo, a truncated token. Say so
/// with [`Verifier::refuse_malformed`](super::Verifier::refuse_malformed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// A presented token string that passed every offline check. Its `Debug` shows no secret.
#[derive(Clone)]
pub struct PresentedToken {
    parsed: ParsedToken,
    digest: TokenDigest,
}

impl PresentedToken {
    /// Checks a presented string offline (length, prefix, alphabet, checksum): no store access
    /// and no argon2 for junk.
    ///
    /// # Errors
    /// [`Malformed`] for anything that is not a well-formed token. Nothing is logged here.
    pub fn parse(presented: &str) -> Result<Self, Malformed> {
        let parsed = ParsedToken::parse(presented).map_err(|_| Malformed)?;
        Ok(Self {
            parsed,
            digest: digest(presented),
        })
    }

    /// The token id it carries (not a secret).
    #[must_use]
    pub fn id(&self) -> TokenId {
        self.parsed.id()
    }

    /// The kind its prefix names.
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.parsed.kind()
    }

    pub(crate) fn secret(&self) -> &TokenSecret {
        self.parsed.secret()
    }

    pub(crate) const fn digest(&self) -> &TokenDigest {
        &self.digest
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedToken")
            .field("parsed", &self.parsed)
            .finish_non_exhaustive()
    }
}
