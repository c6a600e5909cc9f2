//! Export and import on SQLite: the app's transfer contract suite.

use std::sync::Arc;

use tollgate_app::testing::contract::Repositories;
use tollgate_app::testing::transfer::TransferStore;
use tollgate_sqlite::testing::TestFile;

async fn fresh() -> TransferStore {
    let store = TestFile::create().await.open().await;
    TransferStore {
        transfer: Arc::new(store.clone()),
        repositories: Repositories {
            spaces: Arc::new(store.clone()),
            tokens: Arc::new(store.clone()),
            events: Arc::new(store),
        },
    }
}

tollgate_app::transfer_contract_tests!(fresh);
