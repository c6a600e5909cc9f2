//! Cold verifications per second on one node, in process (issue 16, item 2): `TOKENS` distinct
//! tokens on the in-memory store, then a new token service over the same store (as after a
//! restart: nothing cached), and every token verified once by `CLIENTS` concurrent tasks, through
//! the whole verifier (lanes, argon2 permits on the lowest-priority threads, the cache filling).
//! Prints the rate and the p50 and p99 of one verification. The in-memory store leaves the
//! verifier's own cost: what the HTTP layer and a database add is in `scripts/bench-load`'s
//! cold-start row.
//!
//! `cargo bench -p tollgate-app --bench cold_start -- [TOKENS] [CLIENTS] [tokens|owasp]`
//! (10 000, 200 and tokens by default).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tollgate_app::adapters::{Argon2Hasher, InMemoryStore, OsRandomSource, SystemClock};
use tollgate_app::{NewSpace, NewToken, SpaceService, TokenService};
use tollgate_domain::{Actor, SpaceName, TokenLevel, TokenName};

fn main() {
    // `cargo bench` adds `--bench`; everything else positional is ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let tokens: usize = args.first().map_or(10_000, |a| a.parse().unwrap());
    let clients: usize = args.get(1).map_or(200, |a| a.parse().unwrap());
    let preset = args.get(2).map_or("tokens", String::as_str);
    let hasher = || match preset {
        "owasp" => Argon2Hasher::owasp(),
        _ => Argon2Hasher::for_tokens(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = InMemoryStore::new();
    let (clock, random) = (Arc::new(SystemClock), Arc::new(OsRandomSource));
    let node = || {
        TokenService::new(
            store.spaces.clone(),
            store.tokens.clone(),
            store.events.clone(),
            Arc::new(hasher()),
            clock.clone(),
            random.clone(),
        )
    };
    let before = node();
    let (strings, created) = runtime.block_on(async {
        let admin = Actor::for_token(
            before
                .ensure_instance_admin()
                .await
                .unwrap()
                .unwrap()
                .token(),
        );
        let space = SpaceService::new(
            store.spaces.clone(),
            Arc::clone(before.verifier()),
            clock.clone(),
            random.clone(),
        )
        .create(
            &admin,
            NewSpace {
                name: SpaceName::parse("cold").unwrap(),
            },
        )
        .await
        .unwrap();
        let started = Instant::now();
        let mut strings = Vec::with_capacity(tokens);
        for n in 0..tokens {
            let cmd = NewToken {
                name: TokenName::parse(&format!("cold {n}")).unwrap(),
                level: TokenLevel::Client,
                expires_at: None,
            };
            let issued = before.create(&admin, space.id, cmd).await.unwrap();
            strings.push(issued.secret().expose().to_owned());
        }
        (strings, started.elapsed())
    });
    drop(before);

    let after = Arc::new(node());
    let permits = Arc::new(Semaphore::new(clients));
    let (elapsed, mut latencies) = runtime.block_on(async {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for string in strings {
            let (after, permits) = (Arc::clone(&after), Arc::clone(&permits));
            tasks.spawn(async move {
                let _client = permits.acquire_owned().await.unwrap();
                let sent = Instant::now();
                after.verify(&string).await.unwrap();
                sent.elapsed()
            });
        }
        let mut latencies = Vec::with_capacity(tokens);
        while let Some(done) = tasks.join_next().await {
            latencies.push(done.unwrap());
        }
        (started.elapsed(), latencies)
    });
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "cold_start ({preset}): created {tokens} tokens in {:.2} s ({:.0}/s); verified each once \
         cold, {clients} at a time, in {:.2} s: {:.0} cold verifications/s; p50 {:.2} ms, p99 \
         {:.2} ms ({} cores)",
        created.as_secs_f64(),
        f64::from(u32::try_from(tokens).unwrap()) / created.as_secs_f64(),
        elapsed.as_secs_f64(),
        f64::from(u32::try_from(tokens).unwrap()) / elapsed.as_secs_f64(),
        ms(pct(50)),
        ms(pct(99)),
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    );
}
