//! The app's repository contract suite, every case on a fresh database.

use std::sync::Arc;

use tollgate_app::testing::contract::Repositories;
use tollgate_pg::testing::TestDatabase;

async fn fresh() -> Repositories {
    // The store keeps its database alive until the test drops it. One store is all three
    // repositories: the token repository records its events where the audit repository reads.
    let store = TestDatabase::create().await.store();
    Repositories {
        spaces: Arc::new(store.clone()),
        tokens: Arc::new(store.clone()),
        events: Arc::new(store),
    }
}

tollgate_app::repository_contract_tests!(fresh);

/// The server-key contract suite, each case on a fresh database.
mod server_keys {
    use std::sync::Arc;

    use tollgate_app::ports::ServerKeyRepository;
    use tollgate_pg::testing::TestDatabase;

    async fn fresh() -> Arc<dyn ServerKeyRepository> {
        Arc::new(TestDatabase::create().await.store())
    }

    tollgate_app::server_key_contract_tests!(fresh);
}
