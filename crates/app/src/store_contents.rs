//! The whole contents of a store, as `tollgate import` loads it: spaces, tokens and audit events
//! whose references have been checked once, here, so that every store can load them without
//! checking again (and a store without foreign keys cannot end up with dangling ones).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tollgate_domain::{ApiToken, AuditEvent, EventId, Space, SpaceId, TokenId};

/// Spaces, tokens and events that refer only to each other, each kind in ascending id order.
///
/// Built by [`StoreContents::new`], which checks that every space a token or an event names is
/// among the spaces, that rotation links name tokens among the tokens and agree both ways, and
/// that ids are unique. The values inside are domain values, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreContents {
    spaces: Vec<Space>,
    tokens: Vec<ApiToken>,
    events: Vec<AuditEvent>,
}

/// Which record a [`ContentsError`] is about, so that a caller can say where it came from (the
/// line of a dump, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordId {
    /// A space.
    Space(SpaceId),
    /// A token.
    Token(TokenId),
    /// An audit event.
    Event(EventId),
}

/// Why spaces, tokens and events do not make a store's contents. Names ids only, never a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContentsError {
    /// Two spaces have this id.
    #[error("space {0} appears twice")]
    DuplicateSpace(SpaceId),
    /// Two tokens have this id.
    #[error("token {0} appears twice")]
    DuplicateToken(TokenId),
    /// Two events have this id.
    #[error("event {0} appears twice")]
    DuplicateEvent(EventId),
    /// A token belongs to a space that is not among the spaces.
    #[error("token {token} belongs to space {space}, which is not among the spaces")]
    TokenSpaceMissing {
        /// The token.
        token: TokenId,
        /// Its space.
        space: SpaceId,
    },
    /// An event names a space that is not among the spaces.
    #[error("event {event} names space {space}, which is not among the spaces")]
    EventSpaceMissing {
        /// The event.
        event: EventId,
        /// Its space.
        space: SpaceId,
    },
    /// A token `replaces` a token that is not among the tokens.
    #[error("token {token} replaces token {replaces}, which is not among the tokens")]
    ReplacedTokenMissing {
        /// The token.
        token: TokenId,
        /// The token it says it replaces.
        replaces: TokenId,
    },
    /// A token is `replaced_by` a token that is not among the tokens.
    #[error("token {token} is replaced by token {replaced_by}, which is not among the tokens")]
    ReplacementMissing {
        /// The token.
        token: TokenId,
        /// The token it says replaced it.
        replaced_by: TokenId,
    },
    /// A token `replaces` another whose `replaced_by` does not name it back, or the other way
    /// round: a rotation always sets both links.
    #[error("tokens {old} and {new} disagree about a rotation: one names the other, not back")]
    RotationLinksDisagree {
        /// The token that was replaced (or is said to be).
        old: TokenId,
        /// Its replacement (or the token said to be it).
        new: TokenId,
    },
}

impl ContentsError {
    /// The record that breaks the rule: the second of two with one id, or the one whose
    /// reference does not resolve.
    #[must_use]
    pub const fn record(&self) -> RecordId {
        match *self {
            Self::DuplicateSpace(id) => RecordId::Space(id),
            Self::DuplicateToken(token)
            | Self::TokenSpaceMissing { token, .. }
            | Self::ReplacedTokenMissing { token, .. }
            | Self::ReplacementMissing { token, .. } => RecordId::Token(token),
            Self::RotationLinksDisagree { new, .. } => RecordId::Token(new),
            Self::DuplicateEvent(event) | Self::EventSpaceMissing { event, .. } => {
                RecordId::Event(event)
            }
        }
    }
}

/// How many records of each kind, for summaries: `3 spaces, 12 tokens, 20 events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordCounts {
    /// Spaces.
    pub spaces: usize,
    /// Tokens.
    pub tokens: usize,
    /// Audit events.
    pub events: usize,
}

impl fmt::Display for RecordCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}, {}, {}",
            plural(self.spaces, "space", "spaces"),
            plural(self.tokens, "token", "tokens"),
            plural(self.events, "event", "events"),
        )
    }
}

impl StoreContents {
    /// Checks that `spaces`, `tokens` and `events` refer only to each other, and sorts each by
    /// id.
    ///
    /// # Errors
    /// The first [`ContentsError`] found, in this order: duplicate ids, then spaces, then
    /// rotation links.
    pub fn new(
        mut spaces: Vec<Space>,
        mut tokens: Vec<ApiToken>,
        mut events: Vec<AuditEvent>,
    ) -> Result<Self, ContentsError> {
        spaces.sort_by_key(|s| s.id);
        tokens.sort_by_key(ApiToken::id);
        events.sort_by_key(|e| e.id);
        if let Some(pair) = spaces.windows(2).find(|p| p[0].id == p[1].id) {
            return Err(ContentsError::DuplicateSpace(pair[1].id));
        }
        if let Some(pair) = tokens.windows(2).find(|p| p[0].id() == p[1].id()) {
            return Err(ContentsError::DuplicateToken(pair[1].id()));
        }
        if let Some(pair) = events.windows(2).find(|p| p[0].id == p[1].id) {
            return Err(ContentsError::DuplicateEvent(pair[1].id));
        }
        let space_ids: BTreeSet<SpaceId> = spaces.iter().map(|s| s.id).collect();
        for token in &tokens {
            if let Some(space) = token.space_id().filter(|s| !space_ids.contains(s)) {
                return Err(ContentsError::TokenSpaceMissing {
                    token: token.id(),
                    space,
                });
            }
        }
        for event in &events {
            if let Some(space) = event.space_id.filter(|s| !space_ids.contains(s)) {
                return Err(ContentsError::EventSpaceMissing {
                    event: event.id,
                    space,
                });
            }
        }
        check_rotation_links(&tokens)?;
        Ok(Self {
            spaces,
            tokens,
            events,
        })
    }

    /// The spaces, in ascending id order.
    #[must_use]
    pub fn spaces(&self) -> &[Space] {
        &self.spaces
    }

    /// The tokens (of every space, and instance tokens), in ascending id order.
    #[must_use]
    pub fn tokens(&self) -> &[ApiToken] {
        &self.tokens
    }

    /// The audit events, in ascending id order.
    #[must_use]
    pub fn events(&self) -> &[AuditEvent] {
        &self.events
    }

    /// Whether there is nothing at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.spaces.is_empty() && self.tokens.is_empty() && self.events.is_empty()
    }

    /// How many of each.
    #[must_use]
    pub fn counts(&self) -> RecordCounts {
        RecordCounts {
            spaces: self.spaces.len(),
            tokens: self.tokens.len(),
            events: self.events.len(),
        }
    }
}

/// A rotation sets `replaced_by` on the old token and `replaces` on the new one, together: each
/// link must name a token present, and that token must name this one back.
fn check_rotation_links(tokens: &[ApiToken]) -> Result<(), ContentsError> {
    let by_id: BTreeMap<TokenId, &ApiToken> = tokens.iter().map(|t| (t.id(), t)).collect();
    for token in tokens {
        if let Some(new) = token.replaced_by() {
            let Some(replacement) = by_id.get(&new) else {
                return Err(ContentsError::ReplacementMissing {
                    token: token.id(),
                    replaced_by: new,
                });
            };
            if replacement.replaces() != Some(token.id()) {
                return Err(ContentsError::RotationLinksDisagree {
                    old: token.id(),
                    new,
                });
            }
        }
        if let Some(old) = token.replaces() {
            let Some(replaced) = by_id.get(&old) else {
                return Err(ContentsError::ReplacedTokenMissing {
                    token: token.id(),
                    replaces: old,
                });
            };
            if replaced.replaced_by() != Some(token.id()) {
                return Err(ContentsError::RotationLinksDisagree {
                    old,
                    new: token.id(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tollgate_domain::{AuditAction, GracePeriod, TokenLevel};

    use super::*;
    use crate::testing::fixtures::{
        edited, epoch, event, instance_token, space, space_id, token, token_id,
    };

    fn rotated_pair() -> (ApiToken, ApiToken) {
        let mut old = token(1, space_id(1), TokenLevel::Client);
        let grace = GracePeriod::from_seconds(60).unwrap_or_else(|_| unreachable!());
        old.rotate(token_id(2), epoch(), grace)
            .unwrap_or_else(|e| panic!("{e}"));
        let new = edited(&token(2, space_id(1), TokenLevel::Client), |r| {
            r.replaces = Some(token_id(1));
        });
        (old, new)
    }

    #[test]
    fn consistent_contents_are_kept_whole_in_id_order() {
        let (old, new) = rotated_pair();
        let instance = instance_token(9);
        let contents = StoreContents::new(
            vec![space(2), space(1)],
            vec![instance.clone(), new.clone(), old.clone()],
            vec![
                event(5, AuditAction::TokenCreated, &instance),
                event(3, AuditAction::TokenRotated, &old),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.spaces(), [space(1), space(2)]);
        assert_eq!(contents.tokens(), [old, new, instance]);
        assert_eq!(
            contents.events().iter().map(|e| e.id).collect::<Vec<_>>(),
            [3, 5].map(|n| EventId::from_uuid(uuid::Uuid::from_u128(n)))
        );
        assert_eq!(
            contents.counts(),
            RecordCounts {
                spaces: 2,
                tokens: 3,
                events: 2
            }
        );
        assert!(!contents.is_empty());
        assert!(StoreContents::new(vec![], vec![], vec![]).is_ok_and(|c| c.is_empty()));
    }

    #[test]
    fn each_broken_reference_is_named_with_the_record_that_holds_it() {
        let (old, new) = rotated_pair();
        let orphan = token(4, space_id(7), TokenLevel::Client);
        let orphan_event = event(8, AuditAction::TokenCreated, &orphan);
        let unlinked_new = edited(&new, |r| r.replaces = None);
        type Case = (Vec<Space>, Vec<ApiToken>, Vec<AuditEvent>, ContentsError);
        let cases: Vec<Case> = vec![
            (
                vec![space(1), space(1)],
                vec![],
                vec![],
                ContentsError::DuplicateSpace(space_id(1)),
            ),
            (
                vec![space(1)],
                vec![old.clone(), old.clone()],
                vec![],
                ContentsError::DuplicateToken(token_id(1)),
            ),
            (
                vec![space(1)],
                vec![],
                vec![
                    event(3, AuditAction::TokenCreated, &old),
                    event(3, AuditAction::TokenRevoked, &old),
                ],
                ContentsError::DuplicateEvent(EventId::from_uuid(uuid::Uuid::from_u128(3))),
            ),
            (
                vec![space(1)],
                vec![orphan],
                vec![],
                ContentsError::TokenSpaceMissing {
                    token: token_id(4),
                    space: space_id(7),
                },
            ),
            (
                vec![space(1)],
                vec![],
                vec![orphan_event],
                ContentsError::EventSpaceMissing {
                    event: EventId::from_uuid(uuid::Uuid::from_u128(8)),
                    space: space_id(7),
                },
            ),
            (
                vec![space(1)],
                vec![old.clone()],
                vec![],
                ContentsError::ReplacementMissing {
                    token: token_id(1),
                    replaced_by: token_id(2),
                },
            ),
            (
                vec![space(1)],
                vec![new.clone()],
                vec![],
                ContentsError::ReplacedTokenMissing {
                    token: token_id(2),
                    replaces: token_id(1),
                },
            ),
            (
                vec![space(1)],
                vec![old.clone(), unlinked_new],
                vec![],
                ContentsError::RotationLinksDisagree {
                    old: token_id(1),
                    new: token_id(2),
                },
            ),
            (
                vec![space(1)],
                vec![token(1, space_id(1), TokenLevel::Client), new],
                vec![],
                ContentsError::RotationLinksDisagree {
                    old: token_id(1),
                    new: token_id(2),
                },
            ),
        ];
        for (spaces, tokens, events, expected) in cases {
            assert_eq!(
                StoreContents::new(spaces, tokens, events),
                Err(expected),
                "{expected}"
            );
        }
    }

    #[test]
    fn an_error_names_the_record_to_blame() {
        assert_eq!(
            ContentsError::RotationLinksDisagree {
                old: token_id(1),
                new: token_id(2)
            }
            .record(),
            RecordId::Token(token_id(2))
        );
        assert_eq!(
            ContentsError::DuplicateSpace(space_id(3)).record(),
            RecordId::Space(space_id(3))
        );
    }

    #[test]
    fn counts_read_as_a_summary() {
        let counts = RecordCounts {
            spaces: 1,
            tokens: 12,
            events: 0,
        };
        assert_eq!(counts.to_string(), "1 space, 12 tokens, 0 events");
    }
}
