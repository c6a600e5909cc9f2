#![doc = include_str!("../README.md")]

mod audit;
mod error;
mod instance_tokens;
mod keys;
mod revocations;
mod rows;
mod sessions;
mod spaces;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod transfer;
mod values;

#[cfg(all(test, feature = "testing"))]
mod query_plan_tests;

pub use error::{ConnectError, MigrateError};
pub use revocations::{PgRevocationFeed, REVOCATION_CHANNEL};
pub use store::{PgOptions, PgStore, MIGRATOR};
