//! The app's repository contract suite, every case on a fresh file.

use std::sync::Arc;

use tollgate_app::testing::contract::Repositories;
use tollgate_sqlite::testing::TestFile;

async fn fresh() -> Repositories {
    // The store keeps its directory until the test drops it.
    let store = TestFile::create().await.open().await;
    Repositories {
        spaces: Arc::new(store.clone()),
        tokens: Arc::new(store.clone()),
        events: Arc::new(store),
    }
}

tollgate_app::repository_contract_tests!(fresh);

/// The server-key contract suite, each case on a fresh file.
mod server_keys {
    use std::sync::Arc;

    use tollgate_app::ports::ServerKeyRepository;
    use tollgate_sqlite::testing::TestFile;

    async fn fresh() -> Arc<dyn ServerKeyRepository> {
        Arc::new(TestFile::create().await.open().await)
    }

    tollgate_app::server_key_contract_tests!(fresh);
}
