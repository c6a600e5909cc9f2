//! The binary's connection bounds (docs/operations.md, "Connections"): the timeouts and the
//! limit set by environment variables reach the server, bad values refuse the start, and the
//! file-descriptor soft limit is raised to the hard limit. The rules themselves are tested on
//! `tollgate_http::serve` in crates/adapters-http/tests/connections.rs.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::{serve_refused, spawn_app_with, Store, PATIENCE};

async fn connect(app: &crate::support::App) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Waits for the server to close `stream` (EOF, or a reset), and returns how many bytes it
/// sent first.
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

/// Reads until a whole response to `GET /healthz` (a short, sized body) has arrived.
async fn response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|l| l.trim().parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                return text;
            }
        }
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        assert_ne!(n, 0, "closed before the response: {text}");
        received.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_without_a_complete_request_close_after_the_configured_timeouts_and_not_before()
{
    let header = Duration::from_secs(1);
    let idle = Duration::from_secs(2);
    let app = spawn_app_with(
        Store::Memory,
        &[
            ("TOLLGATE_HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("TOLLGATE_IDLE_TIMEOUT_SECONDS", "2"),
        ],
    )
    .await;
    // Each clock starts before anything the server's clock could start from, so an elapsed
    // time under the timeout is a close that came too early.
    let partial = async {
        let started = Instant::now();
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: te")
            .await
            .unwrap();
        let sent = closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let silent = async {
        let started = Instant::now();
        let mut stream = connect(&app).await;
        let sent = closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let keep_alive = async {
        let mut stream = connect(&app).await;
        // Before the request: the server's idle clock starts once it has answered.
        let started = Instant::now();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let answer = response(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let sent = closed(&mut stream).await;
        (started.elapsed(), sent)
    };
    let (partial, silent, keep_alive) = tokio::join!(partial, silent, keep_alive);
    for (what, (elapsed, sent), at_least) in [
        ("partial headers", partial, header),
        ("nothing sent", silent, header),
        ("idle keep-alive", keep_alive, idle),
    ] {
        assert!(
            elapsed >= at_least,
            "{what}: closed after {elapsed:?}, before {at_least:?}"
        );
        assert_eq!(sent, 0, "{what}: closed without an answer");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_over_the_configured_limit_leave_room_for_a_valid_request() {
    let app = spawn_app_with(Store::Memory, &[("TOLLGATE_MAX_CONNECTIONS", "8")]).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(connect(&app).await);
    }
    let answer = tokio::time::timeout(PATIENCE, app.get("/v1/whoami", &app.admin))
        .await
        .expect("answered within the deadline");
    assert_eq!(answer.status, reqwest::StatusCode::OK);
    assert_eq!(
        closed(&mut idle[0]).await,
        0,
        "the oldest idle one made room"
    );
}

#[test]
fn bad_connection_settings_refuse_the_start_naming_the_setting() {
    for (variable, value, named) in [
        ("TOLLGATE_MAX_CONNECTIONS", "0", "max-connections"),
        ("TOLLGATE_MAX_CONNECTIONS", "many", "max-connections"),
        (
            "TOLLGATE_HEADER_READ_TIMEOUT_SECONDS",
            "0",
            "header-read-timeout",
        ),
        ("TOLLGATE_IDLE_TIMEOUT_SECONDS", "86400", "idle-timeout"),
        ("TOLLGATE_RAISE_FD_LIMIT", "maybe", "raise-fd-limit"),
    ] {
        let stderr = serve_refused(&[(variable, value)]);
        assert!(stderr.contains(named), "{variable}={value}: {stderr}");
        assert!(stderr.contains(value), "{variable}={value}: {stderr}");
    }
}

/// The soft and hard `Max open files` of a process, from `/proc/PID/limits`.
#[cfg(target_os = "linux")]
fn open_files_limits(pid: u32) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_else(|| panic!("no open-files line: {limits}"));
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_descriptor_soft_limit_is_raised_to_the_hard_limit_at_start() {
    use rlimit::Resource;

    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    let lowered = (hard / 2).min(1024);
    assert!(
        lowered < hard,
        "a hard limit of {hard} leaves nothing to raise"
    );
    // The servers inherit the lowered soft limit; this process gets its own back at once.
    rlimit::setrlimit(Resource::NOFILE, lowered, hard).unwrap();
    let raised = spawn_app_with(Store::Memory, &[]).await;
    let kept = spawn_app_with(Store::Memory, &[("TOLLGATE_RAISE_FD_LIMIT", "false")]).await;
    rlimit::setrlimit(Resource::NOFILE, soft, hard).unwrap();

    assert_eq!(open_files_limits(raised.pid()), (hard, hard));
    assert_eq!(
        open_files_limits(kept.pid()),
        (lowered, hard),
        "TOLLGATE_RAISE_FD_LIMIT=false leaves the limit as inherited"
    );
    assert!(
        kept.logs().contains("TOLLGATE_MAX_CONNECTIONS lowered"),
        "10 000 connections do not fit in {lowered} descriptors: {}",
        kept.logs()
    );
}

/// Reads everything the server sends until it closes the connection.
async fn everything(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("the server closes the connection in time")
        {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// docs/api.md, "Answers from the HTTP layer": what hyper refuses before the router is still
/// answered by the binary as problem+json, then closed. Every case is pinned on
/// `tollgate_http::serve` in crates/adapters-http/tests/http_layer.rs.
#[tokio::test]
async fn heads_refused_before_the_api_get_a_problem_and_a_close() {
    let app = spawn_app_with(Store::Memory, &[]).await;
    let many: String = (0..100).map(|i| format!("x-h{i}: v\r\n")).collect();
    let cases = [
        (
            "GET /healthz HTTP/1.1\r\nHost: t\r\nx-a: a\0b\r\n\r\n".to_owned(),
            "400 Bad Request",
            "malformed_request",
        ),
        (
            format!(
                "GET /healthz?{} HTTP/1.1\r\nHost: t\r\n\r\n",
                "a".repeat(65_535)
            ),
            "414 URI Too Long",
            "uri_too_long",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nHost: t\r\n{many}\r\n"),
            "431 Request Header Fields Too Large",
            "header_fields_too_large",
        ),
    ];
    for (request, status, code) in cases {
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = everything(&mut stream).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}\r\n")),
            "{answer:?}"
        );
        assert!(
            answer.contains("\r\ncontent-type: application/problem+json\r\n"),
            "{answer:?}"
        );
        assert!(
            answer.contains(&format!("\"code\":\"{code}\"")),
            "{answer:?}"
        );
    }
}
