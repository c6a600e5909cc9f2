//! The binary's connection bounds (docs/operations.md, "Connections"): the timeouts and the
//! limit set by environment variables reach the server. The rules themselves are tested on
//! `tollgate_http::serve` in crates/adapters-http/tests/connections.rs.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::{spawn_app_with, Store, PATIENCE};

async fn connect(app: &crate::support::App) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Waits for the server to close `stream`, and says whether it sent anything first.
async fn closed(stream: &mut TcpStream) -> usize {
    let mut sent = 0;
    let mut buf = [0_u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("the server closes the connection in time")
        {
            Ok(0) | Err(_) => return sent,
            Ok(n) => sent += n,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_configured_header_timeout() {
    let app = spawn_app_with(
        Store::Memory,
        &[("TOLLGATE_HEADER_READ_TIMEOUT_SECONDS", "1")],
    )
    .await;
    let started = Instant::now();
    let mut silent = connect(&app).await;
    assert_eq!(closed(&mut silent).await, 0);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_configured_limit_leave_room_for_a_valid_request() {
    let app = spawn_app_with(Store::Memory, &[("TOLLGATE_MAX_CONNECTIONS", "8")]).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(connect(&app).await);
    }
    let answer = app.get("/v1/whoami", &app.admin).await;
    assert_eq!(answer.status, reqwest::StatusCode::OK);
    assert_eq!(
        closed(&mut idle[0]).await,
        0,
        "the oldest idle one made room"
    );
}
