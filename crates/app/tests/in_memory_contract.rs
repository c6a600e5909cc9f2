//! The repository and transfer contract suites against the in-memory adapters.

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

/// The transfer contract suite against the in-memory store.
mod transfer {
    use std::sync::Arc;

    use tollgate_app::adapters::InMemoryStore;
    use tollgate_app::testing::contract::Repositories;
    use tollgate_app::testing::transfer::TransferStore;

    async fn fresh() -> TransferStore {
        let store = InMemoryStore::new();
        TransferStore {
            transfer: Arc::new(store.clone()),
            repositories: Repositories {
                spaces: store.spaces,
                tokens: store.tokens,
                events: store.events,
            },
        }
    }

    tollgate_app::transfer_contract_tests!(fresh);
}
