//! What goes into the token use cases and what comes out of them: commands, and the view of
//! a token that readers are shown.

use time::OffsetDateTime;
use tollgate_domain::{ApiToken, GracePeriod, TokenLevel, TokenName, TokenStatus};

use crate::pagination::PageRequest;
use crate::ports::{ListOrder, StatusFilter};

/// The command to issue a token in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Its name.
    pub name: TokenName,
    /// Its level.
    pub level: TokenLevel,
    /// When it stops working, if ever; must be in the future.
    pub expires_at: Option<OffsetDateTime>,
}

/// Which tokens of a space to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListTokens {
    /// Only this level, or every level the actor may see for `None`.
    pub level: Option<TokenLevel>,
    /// Only tokens in these statuses (active ones unless asked otherwise).
    pub statuses: StatusFilter,
    /// The page.
    pub page: PageRequest,
    /// Oldest first (the REST API) or newest first (the console); the page's cursor continues
    /// in the same order.
    pub order: ListOrder,
}

/// The command to rotate a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateToken {
    /// How long the old token keeps working next to the new one.
    pub grace_period: GracePeriod,
}

/// A token as a reader is shown it: its metadata (with the creator as that reader may see it)
/// and its status at the moment it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// The token's metadata.
    pub token: ApiToken,
    /// Where it is in its life, by the service's clock.
    pub status: TokenStatus,
}
