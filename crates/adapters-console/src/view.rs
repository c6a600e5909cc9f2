//! What the templates show: times in words beside the exact time, levels and statuses with
//! the sentence that explains them, and the actor a page is rendered for.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};
use tollgate_app::TokenView;
use tollgate_domain::{
    allows, Actor, AuditEvent, CreatedBy, Permission, Resource, Space, SpaceId, TokenLevel,
    TokenStatus,
};

use crate::BASE;

/// A moment as a page shows it: words ("in 29 days") inside `<time datetime>`, and the exact
/// time as visible text beside them, so that keyboard and screen-reader users get it too.
#[derive(Debug, Clone)]
pub(crate) struct When {
    /// RFC 3339, for `datetime`.
    pub iso: String,
    /// "3 hours ago", "in 29 days".
    pub words: String,
    /// "2026-12-31 10:00 UTC".
    pub exact: String,
}

pub(crate) fn when(at: OffsetDateTime, now: OffsetDateTime) -> When {
    let exact_format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    When {
        iso: at.format(&Rfc3339).unwrap_or_default(),
        words: in_words(at - now),
        exact: at.format(exact_format).unwrap_or_default(),
    }
}

/// "in 3 days", "5 minutes ago", "just now": the nearest whole unit, so a token made for 30
/// days reads "in 30 days" a moment after it was made.
fn in_words(offset: Duration) -> String {
    let seconds = offset.whole_seconds();
    let magnitude = seconds.unsigned_abs();
    if magnitude < 60 {
        return "just now".to_owned();
    }
    let (unit_seconds, unit) = match magnitude {
        m if m < 3_570 => (60, "minute"),
        m if m < 84_600 => (3_600, "hour"),
        m if m < 86_400 * 60 => (86_400, "day"),
        m if m < 86_400 * 730 => (86_400 * 30, "month"),
        _ => (86_400 * 365, "year"),
    };
    let count = (magnitude + unit_seconds / 2) / unit_seconds;
    let plural = if count == 1 { "" } else { "s" };
    if seconds > 0 {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

/// The one line that says what a level may do.
pub(crate) const fn level_note(level: TokenLevel) -> &'static str {
    match level {
        TokenLevel::Client => "For programs that call the platform's API; manages no tokens.",
        TokenLevel::Admin => {
            "Manages this space's tokens: creates client tokens, revokes, reads events."
        }
    }
}

/// The one line that says what a status means.
pub(crate) const fn status_note(status: TokenStatus) -> &'static str {
    match status {
        TokenStatus::Active => "works",
        TokenStatus::Expired => "stopped at its expiry",
        TokenStatus::Revoked => "revoked; never works again",
        TokenStatus::Rotated => "replaced; stops after its grace period",
        TokenStatus::Suspended => "suspended; works again once resumed",
    }
}

/// Who created something, in words.
pub(crate) fn creator(created_by: &CreatedBy) -> String {
    match created_by {
        CreatedBy::System => "tollgate (first start)".to_owned(),
        CreatedBy::Cli => "the command line".to_owned(),
        CreatedBy::Token(id) => {
            let id = id.to_string();
            format!("token {}", &id[..8.min(id.len())])
        }
        CreatedBy::Member(user) => format!("user {user}"),
        CreatedBy::LeakReport => "a leak report".to_owned(),
        CreatedBy::UndisclosedToken => "a token".to_owned(),
        CreatedBy::UndisclosedInstance => "an instance admin token".to_owned(),
    }
}

/// The signed-in actor, as the page chrome shows it.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    /// "instance admin" or "space admin".
    pub who: String,
    /// The spaces list is offered to instance admins only.
    pub instance_admin: bool,
    /// The CSRF token for the sign-out form (and every other form of the page).
    pub csrf: String,
}

impl Nav {
    pub(crate) fn new(actor: &Actor, csrf: String) -> Self {
        let instance_admin = allows(actor, Permission::ManageSpaces, Resource::Instance);
        let who = if instance_admin {
            "instance admin".to_owned()
        } else {
            "space admin".to_owned()
        };
        Self {
            who,
            instance_admin,
            csrf,
        }
    }
}

/// The space a page is about.
#[derive(Debug, Clone)]
pub(crate) struct SpaceView {
    pub id: String,
    pub name: String,
    pub created: When,
    pub tokens_url: String,
}

impl SpaceView {
    pub(crate) fn of(space: &Space, now: OffsetDateTime) -> Self {
        Self {
            id: space.id.to_string(),
            name: space.name.as_str().to_owned(),
            created: when(space.created_at, now),
            tokens_url: tokens_url(space.id),
        }
    }
}

pub(crate) fn tokens_url(space: SpaceId) -> String {
    format!("{BASE}/spaces/{space}/tokens")
}

/// One row of the tokens table.
#[derive(Debug, Clone)]
pub(crate) struct TokenRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub level: &'static str,
    pub level_note: &'static str,
    pub hint: String,
    pub status: &'static str,
    pub status_note: &'static str,
    pub created: When,
    pub created_by: String,
    pub expires: Option<When>,
    pub last_used: Option<When>,
    /// The address of the last use, for readers of admin tokens (the service hides it from
    /// others).
    pub last_used_ip: Option<String>,
    pub can_revoke: bool,
    pub can_rotate: bool,
    pub can_suspend: bool,
    pub can_resume: bool,
    pub can_edit: bool,
    pub revoke_url: String,
    pub rotate_url: String,
    pub suspend_url: String,
    pub resume_url: String,
    pub edit_url: String,
}

impl TokenRow {
    pub(crate) fn of(actor: &Actor, view: &TokenView, now: OffsetDateTime) -> Self {
        let token = &view.token;
        let active = view.status == TokenStatus::Active;
        let may_revoke = allows(actor, Permission::RevokeApiToken, Resource::Token(token));
        let may_create_level = token.space_id().is_some_and(|space| {
            allows(
                actor,
                tollgate_domain::create_permission(token.level()),
                Resource::Space(space),
            )
        });
        let base = token.space_id().map_or_else(String::new, |space| {
            format!("{}/{}", tokens_url(space), token.id())
        });
        Self {
            id: token.id().to_string(),
            name: token.name().as_str().to_owned(),
            description: token.description().map(|d| d.as_str().to_owned()),
            level: token.level().as_str(),
            level_note: level_note(token.level()),
            hint: token.hint(),
            status: view.status.as_str(),
            status_note: status_note(view.status),
            created: when(token.created_at(), now),
            created_by: creator(token.created_by()),
            expires: token.expires_at().map(|at| when(at, now)),
            last_used: token.last_used_at().map(|at| when(at, now)),
            last_used_ip: token.last_used_ip().map(|ip| ip.to_string()),
            // What the service will allow; the service decides again on the POST.
            can_revoke: may_revoke && view.status != TokenStatus::Revoked,
            can_rotate: active && may_revoke && may_create_level,
            can_suspend: active && may_revoke,
            can_resume: view.status == TokenStatus::Suspended && may_revoke,
            // Updating needs what rotating needs, on a token that has not ended.
            can_edit: matches!(view.status, TokenStatus::Active | TokenStatus::Suspended)
                && may_revoke
                && may_create_level,
            revoke_url: format!("{base}/revoke"),
            rotate_url: format!("{base}/rotate"),
            suspend_url: format!("{base}/suspend"),
            resume_url: format!("{base}/resume"),
            edit_url: format!("{base}/edit"),
        }
    }
}

/// One row of the events table.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub at: When,
    pub action: &'static str,
    pub actor: String,
    pub token_id: String,
}

impl EventRow {
    pub(crate) fn of(event: &AuditEvent, now: OffsetDateTime) -> Self {
        Self {
            at: when(event.at, now),
            action: event.action.as_str(),
            actor: creator(&event.actor),
            token_id: event
                .token_id
                .map_or_else(|| "(the space)".to_owned(), |id| id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_words() {
        assert_eq!(in_words(Duration::seconds(30)), "just now");
        assert_eq!(in_words(Duration::seconds(-59)), "just now");
        assert_eq!(in_words(Duration::minutes(1)), "in 1 minute");
        assert_eq!(in_words(-Duration::hours(3)), "3 hours ago");
        assert_eq!(
            in_words(Duration::days(30) - Duration::milliseconds(5)),
            "in 30 days"
        );
        assert_eq!(
            in_words(Duration::days(29) + Duration::hours(11)),
            "in 29 days"
        );
        assert_eq!(
            in_words(Duration::minutes(59) + Duration::seconds(40)),
            "in 1 hour"
        );
        assert_eq!(in_words(-Duration::minutes(90)), "2 hours ago");
        assert_eq!(in_words(Duration::days(90)), "in 3 months");
        assert_eq!(in_words(-Duration::days(800)), "2 years ago");
    }
}
