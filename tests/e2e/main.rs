//! End-to-end tests: the real `tollgate` binary over real HTTP, each scenario run against the
//! in-memory store and against a fresh Postgres database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod bad_input;
mod brute_force;
mod cli;
mod cluster;
mod lifecycle;
mod outage;
mod persistence;
mod secrets;
mod story;
