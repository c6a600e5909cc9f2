//! The router counts and times its own requests when its configuration names request metrics:
//! by route pattern, whatever layer of the stack answered.

use std::time::Duration;

use axum::http::StatusCode;
use tollgate_app::telemetry::{
    HttpRequestMetrics, HTTP_REQUESTS, HTTP_REQUEST_DURATION, UNMATCHED_ROUTE,
};
use tollgate_app::testing::metrics::Recorded;
use tollgate_http::HttpConfig;

use crate::support::{router_with_stalled_hashes, send, Req};

fn counted(recorded: &Recorded, route: &str, method: &str, status: &str) -> u64 {
    recorded.counter(
        HTTP_REQUESTS,
        &[("route", route), ("method", method), ("status", status)],
    )
}

/// A router whose verifications never end, so that a request with a token is answered by the
/// timeout layer; and an instance admin token for it.
async fn router_with_metrics(metrics: Option<HttpRequestMetrics>) -> (axum::Router, String) {
    let config = HttpConfig {
        request_metrics: metrics,
        ..HttpConfig::default().with_request_timeout(Duration::from_millis(50))
    };
    let (router, admin, _) = router_with_stalled_hashes(config).await;
    (router, admin)
}

#[test]
fn the_router_counts_each_request_by_route_pattern_whatever_layer_answered_it() {
    let recorded = Recorded::new();
    recorded.block_on(async {
        let (router, admin) = router_with_metrics(Some(HttpRequestMetrics::new())).await;
        let status = |req| {
            let router = router.clone();
            async move { send(&router, req).await.status }
        };
        assert_eq!(status(Req::get("/healthz")).await, StatusCode::OK);
        assert_eq!(
            status(Req::get("/v1/whoami")).await,
            StatusCode::UNAUTHORIZED
        );
        // Answered by the timeout layer, below the one that counts.
        assert_eq!(
            status(Req::get("/v1/whoami").token(&admin)).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let space = "/v1/spaces/0190a5c2-7d3e-7b1a-9c4f-2e8d6a1b3c5d/tokens";
        assert_eq!(status(Req::get(space)).await, StatusCode::UNAUTHORIZED);
        assert_eq!(
            status(Req::get("/tgc_notatoken/192.0.2.1")).await,
            StatusCode::NOT_FOUND
        );
    });
    assert_eq!(counted(&recorded, "/healthz", "GET", "200"), 1);
    assert_eq!(counted(&recorded, "/v1/whoami", "GET", "401"), 1);
    assert_eq!(counted(&recorded, "/v1/whoami", "GET", "503"), 1);
    assert_eq!(
        counted(&recorded, "/v1/spaces/{space_id}/tokens", "GET", "401"),
        1
    );
    assert_eq!(counted(&recorded, UNMATCHED_ROUTE, "GET", "404"), 1);
    let timed = recorded.histogram(
        HTTP_REQUEST_DURATION,
        &[("route", "/v1/whoami"), ("method", "GET")],
    );
    assert_eq!(timed.len(), 2);
    assert!(timed.iter().any(|took| *took >= 0.05), "{timed:?}");
}

#[test]
fn a_router_without_request_metrics_counts_nothing() {
    let recorded = Recorded::new();
    recorded.block_on(async {
        let (router, _) = router_with_metrics(None).await;
        assert_eq!(
            send(&router, Req::get("/healthz")).await.status,
            StatusCode::OK
        );
    });
    let names: Vec<String> = recorded.keys().into_iter().map(|(name, _)| name).collect();
    assert!(
        !names
            .iter()
            .any(|name| name == HTTP_REQUESTS || name == HTTP_REQUEST_DURATION),
        "{names:?}"
    );
}
