#![doc = include_str!("../README.md")]

pub mod actor;
pub mod api_token;
pub mod audit;
mod base62;
pub mod description;
pub mod ids;
pub mod instance_admins;
pub mod instant;
pub mod lifecycle;
mod name;
pub mod name_search;
pub mod permission;
pub mod policy;
pub mod query_guard;
pub mod requirement;
pub mod session;
pub mod space;
pub mod token;
pub mod token_format;

pub use actor::{ActForError, ActingFor, Actor, MemberRole, MemberRoleError};
pub use api_token::{
    ApiToken, ChangedFields, Ended, NewApiToken, NotActive, TokenField, TokenFieldError,
    TokenIdentity, TokenRecord, TokenRecordError, TokenUpdate, UpdateRefused,
};
pub use audit::{AuditAction, AuditActionError, AuditEvent, EventSubjectError};
pub use description::{
    DescriptionError, TokenDescription, DESCRIPTION_LIMITS, MAX_DESCRIPTION_LEN,
};
pub use ids::{EventId, InvalidId, SpaceId, TokenId, UserId, UserIdError};
pub use instance_admins::leaves_an_active_instance_admin;
pub use instant::truncate_to_micros;
pub use lifecycle::{GracePeriod, GracePeriodError, LifetimeError, LifetimePolicy};
pub use name::{
    is_bidi_control, is_refused_in_text, is_visible, validate_text, NameError, TextLimits,
    MAX_NAME_LEN, NAME_LIMITS,
};
pub use name_search::{NameSearch, NameSearchError, MAX_SEARCH_LEN, MIN_SEARCH_LEN};
pub use permission::Permission;
pub use policy::{
    actor_as_seen_by, allows, as_seen_by, can_reach, can_see, create_permission,
    discloses_token_actor, event_as_seen_by, introspection_shows, may_act_for_members,
    may_introspect, may_manage_instance_tokens, permissions_in_own_space, Resource,
};
pub use query_guard::query_carries_token;
pub use requirement::{AccessRequirement, UnmetRequirement};
pub use session::{
    ConsoleSession, EndedSessions, FormNonce, SessionDigest, SessionTimeouts, SessionTimeoutsError,
};
pub use space::{Space, SpaceDeleted, SpaceName};
pub use token::{
    CreatedBy, CreatedByError, InvalidScope, SecretHash, TokenLevel, TokenLevelError, TokenName,
    TokenScope, TokenStatus, TokenStatusError,
};
pub use token_format::{
    hint, is_token_without_prefix, ParsedToken, TokenFormatError, TokenKind, TokenSecret,
    TokenString, TOKEN_LEN,
};
