//! The console's router, driven with `oneshot` over the in-memory core: what each page answers,
//! the sessions, the CSRF and Origin checks, and the security headers. The real browser tests
//! are the root package's (`tests/e2e/console`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod pages;
mod security;
mod sessions;
