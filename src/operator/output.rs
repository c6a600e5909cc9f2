//! How the operator commands print: aligned columns for people, the REST API's JSON for
//! scripts. An issued token's secret goes to standard output: in JSON inside the document, in
//! table output alone on its line, with the metadata on standard error.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tollgate_app::{IssuedToken, PresentedToken, SpaceDeletion, TokenView};
use tollgate_domain::{Space, SpaceId, TokenKind};
use tollgate_http::dto::{CreatedTokenResponse, SpaceResponse, TokenResponse};

use super::args::Output;

/// Prints results in the chosen [`Output`].
pub struct Printer {
    output: Output,
}

const SPACE_COLUMNS: [&str; 3] = ["ID", "NAME", "CREATED"];
const TOKEN_COLUMNS: [&str; 8] = [
    "ID",
    "NAME",
    "LEVEL",
    "STATUS",
    "HINT",
    "CREATED",
    "EXPIRES",
    "LAST USED",
];

impl Printer {
    pub const fn new(output: Output) -> Self {
        Self { output }
    }

    pub fn space(&self, space: &Space) -> anyhow::Result<()> {
        match self.output {
            Output::Json => json(&SpaceResponse::from(space)),
            Output::Table => table(&mut stdout(), &SPACE_COLUMNS, &[space_row(space)]),
        }
    }

    /// What `space delete` did.
    pub fn deletion(&self, space_id: SpaceId, deletion: &SpaceDeletion) -> anyhow::Result<()> {
        #[derive(Serialize)]
        struct Deleted {
            id: String,
            deleted: bool,
            tokens_revoked: usize,
        }
        let (deleted, revoked) = match deletion {
            SpaceDeletion::Deleted { revoked } => (true, *revoked),
            SpaceDeletion::AlreadyDeleted => (false, 0),
        };
        match self.output {
            Output::Json => json(&Deleted {
                id: space_id.to_string(),
                deleted,
                tokens_revoked: revoked,
            }),
            Output::Table if deleted => {
                writeln!(
                    stdout(),
                    "deleted space {space_id}; {revoked} of its tokens revoked"
                )?;
                Ok(())
            }
            Output::Table => {
                writeln!(
                    stdout(),
                    "space {space_id} was deleted before; nothing changed"
                )?;
                Ok(())
            }
        }
    }

    pub fn spaces(&self, spaces: &[Space]) -> anyhow::Result<()> {
        match self.output {
            Output::Json => json(&spaces.iter().map(SpaceResponse::from).collect::<Vec<_>>()),
            Output::Table => table(
                &mut stdout(),
                &SPACE_COLUMNS,
                &spaces.iter().map(space_row).collect::<Vec<_>>(),
            ),
        }
    }

    pub fn token(&self, view: &TokenView) -> anyhow::Result<()> {
        match self.output {
            Output::Json => json(&TokenResponse::from(view)),
            Output::Table => details(&mut stdout(), view),
        }
    }

    pub fn tokens(&self, views: &[TokenView]) -> anyhow::Result<()> {
        match self.output {
            Output::Json => json(&views.iter().map(TokenResponse::from).collect::<Vec<_>>()),
            Output::Table => table(
                &mut stdout(),
                &TOKEN_COLUMNS,
                &views.iter().map(token_row).collect::<Vec<_>>(),
            ),
        }
    }

    /// A token just created or rotated: the secret to standard output, this once.
    pub fn issued(&self, issued: IssuedToken) -> anyhow::Result<()> {
        if self.output == Output::Json {
            return json(&CreatedTokenResponse::from(issued));
        }
        let (view, secret) = issued.into_parts();
        let mut stderr = std::io::stderr().lock();
        details(&mut stderr, &view)?;
        writeln!(
            stderr,
            "\nThe token is on standard output. It is shown this once: store it now."
        )?;
        let mut out = stdout();
        writeln!(out, "{}", secret.expose()).context("failed to print the token")?;
        out.flush().context("failed to print the token")
    }

    /// The result of `token check`.
    pub fn check(&self, parsed: Option<&PresentedToken>) -> anyhow::Result<()> {
        #[derive(Serialize)]
        struct Check {
            well_formed: bool,
            kind: Option<&'static str>,
            token_id: Option<String>,
        }
        match (self.output, parsed) {
            (Output::Json, _) => json(&Check {
                well_formed: parsed.is_some(),
                kind: parsed.map(|p| kind_code(p.kind())),
                token_id: parsed.map(|p| p.id().to_string()),
            }),
            (Output::Table, Some(parsed)) => {
                writeln!(
                    stdout(),
                    "well-formed {} token ({}), id {}",
                    kind_code(parsed.kind()),
                    kind_words(parsed.kind()),
                    parsed.id()
                )?;
                Ok(())
            }
            (Output::Table, None) => {
                writeln!(
                    std::io::stderr(),
                    "not a tollgate token: its format or its checksum is wrong"
                )?;
                Ok(())
            }
        }
    }
}

/// The kind as introspection's `kind` names it: the prefix without its `_`.
fn kind_code(kind: TokenKind) -> &'static str {
    let prefix = kind.prefix();
    prefix.strip_suffix('_').unwrap_or(prefix)
}

const fn kind_words(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Client => "a space's client token",
        TokenKind::SpaceAdmin => "a space's admin token",
        TokenKind::InstanceAdmin => "an instance admin token",
    }
}

fn stdout() -> std::io::StdoutLock<'static> {
    std::io::stdout().lock()
}

fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value).context("failed to print the result")?;
    writeln!(out).context("failed to print the result")
}

fn when(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.replace_nanosecond(0).ok())
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

fn space_row(space: &Space) -> Vec<String> {
    vec![
        space.id.to_string(),
        space.name.as_str().to_owned(),
        when(Some(space.created_at)),
    ]
}

fn token_row(view: &TokenView) -> Vec<String> {
    let token = &view.token;
    vec![
        token.id().to_string(),
        token.name().as_str().to_owned(),
        token.level().as_str().to_owned(),
        view.status.as_str().to_owned(),
        token.hint(),
        when(Some(token.created_at())),
        when(token.expires_at()),
        when(token.last_used_at()),
    ]
}

/// One token, a field a line.
fn details(out: &mut impl Write, view: &TokenView) -> anyhow::Result<()> {
    let token = &view.token;
    let id = |id: Option<String>| id.unwrap_or_else(|| "-".to_owned());
    let rows = [
        ("id", token.id().to_string()),
        ("space_id", id(token.space_id().map(|s| s.to_string()))),
        ("name", token.name().as_str().to_owned()),
        (
            "description",
            id(token.description().map(|d| d.as_str().to_owned())),
        ),
        ("level", token.level().as_str().to_owned()),
        ("status", view.status.as_str().to_owned()),
        ("hint", token.hint()),
        ("created_at", when(Some(token.created_at()))),
        ("created_by", token.created_by().to_string()),
        ("expires_at", when(token.expires_at())),
        ("last_used_at", when(token.last_used_at())),
        (
            "last_used_ip",
            id(token.last_used_ip().map(|ip| ip.to_string())),
        ),
        ("suspended_at", when(token.suspended_at())),
        ("revoked_at", when(token.revoked_at())),
        ("replaces", id(token.replaces().map(|t| t.to_string()))),
        (
            "replaced_by",
            id(token.replaced_by().map(|t| t.to_string())),
        ),
    ];
    for (field, value) in rows {
        writeln!(out, "{field:<13} {value}")?;
    }
    Ok(())
}

/// Columns padded to their widest cell, in characters.
fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut text = String::new();
            for (cell, width) in cells.zip(&widths) {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', width + 2 - cell.chars().count()));
            }
            writeln!(out, "{}", text.trim_end())
        };
    line(out, &mut header.iter().copied())?;
    for row in rows {
        line(out, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}
