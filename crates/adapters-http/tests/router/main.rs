//! The router tested in-process with `tower::ServiceExt::oneshot`, on the whole application core
//! wired on in-memory adapters (`tollgate_app::testing::TestCore`). Real-socket tests of the
//! binary live in the workspace's `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod act_as;
mod auth;
mod brute_force;
mod errors;
mod forward_auth;
mod fuzz;
mod instance_tokens;
mod introspect;
mod leak_reports;
mod lifecycle;
mod logs;
mod meta;
mod metrics;
mod openapi;
mod spaces;
mod support;
mod suspension;
mod tokens;
mod update;
