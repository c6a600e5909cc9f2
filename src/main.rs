//! The `tollgate` binary: the composition root. It reads configuration, picks the adapters
//! (SQLite at ./tollgate.db unless `DATABASE_URL` names another store), wires the services and
//! serves the REST API. Nothing else lives here.

mod config;
mod metrics;
mod serve;
mod store;
mod transfer;

use std::io::Write;

use clap::Parser;
use tollgate_app::adapters::OsRandomSource;
use tollgate_app::mint_token_string;
use tollgate_domain::TokenKind;

use crate::config::{Cli, Command, TokenCommand};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => serve::migrate(&args),
        Command::Backup(args) => serve::backup(&args),
        Command::Export(args) => transfer::export(&args),
        Command::Import(args) => transfer::import(&args),
        Command::Token {
            command: TokenCommand::Mint { instance_admin: _ },
        } => {
            // Printing the token is the whole point of this command; it goes to stdout alone so
            // that `export TOLLGATE_BOOTSTRAP_TOKEN=$(tollgate token mint --instance-admin)` works.
            let token = mint_token_string(&OsRandomSource, TokenKind::InstanceAdmin);
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", token.expose())?;
            Ok(())
        }
    }
}
