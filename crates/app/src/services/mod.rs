//! Services: the use cases. Each reaches what it acts on through one access helper, checks the
//! domain's policy, then calls the ports.
//!
//! - [`TokenService`] issues, lists, reads, updates, suspends, resumes, rotates and revokes
//!   tokens, lists audit events, and bootstraps the first instance admin token
//!   (`bootstrap.rs`); issuing itself is `issuer.rs`; introspection (RFC 7662) is
//!   `introspect.rs`.
//! - [`LeakReports`] takes in reports of leaked tokens and revokes the valid ones, from a
//!   bounded queue, with its [`LeakWorker`] (`leak_reports/`).
//! - [`SpaceService`] creates, reads, lists, renames and deletes spaces.
//! - [`TransferService`] exports a whole store and imports one into an empty store.
//! - [`SessionService`] signs people in to the admin console and finds their session again.
//! - [`Verifier`] runs the verification hot path, with its cache, lanes and argon2 permits.

mod access;
mod bootstrap;
mod commands;
mod errors;
mod introspect;
mod issuer;
mod leak_reports;
mod sessions;
mod space_service;
mod token_service;
mod transfer;
mod verify;

pub use bootstrap::{mint_token_string, BootstrapOutcome};
pub use commands::{ListInstanceTokens, ListTokens, NewToken, RotateToken, TokenHome, TokenView};
pub use errors::{
    BootstrapError, CreateTokenError, GetTokenError, ListEventsError, ListTokensError,
    ResumeTokenError, RevokeTokenError, RotateTokenError, SuspendTokenError, UpdateTokenError,
    VerifyTokenError,
};
pub use introspect::{IntrospectError, Introspection};
pub use issuer::IssuedToken;
pub use leak_reports::{
    CandidateOutcome, LeakReportConfig, LeakReports, LeakWorker, ReportLeakError, ReportLimit,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_REPORTED_PER_ADDRESS, MAX_CREDENTIALS_PER_REPORT,
};
pub use sessions::{
    form_nonce_from_field, form_nonce_to_field, new_form_nonce, ResumeError, SessionId,
    SessionService, SignInError, SignedIn,
};
pub use space_service::{
    CreateSpaceError, DeleteSpaceError, GetSpaceError, ListSpacesError, NewSpace, RenameSpaceError,
    SpaceDeletion, SpaceService,
};
pub use token_service::TokenService;
pub use transfer::{ExportError, ExportRecord, TransferService};
pub use verify::{Malformed, PresentedToken, Usage, VerifiedToken, Verifier, VerifyCacheConfig};

#[cfg(test)]
mod tests;
