//! `tollgate export` and `tollgate import`: moving an installation from one store to another.
//! Export writes the dump (see [`dump`]) on standard output and nothing else there; import
//! reads one on standard input into an empty store, all or nothing. Logs and the closing
//! summary go to standard error.

mod dump;

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tollgate_app::ports::StoreTransfer;
use tollgate_app::TransferService;
use tollgate_pg::{PgOptions, PgStore};

use crate::config::DatabaseArgs;
use crate::serve::{init_tracing, runtime};

/// What the store's schema must be before the command runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// As it is: an export only reads (serve migrated it already).
    AsIs,
    /// Migrated first, as `serve` does: an import fills a store this build will serve.
    Migrated,
}

/// The store to export from or import into. The one place that picks it: Postgres at
/// `DATABASE_URL`. The in-memory store keeps nothing, so there is nothing to export from it
/// and no point importing into it.
async fn open_store(args: &DatabaseArgs, schema: Schema) -> anyhow::Result<Arc<dyn StoreTransfer>> {
    let Some(url) = &args.database_url else {
        anyhow::bail!(
            "tollgate export and import need a store that keeps what it is given: set \
             DATABASE_URL (the in-memory store keeps nothing, so there is nothing to move)"
        );
    };
    let options = PgOptions {
        max_connections: args.db_max_connections,
        acquire_timeout: Duration::from_secs(args.db_acquire_timeout_seconds),
    };
    let store = PgStore::connect(url, options)
        .await
        .context("failed to connect to Postgres (DATABASE_URL)")?;
    if schema == Schema::Migrated {
        store
            .migrate()
            .await
            .context("failed to run the migrations")?;
    }
    Ok(Arc::new(store))
}

/// `tollgate export`.
pub fn export(args: &DatabaseArgs) -> anyhow::Result<()> {
    init_tracing("warn")?;
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

/// `tollgate import`.
pub fn import(args: &DatabaseArgs) -> anyhow::Result<()> {
    init_tracing("warn")?;
    runtime()?.block_on(async {
        // The store first: without one, say so at once rather than wait for standard input.
        let service = TransferService::new(open_store(args, Schema::Migrated).await?);
        let contents = dump::read(std::io::stdin().lock())
            .context("the dump cannot be imported; nothing was written")?;
        let counts = service
            .import(&contents)
            .await
            .context("nothing was imported")?;
        eprintln!("imported {counts}");
        Ok(())
    })
}
