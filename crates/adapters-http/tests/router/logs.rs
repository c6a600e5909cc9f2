//! Logs never contain a token: not from the headers, the query string, the path or the body.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::StatusCode;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{Req, TestApp};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Every log line of this test binary from the first call on, at every level. A global
/// subscriber, because a thread-local one races with the callsite interest cache that tests on
/// other threads fill at the same time.
fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
        captured
    })
}

#[tokio::test]
async fn no_token_reaches_the_logs_wherever_the_caller_puts_it() {
    let captured = captured_logs();

    let app = TestApp::new().await;
    let (space, admin, client) = app.space_with_tokens("acme").await;
    let (revoked_id, revoked) = app.token(&admin, space, "client").await;
    app.send(Req::delete(&format!("/v1/spaces/{space}/tokens/{revoked_id}")).token(&admin))
        .await;

    let requests = [
        Req::get("/v1/whoami").token(&client),
        Req::get("/v1/whoami").bearer(&admin),
        Req::get("/v1/whoami").token(&revoked),
        Req::get("/v1/whoami").token(&format!("{client}x")),
        Req::get("/v1/whoami").token(&client).bearer(&admin),
        Req::get(&format!("/v1/whoami?token={client}")),
        Req::get(&format!("/v1/spaces?cursor={client}")).token(&admin),
        Req::get(&format!("/v1/{client}")).token(&admin),
        Req::get(&format!("/v1/spaces/{client}")).token(&admin),
        Req::post(&format!("/v1/spaces/{space}/tokens"))
            .token(&admin)
            .json(json!({ "name": "x", "level": client })),
        Req::post(&format!("/v1/spaces/{space}/tokens"))
            .token(&admin)
            .json(json!({ "name": "x", "level": "client", "expires_at": client })),
    ];
    for req in requests {
        let res = app.send(req).await;
        assert!(!res.status.is_server_error());
        assert!(!res.text().contains(&client), "{}", res.text());
    }
    let created = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens"))
                .token(&admin)
                .json(json!({ "name": "fresh", "level": "client" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let fresh = created.json()["token"].as_str().unwrap().to_owned();
    let fresh_id = created.uuid("id");
    let rotated = app
        .send(
            Req::post(&format!("/v1/spaces/{space}/tokens/{fresh_id}/rotate"))
                .token(&admin)
                .json(json!({ "grace_period_seconds": 60 })),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let replacement = rotated.json()["token"].as_str().unwrap().to_owned();
    for req in [
        Req::get("/v1/whoami").token(&fresh),
        Req::get("/v1/whoami").token(&replacement),
        Req::get(&format!("/v1/spaces/{space}/events")).token(&admin),
        Req::get(&format!("/v1/spaces/{space}/tokens?status=all")).token(&admin),
    ] {
        let res = app.send(req).await;
        assert!(res.status.is_success(), "{}", res.text());
        assert!(!res.text().contains(&fresh[26..]));
        assert!(!res.text().contains(&replacement[26..]));
    }
    // Failures until the address is blocked, then the valid tokens from it: 429s.
    for _ in 0..25 {
        app.send(Req::get("/v1/whoami").token(&format!("{client}x")))
            .await;
    }
    let res = app.send(Req::get("/v1/whoami").token(&client)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!res.text().contains(&client));

    let logs = captured.text();
    assert!(
        logs.contains("route=\"/v1/whoami\""),
        "the request spans were captured:\n{logs}"
    );
    assert!(
        logs.contains("token rejected"),
        "verification failures are logged:\n{logs}"
    );
    for secret in [&app.admin, &admin, &client, &revoked, &fresh, &replacement] {
        // The secret part (after the 4-character prefix and the 22-character id) never shows.
        assert!(
            !logs.contains(&secret[26..]),
            "a token leaked into the logs:\n{logs}"
        );
    }
    assert!(!logs.contains("$argon2"), "a hash leaked into the logs");
}
