//! The repository, session and transfer contract suites against the in-memory adapters.

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

/// The session contract suite against the in-memory store.
mod sessions {
    use tollgate_app::adapters::InMemoryStore;
    use tollgate_app::testing::contract::Repositories;
    use tollgate_app::testing::sessions::SessionStore;

    async fn fresh() -> SessionStore {
        let store = InMemoryStore::new();
        SessionStore {
            sessions: store.sessions,
            repositories: Repositories {
                spaces: store.spaces,
                tokens: store.tokens,
                events: store.events,
            },
        }
    }

    tollgate_app::session_contract_tests!(fresh);
}

/// The server-key contract suite against the in-memory store.
mod server_keys {
    use std::sync::Arc;

    use tollgate_app::adapters::InMemoryStore;
    use tollgate_app::ports::ServerKeyRepository;

    async fn fresh() -> Arc<dyn ServerKeyRepository> {
        InMemoryStore::new().keys
    }

    tollgate_app::server_key_contract_tests!(fresh);
}
