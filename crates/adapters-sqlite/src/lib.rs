#![doc = include_str!("../README.md")]

mod audit;
mod changes;
mod error;
mod instance_tokens;
mod keys;
mod lock;
mod rows;
mod sessions;
mod spaces;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod transfer;

pub use changes::{SqliteChangeFeed, POLL_INTERVAL};
pub use error::{BackupError, MigrateError, OpenError};
pub use store::{SqliteOptions, SqliteStore, MIGRATOR};
