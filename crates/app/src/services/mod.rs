//! Services: the use cases. Each checks the domain's policy, then calls the ports.

mod last_used;
mod space_service;
mod token_service;
mod verify_cache;

pub use space_service::{CreateSpaceError, GetSpaceError, ListSpacesError, NewSpace, SpaceService};
pub use token_service::{
    mint_token_string, BootstrapError, BootstrapOutcome, CreateTokenError, GetTokenError,
    IssuedToken, ListEventsError, ListTokens, ListTokensError, NewToken, RevokeTokenError,
    RotateToken, RotateTokenError, TokenService, VerifiedToken, VerifyTokenError,
};
pub use verify_cache::VerifyCacheConfig;

#[cfg(test)]
mod tests;
