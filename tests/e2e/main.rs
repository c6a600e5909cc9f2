//! End-to-end tests: the real `tollgate` binary over real HTTP. Each scenario is written once,
//! as an `async fn(Store)`, and run on every store it applies to by `on_every_store!` (in
//! memory, a fresh SQLite file in a temporary directory, a fresh Postgres database) or
//! `on_lasting_stores!` (SQLite and Postgres).
//!
//! The scenarios that do not run on every store, and why:
//! - on SQLite and Postgres only, because the in-memory store keeps nothing across a restart:
//!   `persistence::a_restart_keeps_...`, `persistence::a_token_answered_201_verifies_after_kill_9...`,
//!   `cli::a_first_start_without_bootstrap_token_prints_one_instance_admin_token_once`;
//! - on Postgres only, because several nodes share one database only there (a second server
//!   on a SQLite file is refused, as `persistence::a_second_server_on_one_file_is_refused...`
//!   checks): `cluster::*`, `update::an_expiry_shortened_on_node_a_holds_on_node_b`,
//!   `instance_tokens::instance_tokens_revoked_on_node_a_are_rejected_by_node_b`;
//! - on Postgres only, because only a database server can go away under a running tollgate
//!   (a SQLite file is opened in-process): `outage::*`;
//! - on SQLite only, because they test what only a file has (the default `./tollgate.db`, the
//!   single-server lock, changes by another process, `tollgate backup`, bad files), and
//!   `secrets::no_byte_of_the_sqlite_files_holds_...` reads the files; its Postgres
//!   counterpart `secrets::no_table_of_the_database_holds_...` reads the tables;
//! - in memory only: `persistence::the_in_memory_store_says_that_nothing_is_kept`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod bad_input;
mod brute_force;
mod cli;
mod cluster;
mod connections;
mod console;
mod console_client;
mod gateways;
mod generated_clients;
mod instance_tokens;
mod leak_reports;
mod lifecycle;
mod metrics;
mod operator;
mod outage;
mod persistence;
mod platform;
mod readme;
mod secrets;
mod spaces;
mod story;
mod suspension;
mod transfer;
mod trusted_proxies;
mod update;
