//! The repository contract suite against the in-memory adapters.

use tollgate_app::adapters::InMemoryStore;
use tollgate_app::testing::contract::Repositories;

async fn fresh() -> Repositories {
    let store = InMemoryStore::new();
    Repositories {
        spaces: store.spaces,
        tokens: store.tokens,
        events: store.events,
    }
}

tollgate_app::repository_contract_tests!(fresh);
