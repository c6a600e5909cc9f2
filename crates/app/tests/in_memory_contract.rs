//! The repository contract suite against the in-memory adapters.

use std::sync::Arc;

use tollgate_app::adapters::{InMemorySpaceRepository, InMemoryTokenRepository};
use tollgate_app::testing::contract::Repositories;

async fn fresh() -> Repositories {
    Repositories {
        spaces: Arc::new(InMemorySpaceRepository::new()),
        tokens: Arc::new(InMemoryTokenRepository::new()),
    }
}

tollgate_app::repository_contract_tests!(fresh);
