//! Where logs go and how they look: standard error, in the format the reader needs. People at
//! a terminal get colour; a file, a pipe, journald or `docker logs` get plain text (no ANSI
//! codes), or one JSON object per line with `TOLLGATE_LOG_FORMAT=json` for log shippers.
//! `NO_COLOR` (any value but empty, as no-color.org says) turns colour off at a terminal too.

use std::io::IsTerminal;

use anyhow::Context;
use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// The format of log lines, for `TOLLGATE_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event; coloured only at a terminal without NO_COLOR.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`, `spans`).
    Json,
}

/// Starts logging to standard error with `filter` (tracing's EnvFilter syntax).
///
/// # Errors
/// When `filter` is not a valid filter.
pub fn init(filter: &str, format: LogFormat) -> anyhow::Result<()> {
    let mut directives = EnvFilter::try_new(filter)
        .with_context(|| format!("TOLLGATE_LOG is not a valid log filter: {filter:?}"))?;
    // Postgres's notices ("relation \"_sqlx_migrations\" already exists, skipping" on every
    // migration) come through sqlx at INFO: noise, unless the filter asks for them by name.
    if !filter.contains("sqlx::postgres::notice") {
        directives = directives.add_directive(
            "sqlx::postgres::notice=warn"
                .parse()
                .context("the notice directive")?,
        );
    }
    let filter = directives;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
    Ok(())
}

/// Whether text logs are coloured: at a terminal, unless NO_COLOR is set to anything but "".
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::colour;

    #[test]
    fn colour_only_at_a_terminal_and_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(OsStr::new(""))));
    }
}
