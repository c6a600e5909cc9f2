//! `tollgate export` and `tollgate import`: moving an installation from one store to another.
//! Export writes the dump (see [`dump`]) on standard output and nothing else there; import
//! reads one on standard input into an empty store, all or nothing. Logs and the closing
//! summary go to standard error.

mod dump;

use std::io::{BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;
use tollgate_app::ports::StoreTransfer;
use tollgate_app::TransferService;

use crate::config::{DatabaseArgs, ImportArgs};
use crate::serve::runtime;
use crate::store::{self, StoreChoice};

/// What the store's schema must be before the command runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// As it is: an export only reads (serve migrated it already).
    AsIs,
    /// Migrated first, as `serve` does: an import fills a store this build will serve.
    Migrated,
}

/// The store to export from or import into, as `DATABASE_URL` names it (SQLite at
/// `./tollgate.db` by default). An export only reads: on SQLite it needs no lock and works
/// beside a running server. An import holds the SQLite file's single-server lock. The
/// in-memory store keeps nothing, so there is nothing to export from it and no point importing
/// into it.
async fn open_store(args: &DatabaseArgs, schema: Schema) -> anyhow::Result<Arc<dyn StoreTransfer>> {
    match args.choice()? {
        StoreChoice::Sqlite(path) => Ok(match schema {
            Schema::AsIs => Arc::new(store::open_sqlite_shared(&path).await?),
            Schema::Migrated => Arc::new(store::open_sqlite_exclusive(&path).await?),
        }),
        StoreChoice::Postgres(url) => {
            let pg = store::connect_postgres(&url, args).await?;
            if schema == Schema::Migrated {
                let applied = pg.migrate().await.context("failed to run the migrations")?;
                store::report_migrations("Postgres", &applied);
            }
            Ok(Arc::new(pg))
        }
        StoreChoice::Memory => anyhow::bail!(
            "tollgate export and import need a store that keeps what it is given: the \
             in-memory store keeps nothing, so there is nothing to move (unset DATABASE_URL for \
             ./tollgate.db, or set sqlite://PATH or postgres://...)"
        ),
    }
}

/// `tollgate export`.
pub fn export(args: &DatabaseArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let service = TransferService::new(open_store(args, Schema::AsIs).await?);
        let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        dump::write_header(&mut out).context("failed to write the dump")?;
        let counts = service
            .export(|record| dump::write_record(&mut out, record))
            .await
            .context("the export failed; what was written is incomplete")?;
        out.flush().context("failed to write the dump")?;
        eprintln!("exported {counts}");
        Ok(())
    })
}

/// `tollgate import`: every token's hash is checked against the argon2 bounds of `args`
/// (`TOLLGATE_ARGON2_MAX_*`) before anything is written.
pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let hasher = args.hashing.hasher()?;
    runtime()?.block_on(async {
        // The store first: without one, say so at once rather than wait for standard input.
        let service = TransferService::new(open_store(&args.database, Schema::Migrated).await?);
        let contents = dump::read(std::io::stdin().lock())
            .context("the dump cannot be imported; nothing was written")?;
        let counts = service
            .import(&contents, &hasher)
            .await
            .context("nothing was imported")?;
        eprintln!("imported {counts}");
        Ok(())
    })
}
