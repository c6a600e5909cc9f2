//! What a client gets for a request hyper refuses before the router sees it, over a real
//! socket served by `tollgate_http::serve`: our problem+json answer with hyper's status, then a
//! closed connection; never a bare answer, never a 500, never a hang.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tollgate_http::{serve, ConnectionConfig};

/// Generous: it only bounds a test that would hang.
const PATIENCE: Duration = Duration::from_secs(30);

/// hyper's read buffer for a head: 8 KiB plus 100 times 4 KiB (its default `max_buf_size`).
const HYPER_MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;

/// Sends `request` to a fresh server and reads until the server closes the connection.
async fn exchange(request: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new().route("/ok", get(|| async { "ok" }));
    tokio::spawn(serve(
        listener,
        router,
        ConnectionConfig::default(),
        std::future::pending(),
    ));
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // Written while reading, so that a server that answers early never blocks the writer.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        let read = tokio::time::timeout(PATIENCE, reader.read(&mut buf))
            .await
            .expect("the server answers and closes the connection in time");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
    drop(writing.await.unwrap());
    String::from_utf8(received).expect("the answer is text")
}

/// Checks `answer` is exactly one problem+json answer with `status` and `code`, then a close.
fn assert_our_answer(answer: &str, status: u16, code: &str) {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {answer:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {status} ")),
        "{answer:?}"
    );
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(": ").unwrap();
            (name.to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("application/problem+json"));
    assert_eq!(
        header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(header("connection"), Some("close"));
    assert_eq!(header("cache-control"), Some("no-store"));
    assert!(
        header("date").is_some_and(|d| d.ends_with(" GMT")),
        "{answer:?}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(problem["status"], status, "{body}");
    assert_eq!(problem["code"], code, "{body}");
    assert_eq!(
        problem["type"],
        format!("https://tollgate.dev/problems/{code}")
    );
}

fn get_with_headers(headers: &str) -> Vec<u8> {
    format!("GET /ok HTTP/1.1\r\nHost: t\r\n{headers}\r\n").into_bytes()
}

#[tokio::test]
async fn more_than_100_headers_are_a_431_problem() {
    let headers: String = (0..100).map(|i| format!("x-h{i}: v\r\n")).collect();
    // 100 with Host: refused; 99 would be answered by the route.
    assert_our_answer(
        &exchange(get_with_headers(&headers)).await,
        431,
        "header_fields_too_large",
    );
}

#[tokio::test]
async fn a_head_larger_than_hypers_buffer_is_a_431_problem() {
    // Exactly the buffer, with no end of head: all of it is read, none left to reset the
    // connection before the answer arrives.
    let start = b"GET /ok HTTP/1.1\r\nHost: t\r\nx-big: ";
    let mut request = start.to_vec();
    request.resize(HYPER_MAX_HEAD_BYTES, b'a');
    assert_our_answer(&exchange(request).await, 431, "header_fields_too_large");
}

#[tokio::test]
async fn a_request_target_over_65534_bytes_is_a_414_problem() {
    let target = format!("/ok?{}", "a".repeat(65_535));
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes();
    assert_our_answer(&exchange(request).await, 414, "uri_too_long");
}

#[tokio::test]
async fn a_nul_or_a_bare_cr_in_a_header_is_a_400_problem() {
    for value in ["a\0b", "a\rb"] {
        let answer = exchange(get_with_headers(&format!("x-a: {value}\r\n"))).await;
        assert_our_answer(&answer, 400, "malformed_request");
    }
    let in_name = exchange(get_with_headers("x\0a: b\r\n")).await;
    assert_our_answer(&in_name, 400, "malformed_request");
}

#[tokio::test]
async fn a_malformed_request_line_is_a_400_problem_whatever_the_version() {
    for request in [
        &b"G@T /ok HTTP/1.1\r\nHost: t\r\n\r\n"[..],
        b"GET /ok HTTP/3.7\r\nHost: t\r\n\r\n",
        b"GET /ok HTTP/1.0\r\nx-a: a\0b\r\n\r\n",
    ] {
        let answer = exchange(request.to_vec()).await;
        assert_our_answer(&answer, 400, "malformed_request");
    }
}

#[tokio::test]
async fn a_bad_head_after_a_good_pipelined_request_leaves_the_first_answer_whole() {
    let request =
        b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nx-a: a\0b\r\n\r\n";
    let answer = exchange(request.to_vec()).await;
    let first_end = answer
        .find("\r\n\r\nok")
        .expect("the first request is answered")
        + 6;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert_our_answer(&answer[first_end..], 400, "malformed_request");
}

#[tokio::test]
async fn good_requests_are_answered_untouched() {
    let answer =
        exchange(b"GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec()).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer:?}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer:?}");
}

/// The protocol leaves no room for an answer: a client speaking HTTP/2 with prior knowledge
/// cannot read an HTTP/1.1 one, so the connection is closed, at once and with nothing sent.
#[tokio::test]
async fn an_http2_preface_is_closed_without_an_answer() {
    let answer = exchange(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()).await;
    assert_eq!(answer, "");
}
