//! The error every storage port returns, so services can tell "the store is down" from "the
//! store is broken".

/// A boxed error from an adapter, kept as the source of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage port failed. Messages never carry a secret, a hash or a token string.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached now (connection refused, pool timed out, ...). Retrying later
    /// may succeed; the HTTP adapter answers 503.
    #[error("the token store is unavailable")]
    Unavailable(#[source] BoxError),
    /// The store answered with data that breaks a domain rule (a row edited by hand, say).
    #[error("the token store holds invalid data: {0}")]
    Corrupt(String),
    /// Any other failure of the store.
    #[error("the token store failed")]
    Failed(#[source] BoxError),
}

impl StoreError {
    /// Whether the store is merely unreachable (as opposed to broken).
    #[must_use]
    pub const fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
