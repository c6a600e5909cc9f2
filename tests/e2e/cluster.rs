//! Several nodes on one Postgres: a revocation on one node reaches the others' caches.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{spawn_app, spawn_app_with, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_node_a_is_rejected_by_node_b_within_a_second() {
    let a = spawn_app(Store::Postgres).await;
    let url = a
        .database_url()
        .expect("node A runs on Postgres")
        .to_owned();
    let b = spawn_app_with(Store::Memory, &[("DATABASE_URL", url.as_str())]).await;
    let space = a.create_space("shared").await;
    let (token_id, token) = a.create_token(&a.admin, &space, "client").await;
    // Node B verifies the token, so it is in B's cache.
    for _ in 0..3 {
        assert_eq!(b.get("/v1/whoami", &token).await.status, StatusCode::OK);
    }

    let revoked = a
        .delete(&format!("/v1/spaces/{space}/tokens/{token_id}"), &a.admin)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let at = Instant::now();
    assert_eq!(
        a.get("/v1/whoami", &token).await.status,
        StatusCode::UNAUTHORIZED,
        "node A: at once"
    );
    loop {
        let reply = b.get("/v1/whoami", &token).await;
        if reply.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            at.elapsed() < Duration::from_secs(1),
            "node B still accepts the token after {:?}",
            at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
