//! `tollgate_http::serve` on a real socket: connections that send no complete request close
//! after their timeouts, never before, and idle connections cannot keep a real client out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;
use tollgate_http::{serve, ConnectionConfig};

/// Generous: these tests wait for events, and this only bounds a test that would hang.
const PATIENCE: Duration = Duration::from_secs(30);

const REQUEST: &[u8] = b"GET /ok HTTP/1.1\r\nHost: test\r\n\r\n";

struct Server {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(router: Router, config: ConnectionConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve(listener, router, config, async {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop: Some(stop),
            served,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        tokio::time::timeout(PATIENCE, &mut self.served)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

fn ok_router() -> Router {
    Router::new().route("/ok", get(|| async { "ok" }))
}

/// Reads until the server closes the connection; what it sent before, as text.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("the server closes the connection in time");
        match read {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one whole response (this router's bodies are short and sized).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    while !String::from_utf8_lossy(&received).ends_with("ok") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        assert_ne!(n, 0, "closed before the response");
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn connections_without_a_complete_request_close_after_their_timeouts_and_not_before() {
    let config = ConnectionConfig {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        max_connections: 100,
    };
    let server = Server::start(ok_router(), config).await;

    // Each clock starts before anything the server's clock could start from.
    let partial = async {
        let started = Instant::now();
        let mut stream = server.connect().await;
        stream
            .write_all(b"GET /ok HTTP/1.1\r\nHost: te")
            .await
            .unwrap();
        let sent = read_until_closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let silent = async {
        let started = Instant::now();
        let mut stream = server.connect().await;
        let sent = read_until_closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let idle = async {
        let mut stream = server.connect().await;
        let started = Instant::now();
        stream.write_all(REQUEST).await.unwrap();
        let first = read_response(&mut stream).await;
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        let sent = read_until_closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let (partial, silent, idle) = tokio::join!(partial, silent, idle);

    for (what, (elapsed, sent), at_least) in [
        ("partial headers", partial, config.header_read_timeout),
        ("nothing sent", silent, config.header_read_timeout),
        ("idle keep-alive", idle, config.idle_timeout),
    ] {
        assert!(
            elapsed >= at_least,
            "{what}: closed after {elapsed:?}, before {at_least:?}"
        );
        assert_eq!(sent, "", "{what}: nothing more is answered");
    }
    server.stop().await;
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_do_not_keep_a_real_client_out() {
    let config = ConnectionConfig {
        // Long enough that only the limit can close anything during the test.
        header_read_timeout: Duration::from_secs(600),
        idle_timeout: Duration::from_secs(600),
        max_connections: 16,
    };
    let server = Server::start(ok_router(), config).await;
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(server.connect().await);
    }
    let mut client = server.connect().await;
    client.write_all(REQUEST).await.unwrap();
    let answer = read_response(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The first idle connections were the ones closed to make room.
    assert_eq!(read_until_closed(&mut idle[0]).await, "");
    server.stop().await;
}

#[tokio::test]
async fn a_request_in_progress_is_never_closed_to_make_room() {
    let release = Arc::new(Notify::new());
    let entered = Arc::new(Notify::new());
    let router = {
        let (release, entered) = (Arc::clone(&release), Arc::clone(&entered));
        Router::new().route(
            "/ok",
            get(move || async move {
                entered.notify_one();
                release.notified().await;
                "ok"
            }),
        )
    };
    let config = ConnectionConfig {
        max_connections: 1,
        ..ConnectionConfig::default()
    };
    let server = Server::start(router, config).await;
    let mut busy = server.connect().await;
    busy.write_all(REQUEST).await.unwrap();
    tokio::time::timeout(PATIENCE, entered.notified())
        .await
        .expect("the request reaches its handler");

    let mut late = server.connect().await;
    late.write_all(REQUEST).await.unwrap();
    assert_eq!(
        read_until_closed(&mut late).await,
        "",
        "the newcomer is refused"
    );

    release.notify_one();
    let answer = read_response(&mut busy).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}
