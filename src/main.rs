//! The `tollgate` binary: the composition root. It reads configuration, picks the adapters
//! (SQLite at ./tollgate.db unless `DATABASE_URL` names another store), wires the services and
//! serves the REST API. Nothing else lives here.

mod bootstrap;
mod config;
mod logs;
mod metrics;
mod operator;
mod serve;
mod store;
mod tools;
mod transfer;

use std::process::ExitCode;

use clap::Parser;

use crate::config::{Cli, Command};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::FAILURE,
        Err(error) => {
            // One line with its causes and no backtrace, whatever RUST_BACKTRACE says: these
            // are configuration and operating errors, for a person to read. Panics keep theirs.
            eprintln!("tollgate: {}", one_line(&error));
            // Bad input exits 2, as clap's own refusals of the command line do.
            if operator::is_bad_input(&error) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error and its causes, joined by `: `, leaving out a cause whose words its parent
/// already ends with (sqlx's errors repeat their source's message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Whether the error is standard output closed by its reader (`tollgate openapi | head`):
/// nothing to report.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// What a command logs: `serve` as TOLLGATE_LOG says, commands that work on a store what they
/// did (`export` and `import` only warnings, so that their output stays the dump; the operator
/// commands only warnings, since they print what they did), the others nothing.
fn log_filter(command: &Command) -> Option<&str> {
    match command {
        Command::Serve(args) => Some(&args.log),
        Command::Migrate(_) | Command::Backup(_) => Some("info"),
        Command::Export(_) | Command::Import(_) | Command::Space { .. } => Some("warn"),
        Command::Token { command } => command.works_on_store().then_some("warn"),
        Command::Openapi | Command::Healthcheck(_) | Command::Completions { .. } => None,
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(filter) = log_filter(&cli.command) {
        logs::init(filter, cli.log_format)?;
    }
    let done = match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => serve::migrate(&args),
        Command::Backup(args) => serve::backup(&args),
        Command::Export(args) => transfer::export(&args),
        Command::Import(args) => transfer::import(&args),
        Command::Openapi => tools::openapi(),
        Command::Completions { shell } => {
            tools::completions(shell);
            Ok(())
        }
        Command::Healthcheck(args) => {
            return Ok(if tools::healthcheck(&args)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Space { command } => operator::space(command),
        Command::Token { command } => {
            return Ok(if operator::token(command)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}
