//! The answers hyper makes before a request reaches the router, made ours.
//!
//! When a request's head cannot be parsed, hyper answers it by itself and closes the
//! connection: 431 for more than 100 headers or a head larger than its read buffer (about
//! 400 KiB), 414 for a request target over 65 534 bytes, and 400 for any other malformed head
//! (a NUL, a bare CR or another forbidden byte in a header, a bad method, request line or
//! version). Its answer is a bare head with `content-length: 0`, and hyper offers no hook to
//! shape it. So the socket [`serve`](crate::serve) hands hyper recognises that exact head when
//! hyper writes it while no request is in progress, and sends in its place the problem+json
//! answer of [`ErrorCode::for_http_layer_status`], with the same status and `Date`. The tests
//! in `tests/http_layer.rs` send each such request over TCP and pin the answer, so a hyper
//! release that changes its head shows up as a failing test, not as a bare answer.

use axum::http::StatusCode;

use crate::error::{http_layer_problem, PROBLEM_JSON};

/// The statuses hyper answers a malformed head with, as it writes them.
const REJECTIONS: &[(StatusCode, &str)] = &[
    (StatusCode::BAD_REQUEST, "Bad Request"),
    (StatusCode::URI_TOO_LONG, "URI Too Long"),
    (
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Request Header Fields Too Large",
    ),
];

/// The length of an IMF-fixdate (`Thu, 03 Dec 2026 08:10:55 GMT`), as hyper writes `Date`.
const DATE_LEN: usize = 29;

/// Where hyper's own answer to a malformed head starts in `written`, which it ends, with the
/// status and the `Date` value: `None` when `written` does not end with such an answer.
///
/// The answer is the last thing hyper writes on the connection (it closes it), so it ends the
/// buffer; anything before it is the end of an earlier, pipelined response.
pub(crate) fn hyper_rejection(written: &[u8]) -> Option<(usize, StatusCode, &[u8])> {
    const END: &[u8] = b"\r\n\r\n";
    // Every write of a response passes here: one comparison decides for nearly all of them (a
    // body ends otherwise), before any head is built.
    if !written.ends_with(END) {
        return None;
    }
    for &(status, reason) in REJECTIONS {
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nconnection: close\r\ncontent-length: 0\r\ndate: ",
            status.as_u16()
        );
        let len = head.len() + DATE_LEN + END.len();
        let Some(start) = written.len().checked_sub(len) else {
            continue;
        };
        let answer = &written[start..];
        if answer.starts_with(head.as_bytes()) && answer.ends_with(END) {
            let date = &answer[head.len()..head.len() + DATE_LEN];
            if date.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                return Some((start, status, date));
            }
        }
    }
    None
}

/// The problem+json answer sent in place of hyper's, whole: head and body.
pub(crate) fn our_answer(status: StatusCode, date: &[u8]) -> Vec<u8> {
    let body = http_layer_problem(status);
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\ndate: ",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(date);
    answer.extend_from_slice(b"\r\n\r\n");
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DATE: &str = "Thu, 03 Dec 2026 08:10:55 GMT";

    fn hyper_head(status: u16, reason: &str) -> String {
        format!("HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n")
    }

    #[test]
    fn each_of_hypers_answers_is_recognised_with_its_status_and_date() {
        for (status, reason) in REJECTIONS {
            let head = hyper_head(status.as_u16(), reason);
            let (start, found, date) = hyper_rejection(head.as_bytes()).unwrap();
            assert_eq!((start, found, date), (0, *status, DATE.as_bytes()));
        }
    }

    #[test]
    fn an_answer_after_a_pipelined_response_is_found_where_it_starts() {
        let earlier = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let written = format!("{earlier}{}", hyper_head(400, "Bad Request"));
        let (start, status, _) = hyper_rejection(written.as_bytes()).unwrap();
        assert_eq!((start, status), (earlier.len(), StatusCode::BAD_REQUEST));
    }

    #[test]
    fn our_own_answers_and_other_bytes_are_left_alone() {
        let ours = our_answer(StatusCode::BAD_REQUEST, DATE.as_bytes());
        assert!(hyper_rejection(&ours).is_none());
        let with_body = format!("{}x", hyper_head(400, "Bad Request"));
        assert!(hyper_rejection(with_body.as_bytes()).is_none());
        let other_status = hyper_head(404, "Not Found");
        assert!(hyper_rejection(other_status.as_bytes()).is_none());
        assert!(hyper_rejection(b"").is_none());
    }

    #[test]
    fn our_answer_is_a_sized_problem_with_hypers_status_and_date() {
        let answer = String::from_utf8(our_answer(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            DATE.as_bytes(),
        ))
        .unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ncontent-type: application/problem+json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.contains(&format!("\r\ndate: {DATE}")));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 431);
        assert_eq!(problem["code"], "header_fields_too_large");
    }
}
