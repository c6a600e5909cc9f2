//! `TOLLGATE_METRICS_LISTEN`: the Prometheus recorder, and `GET /metrics` on a listener of its
//! own, never on the API's port (a scrape shows the shape of the traffic, which the API's
//! clients have no business reading). Unset, no recorder is installed: every handle the
//! services register is a no-op and nothing serves metrics. docs/operations.md lists them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tollgate_app::telemetry::{self, Flusher, ShardedRecorder, DURATION_BUCKETS};
use tollgate_app::Verifier;

/// How often the per-thread counts and samples are flushed into the exporter and its histograms
/// folded into their buckets between scrapes, so that samples do not pile up in memory (the
/// exporter's own default).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Most connections the metrics listener keeps open at once.
pub const MAX_CONNECTIONS: usize = 64;

/// The installed recorder and its bound listener, not serving yet.
pub struct Metrics {
    handle: PrometheusHandle,
    flusher: Flusher,
    listener: TcpListener,
}

/// Binds `listen` and installs the Prometheus recorder as the global one, behind a
/// [`ShardedRecorder`] so that requests on different cores never write the same counter (its
/// module says why). Call it before the services are built: their handles are registered with
/// the recorder installed at that moment.
pub async fn install(listen: SocketAddr) -> anyhow::Result<Metrics> {
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("failed to listen on {listen} for metrics (TOLLGATE_METRICS_LISTEN)")
    })?;
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".to_owned()),
            DURATION_BUCKETS,
        )
        .context("invalid histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    let recorder = ShardedRecorder::new(recorder);
    let flusher = recorder.flusher();
    metrics::set_global_recorder(recorder).context("a metrics recorder is installed already")?;
    telemetry::describe();
    Ok(Metrics {
        handle,
        flusher,
        listener,
    })
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    flusher: Flusher,
    verifier: Arc<Verifier>,
}

impl Metrics {
    /// Serves `GET /metrics` (and nothing else) until the returned task is aborted; reads
    /// `verifier`'s gauges at each scrape. Its connections are bounded as the API's are, with
    /// the API's timeouts and at most [`MAX_CONNECTIONS`]: a scraper needs one or two, and
    /// these descriptors come out of the room the API's connection limit leaves.
    pub fn serve(
        self,
        verifier: Arc<Verifier>,
        connections: tollgate_http::ConnectionConfig,
    ) -> anyhow::Result<JoinHandle<()>> {
        let address = self
            .listener
            .local_addr()
            .context("failed to read the metrics address")?;
        tracing::info!(%address, "serving metrics at /metrics");
        // A stable line for people and for the end-to-end tests, whatever the log filter.
        eprintln!("tollgate metrics on http://{address}/metrics");
        let upkeep = self.handle.clone();
        let flusher = self.flusher.clone();
        let router = Router::new()
            .route("/metrics", get(scrape))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(Scrape {
                handle: self.handle,
                flusher: self.flusher,
                verifier,
            });
        Ok(tokio::spawn(async move {
            let upkeep = async {
                let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
                loop {
                    ticks.tick().await;
                    flusher.flush();
                    upkeep.run_upkeep();
                }
            };
            tokio::select! {
                served = tollgate_http::serve(
                    self.listener,
                    router,
                    tollgate_http::ConnectionConfig {
                        max_connections: connections.max_connections.min(MAX_CONNECTIONS),
                        ..connections
                    },
                    std::future::pending(),
                ) => {
                    if let Err(error) = served {
                        tracing::error!(%error, "the metrics listener failed");
                    }
                }
                () = upkeep => {}
            }
        }))
    }
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    scrape.verifier.record_gauges();
    scrape.flusher.flush();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.handle.render(),
    )
}
