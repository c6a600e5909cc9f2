//! The file itself: how it is opened, what a bad one answers, the single-server lock, backups.

use sqlx::{Connection, SqliteConnection};
use tollgate_app::ports::{AuditRepository, SpaceRepository, StoreHealth, TokenRepository};
use tollgate_app::testing::fixtures::{event, insert, space, space_id, token, token_id};
use tollgate_domain::{AuditAction, TokenLevel};
use tollgate_sqlite::testing::TestFile;
use tollgate_sqlite::{BackupError, OpenError, SqliteOptions, SqliteStore};

async fn raw(file: &TestFile) -> SqliteConnection {
    SqliteConnection::connect(&file.url()).await.unwrap()
}

#[tokio::test]
async fn a_missing_file_is_created_in_wal_mode_with_foreign_keys_on() {
    let file = TestFile::empty_dir();
    assert!(!file.path().exists());
    let store = file.open().await;
    store.migrate().await.unwrap();
    assert!(file.path().exists());
    store.check().await.unwrap();
    let mut connection = raw(&file).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // Foreign keys are on for the store's own connections: an event of an unknown space fails
    // (a token of one is not even tried: the store finds no living space).
    let stray = event(
        1,
        AuditAction::TokenRejected,
        &token(1, space_id(9), TokenLevel::Client),
    );
    let refused = AuditRepository::record(&store, &stray).await;
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("failed"), "{message}");
    assert!(!insert(&store, &token(1, space_id(9), TokenLevel::Client))
        .await
        .unwrap());
}

#[tokio::test]
async fn the_path_reads_back_absolute() {
    let file = TestFile::create().await;
    let store = file.open().await;
    assert!(store.path().is_absolute());
    assert_eq!(store.path(), file.path());
}

#[tokio::test]
async fn a_missing_directory_is_a_clear_error() {
    let file = TestFile::empty_dir();
    let path = file.dir().join("nowhere").join("tollgate.db");
    let error = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, OpenError::MissingDirectory(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("directory does not exist"), "{message}");
    assert!(message.contains("nowhere"), "{message}");
}

#[tokio::test]
async fn a_directory_that_cannot_be_written_is_a_clear_error() {
    // /proc exists and refuses new files even to root, who may write any ordinary directory.
    let error = SqliteStore::open(
        std::path::Path::new("/proc/tollgate.db"),
        SqliteOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, OpenError::NotWritable { .. }), "{error:?}");
    assert!(error.to_string().contains("not writable"), "{error}");
}

#[tokio::test]
async fn a_file_that_is_no_database_is_a_clear_error_and_is_left_as_it_was() {
    let file = TestFile::empty_dir();
    let garbage = b"this is not a database, it is a shopping list: eggs, milk\n".repeat(100);
    std::fs::write(file.path(), &garbage).unwrap();
    let error = SqliteStore::open(file.path(), SqliteOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, OpenError::NotADatabase { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not a SQLite database"),
        "{error}"
    );
    assert_eq!(std::fs::read(file.path()).unwrap(), garbage);
}

#[tokio::test]
async fn a_second_server_lock_on_one_file_is_refused_until_the_first_is_dropped() {
    let file = TestFile::create().await;
    let first = file.open().await.lock_for_serving().unwrap();
    let error = file.open().await.lock_for_serving().unwrap_err();
    assert!(
        matches!(error, OpenError::HeldByAnotherServer(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("Postgres"), "{message}");
    // A reader needs no lock.
    let reader = file.open().await;
    assert!(SpaceRepository::list(&reader, None, 10)
        .await
        .unwrap()
        .is_empty());
    // Clones share the lock; it goes with the last of them.
    let clone = first.clone();
    drop(first);
    assert!(file.open().await.lock_for_serving().is_err());
    drop(clone);
    file.open().await.lock_for_serving().unwrap();
}

#[tokio::test]
async fn a_backup_taken_while_the_store_serves_opens_as_a_store_with_everything_in_it() {
    let file = TestFile::create().await;
    let store = file.open().await.lock_for_serving().unwrap();
    SpaceRepository::insert(&store, &space(1)).await.unwrap();
    for n in 1..=20 {
        assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
            .await
            .unwrap());
    }
    let target = file.dir().join("backup.db");
    // Writes go on while the copy is taken; the copy holds a consistent moment.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 21..=60 {
                assert!(insert(&store, &token(n, space_id(1), TokenLevel::Client))
                    .await
                    .unwrap());
            }
        })
    };
    store.backup(&target).await.unwrap();
    writer.await.unwrap();

    let restored = SqliteStore::open(&target, SqliteOptions::default())
        .await
        .unwrap();
    restored.migrate().await.unwrap();
    assert_eq!(
        SpaceRepository::list(&restored, None, 10).await.unwrap(),
        vec![space(1)]
    );
    let mut found = 0;
    for n in 1..=60 {
        if let Some(copy) = TokenRepository::get(&restored, token_id(n)).await.unwrap() {
            let original = TokenRepository::get(&store, token_id(n)).await.unwrap();
            assert_eq!(Some(copy), original);
            found += 1;
        } else {
            // A consistent moment: every token before the first missing one is there.
            assert!(n > 20, "token {n} was stored before the backup began");
        }
    }
    assert!(found >= 20);

    let again = store.backup(&target).await.unwrap_err();
    assert!(matches!(again, BackupError::TargetExists(_)), "{again:?}");
}
