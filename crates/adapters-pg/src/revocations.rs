//! [`PgRevocationFeed`]: other nodes' revocations and rotations, through Postgres
//! `LISTEN/NOTIFY`.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;
use tollgate_app::ports::{RevocationEvent, RevocationFeed};
use tollgate_app::telemetry::RevocationListenerMetrics;
use tollgate_domain::TokenId;

/// The channel the schema's triggers notify on, with a token id as payload, meaning "forget
/// this token": it was revoked, rotated, its expiry changed, or it was deleted
/// (`migrations/0002_revocation_notify.sql`, `0003_lifecycle.sql`). Each is reported as
/// [`RevocationEvent::Revoked`]: a node drops the token from its verification cache either way.
pub const REVOCATION_CHANNEL: &str = "tollgate_token_revoked";

/// Listens for revocations (and the other changes of [`REVOCATION_CHANNEL`]) on a dedicated
/// connection of its own. When that connection is lost
/// it reports [`RevocationEvent::Lost`] and reconnects (retrying every `retry` while Postgres is
/// down). Each time it listens, at first and again, it reports [`RevocationEvent::Listening`],
/// since revocations made before were not reported. Whether it listens, and how often it listened again, are metrics
/// (`tollgate_revocation_listener_up`, `tollgate_revocation_listener_reconnects_total`).
pub struct PgRevocationFeed {
    pool: PgPool,
    listener: Option<PgListener>,
    retry: Duration,
    metrics: RevocationListenerMetrics,
}

impl std::fmt::Debug for PgRevocationFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRevocationFeed")
            .field("listening", &self.listener.is_some())
            .finish()
    }
}

impl PgRevocationFeed {
    /// A feed using the connection settings of `pool`, on a connection of its own.
    #[must_use]
    pub fn new(pool: &PgPool) -> Self {
        // A pool of its own, of one connection: `PgListener::connect_with` takes a connection
        // from the pool it is given and keeps it for good, which must not be the server's.
        let options = PgConnectOptions::clone(&pool.connect_options());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        Self {
            pool,
            listener: None,
            retry: Duration::from_secs(1),
            metrics: RevocationListenerMetrics::new(),
        }
    }

    /// The same feed, retrying a lost connection every `retry`.
    #[must_use]
    pub const fn with_retry(mut self, retry: Duration) -> Self {
        self.retry = retry;
        self
    }

    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(REVOCATION_CHANNEL).await?;
        Ok(listener)
    }
}

#[async_trait]
impl RevocationFeed for PgRevocationFeed {
    async fn next(&mut self) -> RevocationEvent {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match self.listen().await {
                    Ok(listener) => {
                        tracing::info!(channel = REVOCATION_CHANNEL, "listening for revocations");
                        self.listener = Some(listener);
                        self.metrics.listening();
                        // Whatever was revoked before this point may have been missed.
                        return RevocationEvent::Listening;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for revocations; retrying");
                        tokio::time::sleep(self.retry).await;
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => match notification.payload().parse() {
                    Ok(uuid) => return RevocationEvent::Revoked(TokenId::from_uuid(uuid)),
                    Err(_) => {
                        tracing::warn!("ignoring a revocation notification that is not a token id");
                    }
                },
                Ok(None) | Err(_) => {
                    tracing::warn!("the revocation listener lost its connection");
                    self.listener = None;
                    self.metrics.lost();
                    return RevocationEvent::Lost;
                }
            }
        }
    }
}
