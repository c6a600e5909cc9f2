//! Reading a dump back: every line through the domain's constructors, field by field, then
//! the references between records through [`StoreContents::new`]. A bad line is reported with
//! its number and the field at fault; no message quotes a `secret_hash`.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use tollgate_app::{RecordId, StoreContents};
use tollgate_domain::{
    ApiToken, AuditAction, AuditEvent, ChangedFields, CreatedBy, SecretHash, Space, SpaceName,
    TokenDescription, TokenLevel, TokenName, TokenRecord, TokenScope,
};

use super::{EventLine, HeaderLine, SpaceLine, TokenLine, DUMP_KIND, VERSION};

/// What every hash in a dump starts with: tollgate hashes secrets with argon2id only.
const ARGON2ID_PREFIX: &str = "$argon2id$";
/// Bad lines told one by one; the rest are counted.
const SHOWN_ERRORS: usize = 20;

/// Only the `kind` of a line, to choose how to read the rest.
#[derive(Deserialize)]
struct KindOnly {
    kind: String,
}

/// A line that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based.
    pub line: usize,
    /// What is wrong, naming the field; never a hash.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A dump that cannot be imported.
#[derive(Debug)]
pub enum DumpError {
    /// Reading the input failed.
    Read(io::Error),
    /// Lines that cannot be imported: the first of them, and how many there are.
    BadLines {
        /// The first [`SHOWN_ERRORS`] bad lines.
        shown: Vec<LineError>,
        /// How many bad lines in all.
        total: usize,
    },
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(_) => f.write_str("failed to read the dump"),
            Self::BadLines { shown, total } => {
                let plural = if *total == 1 { "" } else { "s" };
                write!(f, "the dump has {total} bad line{plural}:")?;
                for error in shown {
                    write!(f, "\n  {error}")?;
                }
                if *total > shown.len() {
                    write!(f, "\n  ... and {} more", total - shown.len())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for DumpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(e) => Some(e),
            Self::BadLines { .. } => None,
        }
    }
}

/// What one line holds.
enum Record {
    Space(Space),
    Token(ApiToken),
    Event(AuditEvent),
}

fn header_expected() -> String {
    format!(
        "not a tollgate dump: the first line must be \
         {{\"kind\":\"{DUMP_KIND}\",\"version\":{VERSION}}}"
    )
}

/// A serde error in our words: the field at fault (from the path), and serde_json's message
/// without its position (each line is a document of its own, so it would always say line 1);
/// the column is kept. Our fields are all strings (but `version`), so no message quotes a value.
fn json_error(kind: &str, error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = error.inner();
    let message = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    let message = message.strip_suffix(&position).unwrap_or(&message);
    let path = error.path().to_string();
    let column = if inner.column() > 0 {
        format!(" (column {})", inner.column())
    } else {
        String::new()
    };
    if path == "." {
        format!("{kind}: {message}{column}")
    } else {
        format!("{kind} field `{path}`: {message}{column}")
    }
}

fn from_json<T: DeserializeOwned>(kind: &str, text: &str) -> Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| json_error(kind, &e))?;
    deserializer
        .end()
        .map_err(|_| format!("{kind}: more than one JSON value on the line"))?;
    Ok(value)
}

/// Reads one field's text into a value, naming the field when it cannot.
struct Fields {
    kind: &'static str,
}

impl Fields {
    fn bad(&self, field: &str, what: impl fmt::Display) -> String {
        format!("{} field `{field}`: {what}", self.kind)
    }

    fn id<T: FromStr>(&self, field: &str, raw: &str) -> Result<T, String> {
        raw.parse().map_err(|_| self.bad(field, "not a UUID"))
    }

    fn optional_id<T: FromStr>(&self, field: &str, raw: Option<&str>) -> Result<Option<T>, String> {
        raw.map(|r| self.id(field, r)).transpose()
    }

    /// An RFC 3339 time, in UTC, to the microsecond at most: what every store keeps, so that
    /// what is imported is what every store reads back.
    fn time(&self, field: &str, raw: &str) -> Result<OffsetDateTime, String> {
        let at = OffsetDateTime::parse(raw, &Rfc3339)
            .map_err(|_| self.bad(field, "not an RFC 3339 time"))?;
        if at.nanosecond() % 1_000 != 0 {
            return Err(self.bad(field, "more precise than a microsecond"));
        }
        Ok(at.to_offset(UtcOffset::UTC))
    }

    fn optional_time(
        &self,
        field: &str,
        raw: Option<&str>,
    ) -> Result<Option<OffsetDateTime>, String> {
        raw.map(|r| self.time(field, r)).transpose()
    }

    /// A name as stores keep it: valid, and already trimmed (so that it imports unchanged).
    fn name<T: AsRef<str>, E: fmt::Display>(
        &self,
        raw: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, String> {
        let name = parse(raw).map_err(|e| self.bad("name", e))?;
        if name.as_ref() != raw {
            return Err(self.bad("name", "must not start or end with white space"));
        }
        Ok(name)
    }

    fn creator(&self, field: &str, raw: &str) -> Result<CreatedBy, String> {
        raw.parse().map_err(|e| self.bad(field, e))
    }
}

fn space(line: &SpaceLine) -> Result<Space, String> {
    let f = Fields { kind: "space" };
    Ok(Space {
        id: f.id("id", &line.id)?,
        name: f.name(&line.name, SpaceName::parse)?,
        created_at: f.time("created_at", &line.created_at)?,
        deleted_at: line
            .deleted_at
            .as_deref()
            .map(|at| f.time("deleted_at", at))
            .transpose()?,
    })
}

/// A PHC string of argon2id, checked without ever quoting it.
fn secret_hash(f: &Fields, raw: String) -> Result<SecretHash, String> {
    if !raw.starts_with(ARGON2ID_PREFIX) || !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(f.bad(
            "secret_hash",
            format_args!("not an argon2id hash (a PHC string starting with {ARGON2ID_PREFIX})"),
        ));
    }
    Ok(SecretHash::new(raw))
}

fn token(line: TokenLine) -> Result<ApiToken, String> {
    let f = Fields { kind: "token" };
    let space_id = f.optional_id("space_id", line.space_id.as_deref())?;
    let level: TokenLevel = line.level.parse().map_err(|e| f.bad("level", e))?;
    let scope = TokenScope::from_parts(space_id, level).map_err(|_| {
        f.bad(
            "level",
            "a token without `space_id` is an instance token, which must be admin-level",
        )
    })?;
    let record = TokenRecord {
        id: f.id("id", &line.id)?,
        scope,
        name: f.name(&line.name, TokenName::parse)?,
        description: line
            .description
            .as_deref()
            .map(|raw| {
                let description =
                    TokenDescription::parse(raw).map_err(|e| f.bad("description", e))?;
                if description.as_str() == raw {
                    Ok(description)
                } else {
                    Err(f.bad("description", "must not start or end with white space"))
                }
            })
            .transpose()?,
        created_at: f.time("created_at", &line.created_at)?,
        created_by: f.creator("created_by", &line.created_by)?,
        expires_at: f.optional_time("expires_at", line.expires_at.as_deref())?,
        last_used_at: f.optional_time("last_used_at", line.last_used_at.as_deref())?,
        last_used_ip: line
            .last_used_ip
            .as_deref()
            .map(|raw| {
                raw.parse()
                    .map_err(|_| f.bad("last_used_ip", "not an IP address"))
            })
            .transpose()?,
        revoked_at: f.optional_time("revoked_at", line.revoked_at.as_deref())?,
        suspended_at: f.optional_time("suspended_at", line.suspended_at.as_deref())?,
        replaces: f.optional_id("replaces", line.replaces.as_deref())?,
        replaced_by: f.optional_id("replaced_by", line.replaced_by.as_deref())?,
        rotated_at: f.optional_time("rotated_at", line.rotated_at.as_deref())?,
        secret_hash: secret_hash(&f, line.secret_hash)?,
    };
    ApiToken::restore(record).map_err(|e| f.bad("replaced_by", e))
}

fn event(line: &EventLine) -> Result<AuditEvent, String> {
    let f = Fields { kind: "event" };
    let event = AuditEvent {
        id: f.id("id", &line.id)?,
        at: f.time("at", &line.at)?,
        action: line.action.parse::<AuditAction>().map_err(|_| {
            let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            f.bad(
                "action",
                format_args!("unknown action (expected one of {})", known.join(", ")),
            )
        })?,
        actor: f.creator("actor", &line.actor)?,
        token_id: f.optional_id("token_id", line.token_id.as_deref())?,
        space_id: f.optional_id("space_id", line.space_id.as_deref())?,
        via_token_id: f.optional_id("via_token_id", line.via_token_id.as_deref())?,
        changed: line
            .changed
            .as_deref()
            .map(ChangedFields::parse)
            .transpose()
            .map_err(|e| f.bad("changed", e))?
            .unwrap_or_default(),
    };
    event.check_subject().map_err(|e| f.bad("token_id", e))?;
    Ok(event)
}

fn header(text: &str) -> Result<(), String> {
    let line: HeaderLine = from_json("header", text).map_err(|_| header_expected())?;
    if line.kind != DUMP_KIND {
        return Err(header_expected());
    }
    match line.version.as_u64() {
        Some(VERSION) => Ok(()),
        Some(other) => Err(format!(
            "dump version {other} is not supported: this tollgate reads version {VERSION}"
        )),
        None => Err(format!(
            "header field `version`: must be the number {VERSION}"
        )),
    }
}

fn record(text: &str) -> Result<Record, String> {
    let KindOnly { kind } =
        from_json("line", text).map_err(|e| format!("not a dump record ({e})"))?;
    match kind.as_str() {
        DUMP_KIND => Err("a second header: a dump has one, on its first line".to_owned()),
        "space" => space(&from_json("space", text)?).map(Record::Space),
        "token" => token(from_json("token", text)?).map(Record::Token),
        "event" => event(&from_json("event", text)?).map(Record::Event),
        // The value is not repeated: it may be anything, even a misplaced hash.
        _ => Err("unknown `kind` (expected `space`, `token` or `event`)".to_owned()),
    }
}

/// What has been read so far.
#[derive(Default)]
struct Reader {
    lines: usize,
    spaces: Vec<Space>,
    tokens: Vec<ApiToken>,
    events: Vec<AuditEvent>,
    /// The line each record came from, to blame a reference that does not resolve.
    origins: HashMap<RecordId, usize>,
    errors: Vec<LineError>,
    total_errors: usize,
}

impl Reader {
    fn fail(&mut self, line: usize, message: String) {
        self.total_errors += 1;
        if self.errors.len() < SHOWN_ERRORS {
            self.errors.push(LineError { line, message });
        }
    }

    /// Reads line `n` (1-based). Returns `false` when reading further makes no sense (the input
    /// is not a dump at all).
    fn line(&mut self, n: usize, bytes: &[u8]) -> bool {
        self.lines = n;
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.fail(n, "not UTF-8 text".to_owned());
            return n != 1;
        };
        if n == 1 {
            return match header(text) {
                Ok(()) => true,
                Err(message) => {
                    self.fail(n, message);
                    false
                }
            };
        }
        if text.trim().is_empty() {
            self.fail(n, "an empty line".to_owned());
            return true;
        }
        match record(text) {
            Ok(record) => self.keep(n, record),
            Err(message) => self.fail(n, message),
        }
        true
    }

    fn keep(&mut self, n: usize, record: Record) {
        let (id, what) = match &record {
            Record::Space(s) => (RecordId::Space(s.id), format!("space {}", s.id)),
            Record::Token(t) => (RecordId::Token(t.id()), format!("token {}", t.id())),
            Record::Event(e) => (RecordId::Event(e.id), format!("event {}", e.id)),
        };
        if let Some(first) = self.origins.get(&id) {
            let message = format!("{what} is already on line {first}");
            self.fail(n, message);
            return;
        }
        self.origins.insert(id, n);
        match record {
            Record::Space(s) => self.spaces.push(s),
            Record::Token(t) => self.tokens.push(t),
            Record::Event(e) => self.events.push(e),
        }
    }

    fn finish(mut self) -> Result<StoreContents, DumpError> {
        if self.lines == 0 {
            self.fail(1, format!("the dump is empty; {}", header_expected()));
        }
        if self.total_errors == 0 {
            match StoreContents::new(self.spaces, self.tokens, self.events) {
                Ok(contents) => return Ok(contents),
                Err(e) => {
                    let line = self.origins.get(&e.record()).copied().unwrap_or(0);
                    self.total_errors = 1;
                    self.errors = vec![LineError {
                        line,
                        message: e.to_string(),
                    }];
                }
            }
        }
        Err(DumpError::BadLines {
            shown: self.errors,
            total: self.total_errors,
        })
    }
}

/// Reads a whole dump, holding it in memory (about a kilobyte per token), and checks it: every
/// line, then the references between records.
///
/// # Errors
/// [`DumpError::Read`] if the input cannot be read; [`DumpError::BadLines`] naming every bad
/// line (the first [`SHOWN_ERRORS`] of them).
pub fn read(mut input: impl BufRead) -> Result<StoreContents, DumpError> {
    let mut reader = Reader::default();
    let mut buffer = Vec::new();
    for n in 1.. {
        buffer.clear();
        if input
            .read_until(b'\n', &mut buffer)
            .map_err(DumpError::Read)?
            == 0
        {
            break;
        }
        let line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !reader.line(n, line) {
            break;
        }
    }
    reader.finish()
}

#[cfg(test)]
mod tests {
    use tollgate_app::testing::fixtures::{space as space_n, space_id, token as token_n, token_id};
    use tollgate_app::ExportRecord;

    use super::super::tests::dump;
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$do-not-print-me";

    fn errors(text: &str) -> (Vec<LineError>, usize) {
        match read(text.as_bytes()) {
            Err(DumpError::BadLines { shown, total }) => (shown, total),
            Err(DumpError::Read(e)) => panic!("{e}"),
            Ok(contents) => panic!("a bad dump was read: {contents:?}"),
        }
    }

    /// The one error of a dump whose first two lines are a header and a space, and whose third
    /// line is `third`.
    fn third_line_error(third: &str) -> String {
        let text = format!("{}{third}\n", dump(&[ExportRecord::Space(&space_n(1))]));
        let (shown, total) = errors(&text);
        assert_eq!(total, 1, "{shown:?}");
        assert_eq!(shown[0].line, 3, "{shown:?}");
        assert!(!shown[0].message.contains("do-not-print-me"), "{shown:?}");
        shown[0].message.clone()
    }

    #[test]
    fn crlf_line_ends_and_a_missing_last_newline_are_accepted() {
        let text = dump(&[ExportRecord::Space(&space_n(1))]).replace('\n', "\r\n");
        let text = text.trim_end();
        let contents = read(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(contents.spaces(), [space_n(1)]);
    }

    #[test]
    fn the_first_line_must_be_the_header_of_version_1() {
        for (text, expected) in [
            ("", "the dump is empty"),
            ("{\"kind\":\"space\"}\n", "not a tollgate dump"),
            ("hello\n", "not a tollgate dump"),
            (
                "{\"kind\":\"tollgate-dump\",\"version\":2}\n",
                "version 2 is not supported",
            ),
            (
                "{\"kind\":\"tollgate-dump\",\"version\":\"1\"}\n",
                "must be the number 1",
            ),
        ] {
            let (shown, _) = errors(text);
            assert_eq!(shown[0].line, 1, "{text:?}");
            assert!(shown[0].message.contains(expected), "{text:?}: {shown:?}");
        }
    }

    #[test]
    fn every_bad_line_names_its_field_and_never_the_hash() {
        let good = format!(
            r#"{{"kind":"token","id":"{}","space_id":"{}","level":"client","name":"ci","created_at":"2030-01-01T00:00:00Z","created_by":"system","secret_hash":"{HASH}"}}"#,
            token_id(9),
            space_id(1)
        );
        assert!(
            read(format!("{}{good}\n", dump(&[ExportRecord::Space(&space_n(1))])).as_bytes())
                .is_ok()
        );
        let with = |from: &str, to: &str| good.replace(from, to);
        let cases = [
            (with("\"client\"", "\"root\""), "token field `level`: token level must be"),
            (
                with(&format!("\"space_id\":\"{}\",", space_id(1)), ""),
                "token field `level`: a token without `space_id` is an instance token",
            ),
            (with("\"ci\"", "\"\""), "token field `name`: must not be empty"),
            (with("\"ci\"", "\" ci\""), "token field `name`: must not start or end"),
            (with("2030-01-01T00:00:00Z", "yesterday"), "token field `created_at`: not an RFC 3339"),
            (
                with("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.0000001Z"),
                "more precise than a microsecond",
            ),
            (with("\"system\"", "\"robot\""), "token field `created_by`: created_by must be"),
            (with("$argon2id$", "$2b$"), "token field `secret_hash`: not an argon2id hash"),
            (with("do-not-print-me", "do not print me"), "token field `secret_hash`"),
            (with(&token_id(9).to_string(), "nine"), "token field `id`: not a UUID"),
            (with("\"level\":\"client\",", ""), "missing field `level`"),
            (with("\"name\":\"ci\"", "\"name\":5"), "token field `name`: invalid type"),
            (with("\"kind\":\"token\",", "\"kind\":\"token\",\"colour\":\"red\","), "unknown field `colour`"),
            (
                with("\"created_by\"", "\"rotated_at\":\"2030-01-01T00:00:00Z\",\"created_by\""),
                "replaced_by and rotated_at must be set together",
            ),
            (with("\"kind\":\"token\"", "\"kind\":\"$argon2id$x\""), "unknown `kind`"),
            (with("\"kind\":\"token\"", "\"kind\":\"tollgate-dump\""), "a second header"),
            ("{\"kind\":\"space\"".to_owned(), "not a dump record"),
            ("[]".to_owned(), "not a dump record"),
            (format!("{good} {good}"), "more than one JSON value"),
            (String::new(), "an empty line"),
            (
                r#"{"kind":"event","id":"x","at":"2030-01-01T00:00:00Z","action":"token.deleted","actor":"system","token_id":"x"}"#.to_owned(),
                "event field `id`: not a UUID",
            ),
            (
                format!(r#"{{"kind":"event","id":"{}","at":"2030-01-01T00:00:00Z","action":"token.deleted","actor":"system","token_id":"{}"}}"#, token_id(1), token_id(1)),
                "event field `action`: unknown action (expected one of token.created",
            ),
            (
                format!(r#"{{"kind":"space","id":"{}","name":"a","created_at":"2030-01-01T00:00:00Z"}}"#, space_id(1)),
                "is already on line 2",
            ),
        ];
        for (line, expected) in cases {
            let message = third_line_error(&line);
            assert!(
                message.contains(expected),
                "{line}\n  gave: {message}\n  expected: {expected}"
            );
        }
    }

    #[test]
    fn a_reference_that_does_not_resolve_blames_the_line_holding_it() {
        let orphan = token_n(5, space_id(9), TokenLevel::Client);
        let text = dump(&[
            ExportRecord::Space(&space_n(1)),
            ExportRecord::Token(&token_n(4, space_id(1), TokenLevel::Client)),
            ExportRecord::Token(&orphan),
        ]);
        let (shown, total) = errors(&text);
        assert_eq!(total, 1);
        assert_eq!(shown[0].line, 4, "{shown:?}");
        assert!(
            shown[0].message.contains("not among the spaces"),
            "{shown:?}"
        );
    }

    #[test]
    fn every_bad_line_is_counted_and_the_first_twenty_are_shown() {
        let mut text = dump(&[]);
        for _ in 0..25 {
            text.push_str("{}\n");
        }
        let (shown, total) = errors(&text);
        assert_eq!((shown.len(), total), (SHOWN_ERRORS, 25));
        let report = DumpError::BadLines { shown, total }.to_string();
        assert!(
            report.starts_with("the dump has 25 bad lines:\n  line 2: "),
            "{report}"
        );
        assert!(report.ends_with("... and 5 more"), "{report}");
    }

    #[test]
    fn invalid_utf8_is_a_bad_line() {
        let mut bytes = dump(&[]).into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        match read(bytes.as_slice()) {
            Err(DumpError::BadLines { shown, .. }) => {
                assert_eq!(
                    shown[0],
                    LineError {
                        line: 2,
                        message: "not UTF-8 text".into()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
