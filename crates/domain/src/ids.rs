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
///
/// 1 to 128 characters of `[A-Za-z0-9._:@-]`: enough for numeric ids, UUIDs, e-mail addresses
/// and `provider:id` forms, and nothing that needs quoting in a header, a log line or the
/// `user:<id>` form `created_by` records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why a user id was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    /// Empty.
    #[error("user id must not be empty")]
    Empty,
    /// Longer than [`UserId::MAX_LEN`] characters.
    #[error("user id must be at most {} characters", UserId::MAX_LEN)]
    TooLong,
    /// Holds a character outside `[A-Za-z0-9._:@-]`.
    #[error("user id may hold only the characters A-Z, a-z, 0-9 and `.`, `_`, `:`, `@`, `-`")]
    InvalidCharacter,
}

impl UserId {
    /// The longest user id accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates an embedder's user id: 1 to 128 characters of `[A-Za-z0-9._:@-]`.
    ///
    /// # Errors
    /// [`UserIdError`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, UserIdError> {
        if raw.is_empty() {
            return Err(UserIdError::Empty);
        }
        if !raw.bytes().all(Self::allowed) {
            return Err(UserIdError::InvalidCharacter);
        }
        // Every allowed character is one byte.
        if raw.len() > Self::MAX_LEN {
            return Err(UserIdError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    const fn allowed(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'-')
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
    fn user_ids_are_one_to_128_characters_of_a_small_alphabet() {
        assert_eq!(UserId::parse(""), Err(UserIdError::Empty));
        assert_eq!(UserId::parse(&"u".repeat(129)), Err(UserIdError::TooLong));
        assert!(UserId::parse(&"u".repeat(128)).is_ok());
        for bad in [
            "a b", "a;b", "a,b", "a=b", "é", "a\tb", "user/7", "a\"b", "<x>",
        ] {
            assert_eq!(
                UserId::parse(bad),
                Err(UserIdError::InvalidCharacter),
                "{bad:?}"
            );
        }
        for good in ["user-7", "42", "ada@example.org", "github:1234", "A.b_C"] {
            assert_eq!(
                UserId::parse(good).map(|u| u.as_str().to_owned()),
                Ok(good.to_owned())
            );
        }
    }
}
