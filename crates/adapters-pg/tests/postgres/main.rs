//! The Postgres adapter against a real Postgres, each test on a fresh database
//! (`tollgate_pg::testing::TestDatabase`). Needs a running server: see the crate README.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod connect;
mod constraints;
mod contract;
mod corrupt_rows;
mod last_used;
mod revocations;
mod rotation;
mod sessions;
mod timestamps;
mod transfer;
mod unavailable;
mod unprepared_listing;
mod visible_names;
