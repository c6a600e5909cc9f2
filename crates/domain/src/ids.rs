//! Identifiers: UUID v7 newtypes for spaces and tokens, and the embedder's opaque user id.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID. Ids are made by the application's id source (UUID v7 in production).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

uuid_id!(
    /// The id of a space (a workspace, a tenant).
    SpaceId
);
uuid_id!(
    /// The id of an API token. Not secret: it is part of the token string and of its hint.
    TokenId
);

uuid_id!(
    /// The id of an audit event (UUID v7, so ids sort by time).
    EventId
);

/// A string that is not a UUID was given where an id was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid UUID")]
pub struct InvalidId;

/// The id of a user in the embedding platform. tollgate does not authenticate users; the
/// embedder does, and passes the id along so that what a member created can be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why a user id was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    /// Empty after trimming.
    #[error("user id must not be empty")]
    Empty,
    /// Longer than [`UserId::MAX_LEN`] characters.
    #[error("user id must be at most {} characters", UserId::MAX_LEN)]
    TooLong,
    /// Holds a control character or white space.
    #[error("user id must not contain white space or control characters")]
    InvalidCharacter,
}

impl UserId {
    /// The longest user id accepted, in characters.
    pub const MAX_LEN: usize = 200;

    /// Validates an embedder's user id: 1 to 200 characters, no white space or control characters.
    ///
    /// # Errors
    /// [`UserIdError`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, UserIdError> {
        if raw.is_empty() {
            return Err(UserIdError::Empty);
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(UserIdError::TooLong);
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(UserIdError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = TokenId::from_uuid(Uuid::from_u128(42));
        assert_eq!(id.to_string().parse::<TokenId>(), Ok(id));
        assert_eq!("not-a-uuid".parse::<SpaceId>(), Err(InvalidId));
    }

    #[test]
    fn user_ids_reject_empty_long_and_spaced_values() {
        assert_eq!(UserId::parse(""), Err(UserIdError::Empty));
        assert_eq!(UserId::parse(&"u".repeat(201)), Err(UserIdError::TooLong));
        assert_eq!(UserId::parse("a b"), Err(UserIdError::InvalidCharacter));
        assert_eq!(
            UserId::parse("user-7").map(|u| u.as_str().to_owned()),
            Ok("user-7".to_owned())
        );
    }
}
