//! The verification hot path: parsing and checksumming a good and a junk token, a cached
//! verification, a cold one (store lookup and argon2id) at the token parameters and at OWASP's,
//! and argon2id's own cost (one hash, one verification) at each parameter set considered for
//! tokens (docs/security.md, "Hashing"; docs/performance.md).
//!
//! `cargo bench -p tollgate-app --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tollgate_app::adapters::{
    Argon2Hasher, Argon2Params, InMemoryStore, OsRandomSource, SequentialRandomSource, SystemClock,
};
use tollgate_app::ports::{RandomSource, SecretHasher};
use tollgate_app::{NewSpace, NewToken, SpaceService, TokenService, VerifyCacheConfig};
use tollgate_domain::{Actor, ParsedToken, SpaceName, TokenLevel, TokenName};

fn parse(c: &mut Criterion) {
    let good = "tgc_02xpJoYNrCxzBhoNyj9xqJ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg4Hg5Jn";
    let mut bad_checksum = good.to_owned();
    bad_checksum.replace_range(74..75, "x");
    let mut group = c.benchmark_group("parse");
    group.bench_function("good token", |b| {
        b.iter(|| ParsedToken::parse(black_box(good)).is_ok());
    });
    group.bench_function("junk: bad checksum", |b| {
        b.iter(|| ParsedToken::parse(black_box(&bad_checksum)).is_err());
    });
    group.bench_function("junk: wrong length", |b| {
        b.iter(|| ParsedToken::parse(black_box("Bearer nonsense")).is_err());
    });
    group.finish();
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    tokens: TokenService,
    presented: String,
}

fn fixture(cache: VerifyCacheConfig, hasher: Argon2Hasher) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = InMemoryStore::new();
    let (clock, random) = (Arc::new(SystemClock), Arc::new(OsRandomSource));
    let tokens = TokenService::new(
        store.spaces.clone(),
        store.tokens,
        store.events,
        Arc::new(hasher),
        clock.clone(),
        random.clone(),
    )
    .with_verify_cache(cache);
    let spaces = SpaceService::new(store.spaces, Arc::clone(tokens.verifier()), clock, random);
    let presented = runtime.block_on(async {
        let admin = Actor::for_token(
            tokens
                .ensure_instance_admin()
                .await
                .unwrap()
                .unwrap()
                .token(),
        );
        let space = spaces
            .create(
                &admin,
                NewSpace {
                    name: SpaceName::parse("bench").unwrap(),
                },
            )
            .await
            .unwrap();
        let cmd = NewToken {
            name: TokenName::parse("bench").unwrap(),
            level: TokenLevel::Client,
            expires_at: None,
        };
        tokens
            .create(&admin, space.id, cmd)
            .await
            .unwrap()
            .secret()
            .expose()
            .to_owned()
    });
    Fixture {
        runtime,
        tokens,
        presented,
    }
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    let cached = fixture(VerifyCacheConfig::default(), Argon2Hasher::for_tokens());
    cached
        .runtime
        .block_on(cached.tokens.verify(&cached.presented))
        .unwrap();
    group.bench_function("cached", |b| {
        b.to_async(&cached.runtime).iter(|| async {
            cached
                .tokens
                .verify(black_box(&cached.presented))
                .await
                .unwrap()
        });
    });
    group.bench_function("junk (no store, no hash)", |b| {
        b.to_async(&cached.runtime)
            .iter(|| async { cached.tokens.verify(black_box("tgc_junk")).await.is_err() });
    });

    for (name, hasher, samples) in [
        (
            "cold (store lookup + argon2id, tokens: m=64 KiB t=1 p=1)",
            Argon2Hasher::for_tokens(),
            100,
        ),
        (
            "cold (store lookup + argon2id, OWASP: m=19456 KiB t=2 p=1)",
            Argon2Hasher::owasp(),
            20,
        ),
    ] {
        let cold = fixture(VerifyCacheConfig::disabled(), hasher);
        group.sample_size(samples);
        group.bench_function(name, |b| {
            b.to_async(&cold.runtime).iter_batched(
                || (),
                |()| async {
                    cold.tokens
                        .verify(black_box(&cold.presented))
                        .await
                        .unwrap()
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// argon2id alone, on the calling thread's runtime: one hash (creation, re-hash) and one
/// verification (a cold use) of a 256-bit secret, for each parameter set considered.
fn hash(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret = SequentialRandomSource::new().secret();
    let mut group = c.benchmark_group("argon2id");
    for (name, params) in [
        (
            "m=8 KiB t=1 p=1 (argon2's minimum)",
            Argon2Params::INSECURE_FAST_FOR_TESTS,
        ),
        (
            "m=64 KiB t=1 p=1 (tokens, the default)",
            Argon2Params::TOKENS,
        ),
        (
            "m=256 KiB t=1 p=1",
            Argon2Params {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            },
        ),
        (
            "m=1024 KiB t=1 p=1",
            Argon2Params {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
        ),
        ("m=19456 KiB t=2 p=1 (OWASP)", Argon2Params::OWASP),
    ] {
        let hasher = Argon2Hasher::new(params).unwrap();
        let stored = runtime.block_on(hasher.hash(&secret)).unwrap();
        group.sample_size(if params == Argon2Params::OWASP {
            20
        } else {
            100
        });
        group.bench_function(format!("verify {name}"), |b| {
            b.to_async(&runtime).iter(|| async {
                assert!(hasher
                    .verify(black_box(&secret), black_box(&stored))
                    .await
                    .unwrap());
            });
        });
        group.bench_function(format!("hash {name}"), |b| {
            b.to_async(&runtime)
                .iter(|| async { hasher.hash(black_box(&secret)).await.unwrap() });
        });
    }
    group.finish();
}

criterion_group!(benches, parse, hash, verify);
criterion_main!(benches);
