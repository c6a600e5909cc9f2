//! tollgate-sqlite against real SQLite files, each test in a temporary directory of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod changes;
mod contract;
mod files;
mod schema;
mod sessions;
mod transfer;
mod visible_names;
