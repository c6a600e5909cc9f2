//! Permission names, in the style of Unleash.

use std::fmt;

/// Something an actor may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Create, list and read spaces across the instance.
    ManageSpaces,
    /// Create client-level tokens.
    CreateApiToken,
    /// Create admin-level tokens.
    CreateAdminApiToken,
    /// Read client-level token metadata.
    ReadApiToken,
    /// Read admin-level token metadata (and learn that admin tokens exist at all).
    ReadAdminApiToken,
    /// Revoke tokens.
    RevokeApiToken,
}

impl Permission {
    /// Every permission, in the order of SPEC's table.
    pub const ALL: [Self; 6] = [
        Self::ManageSpaces,
        Self::CreateApiToken,
        Self::CreateAdminApiToken,
        Self::ReadApiToken,
        Self::ReadAdminApiToken,
        Self::RevokeApiToken,
    ];

    /// The permission's wire name, e.g. `CREATE_API_TOKEN`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ManageSpaces => "MANAGE_SPACES",
            Self::CreateApiToken => "CREATE_API_TOKEN",
            Self::CreateAdminApiToken => "CREATE_ADMIN_API_TOKEN",
            Self::ReadApiToken => "READ_API_TOKEN",
            Self::ReadAdminApiToken => "READ_ADMIN_API_TOKEN",
            Self::RevokeApiToken => "REVOKE_API_TOKEN",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
