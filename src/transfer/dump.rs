//! The dump format of `tollgate export` and `tollgate import`: JSON lines. A first line
//! `{"kind":"tollgate-dump","version":1}`, then one object per space, token and audit event,
//! each with a `"kind"` of `space`, `token` or `event` and the fields the REST API names them
//! by (timestamps in RFC 3339, ids as UUIDs), plus a token's `secret_hash`. Never a secret:
//! no store holds one.
//!
//! Reading goes through the domain's constructors, field by field, so a bad line is refused
//! with its line number and the field at fault. No message ever quotes a `secret_hash`.
//!
//! This module writes; [`read`] reads and checks.

mod read;

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use tollgate_app::ExportRecord;

pub use read::read;

/// The `kind` of the first line.
pub const DUMP_KIND: &str = "tollgate-dump";
/// The one version of the format this build writes and reads.
pub const VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderLine {
    kind: String,
    // Any JSON value, checked by hand: a type error would quote whatever was there.
    version: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceLine {
    kind: String,
    id: String,
    name: String,
    created_at: String,
    /// A deleted space only; absent in dumps made before deletion existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<String>,
}

/// A token's line. No `Debug`: it holds the hash.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenLine {
    kind: String,
    id: String,
    space_id: Option<String>,
    level: String,
    name: String,
    created_at: String,
    created_by: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    replaces: Option<String>,
    replaced_by: Option<String>,
    rotated_at: Option<String>,
    secret_hash: String,
    /// Absent for tokens that are not suspended, and in dumps made before suspension existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suspended_at: Option<String>,
    /// Absent for tokens without a description, and in dumps made before descriptions existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// The address of the last use; absent when none is known, and in dumps made before it
    /// was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_ip: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventLine {
    kind: String,
    id: String,
    at: String,
    action: String,
    actor: String,
    /// Absent (or null) for a space's own events (`space.renamed`, `space.deleted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_id: Option<String>,
    space_id: Option<String>,
    /// Absent for most events, and in dumps made before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    via_token_id: Option<String>,
    /// `token.updated` only: the fields that changed, comma-separated (`name,expires_at`).
    /// Absent for every other event, and in dumps made before updates existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changed: Option<String>,
}

fn rfc3339(at: OffsetDateTime) -> io::Result<String> {
    at.to_offset(UtcOffset::UTC).format(&Rfc3339).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a stored time cannot be written in RFC 3339 (its year is beyond 9999)",
        )
    })
}

fn optional_rfc3339(at: Option<OffsetDateTime>) -> io::Result<Option<String>> {
    at.map(rfc3339).transpose()
}

fn write_line<T: Serialize>(out: &mut impl Write, line: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// Writes the first line of a dump.
///
/// # Errors
/// What writing to `out` fails with.
pub fn write_header(out: &mut impl Write) -> io::Result<()> {
    write_line(
        out,
        &HeaderLine {
            kind: DUMP_KIND.to_owned(),
            version: VERSION.into(),
        },
    )
}

/// Writes one record as one line.
///
/// # Errors
/// What writing to `out` fails with, or [`io::ErrorKind::InvalidData`] for a time that RFC 3339
/// cannot express.
pub fn write_record(out: &mut impl Write, record: ExportRecord<'_>) -> io::Result<()> {
    match record {
        ExportRecord::Space(space) => write_line(
            out,
            &SpaceLine {
                kind: "space".to_owned(),
                id: space.id.to_string(),
                name: space.name.as_str().to_owned(),
                created_at: rfc3339(space.created_at)?,
                deleted_at: space.deleted_at.map(rfc3339).transpose()?,
            },
        ),
        ExportRecord::Token(token) => write_line(
            out,
            &TokenLine {
                kind: "token".to_owned(),
                id: token.id().to_string(),
                space_id: token.space_id().map(|id| id.to_string()),
                level: token.level().as_str().to_owned(),
                name: token.name().as_str().to_owned(),
                created_at: rfc3339(token.created_at())?,
                created_by: token.created_by().to_string(),
                expires_at: optional_rfc3339(token.expires_at())?,
                last_used_at: optional_rfc3339(token.last_used_at())?,
                revoked_at: optional_rfc3339(token.revoked_at())?,
                replaces: token.replaces().map(|id| id.to_string()),
                replaced_by: token.replaced_by().map(|id| id.to_string()),
                rotated_at: optional_rfc3339(token.rotated_at())?,
                secret_hash: token.secret_hash().as_str().to_owned(),
                suspended_at: optional_rfc3339(token.suspended_at())?,
                description: token.description().map(|d| d.as_str().to_owned()),
                last_used_ip: token.last_used_ip().map(|ip| ip.to_string()),
            },
        ),
        ExportRecord::Event(event) => write_line(
            out,
            &EventLine {
                kind: "event".to_owned(),
                id: event.id.to_string(),
                at: rfc3339(event.at)?,
                action: event.action.as_str().to_owned(),
                actor: event.actor.to_string(),
                token_id: event.token_id.map(|id| id.to_string()),
                space_id: event.space_id.map(|id| id.to_string()),
                via_token_id: event.via_token_id.map(|id| id.to_string()),
                changed: (!event.changed.is_empty()).then(|| event.changed.to_text()),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use tollgate_app::testing::fixtures::{
        edited, epoch, event as event_of, instance_token, space as space_n, space_id,
        token as token_n, token_id,
    };
    use tollgate_domain::{
        ApiToken, AuditAction, AuditEvent, CreatedBy, GracePeriod, SecretHash, Space,
        TokenDescription, TokenField, TokenLevel, UserId,
    };

    use super::*;

    const HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$do-not-print-me";

    /// A dump of `records`, as export writes it.
    pub(super) fn dump(records: &[ExportRecord<'_>]) -> String {
        let mut out = Vec::new();
        write_header(&mut out).unwrap_or_else(|e| panic!("{e}"));
        for record in records {
            write_record(&mut out, *record).unwrap_or_else(|e| panic!("{e}"));
        }
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    fn sample() -> (Vec<Space>, Vec<ApiToken>, Vec<AuditEvent>) {
        let mut old = edited(&token_n(1, space_id(1), TokenLevel::Client), |t| {
            t.created_by =
                CreatedBy::Member(UserId::parse("user-7").unwrap_or_else(|_| unreachable!()));
            t.last_used_at = Some(epoch() + time::Duration::microseconds(1_500_001));
            t.last_used_ip = Some(std::net::IpAddr::from([192, 0, 2, 7]));
        });
        let grace = GracePeriod::from_seconds(60).unwrap_or_else(|_| unreachable!());
        old.rotate(token_id(2), epoch(), grace)
            .unwrap_or_else(|e| panic!("{e}"));
        let new = edited(&token_n(2, space_id(1), TokenLevel::Admin), |t| {
            t.replaces = Some(token_id(1));
            t.created_by = CreatedBy::Token(token_id(1));
        });
        let mut revoked = token_n(3, space_id(2), TokenLevel::Client);
        revoked.revoke(epoch());
        let instance = instance_token(4);
        // Suspended and described: both columns are in the dump.
        let described = edited(&token_n(5, space_id(2), TokenLevel::Client), |t| {
            t.suspended_at = Some(epoch());
            t.description = TokenDescription::parse("what it is for").ok();
        });
        let events = vec![
            event_of(1, AuditAction::TokenRotated, &old),
            event_of(2, AuditAction::TokenCreated, &instance),
            event_of(3, AuditAction::TokenUpdated, &described).with_changes(
                [TokenField::Name, TokenField::ExpiresAt]
                    .into_iter()
                    .collect(),
            ),
        ];
        (
            vec![space_n(1), space_n(2)],
            vec![old, new, revoked, instance, described],
            events,
        )
    }

    #[test]
    fn a_written_dump_reads_back_equal() {
        let (spaces, tokens, events) = sample();
        let records: Vec<ExportRecord<'_>> = spaces
            .iter()
            .map(ExportRecord::Space)
            .chain(tokens.iter().map(ExportRecord::Token))
            .chain(events.iter().map(ExportRecord::Event))
            .collect();
        let text = dump(&records);
        assert!(
            text.starts_with("{\"kind\":\"tollgate-dump\",\"version\":1}\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 11);
        assert!(text.contains("\"changed\":\"name,expires_at\""), "{text}");
        assert!(
            text.contains("\"description\":\"what it is for\""),
            "{text}"
        );
        let contents = read(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.spaces(), spaces);
        assert_eq!(contents.tokens(), tokens);
        assert_eq!(contents.events(), events);
    }

    #[test]
    fn a_token_line_uses_the_rest_api_field_names() {
        let token = edited(&token_n(1, space_id(1), TokenLevel::Client), |t| {
            t.secret_hash = SecretHash::new(HASH.into());
        });
        let text = dump(&[ExportRecord::Token(&token)]);
        let line: serde_json::Value = text
            .lines()
            .nth(1)
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        assert_eq!(line["kind"], "token");
        assert_eq!(line["id"], token_id(1).to_string());
        assert_eq!(line["space_id"], space_id(1).to_string());
        assert_eq!(line["level"], "client");
        assert_eq!(line["created_at"], "2030-01-01T00:00:00Z");
        assert_eq!(line["created_by"], "system");
        assert_eq!(line["replaced_by"], serde_json::Value::Null);
        assert_eq!(line["secret_hash"], HASH);
    }
}
