//! The verification hot path: parsing and checksumming a good and a junk token, a cached
//! verification, and a cold one (store lookup and argon2id at OWASP parameters).
//!
//! `cargo bench -p tollgate-app --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tollgate_app::adapters::{Argon2Hasher, InMemoryStore, OsRandomSource, SystemClock};
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

fn fixture(cache: VerifyCacheConfig) -> Fixture {
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
        Arc::new(Argon2Hasher::owasp()),
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
    let cached = fixture(VerifyCacheConfig::default());
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

    let cold = fixture(VerifyCacheConfig::disabled());
    group.sample_size(20);
    group.bench_function("cold (store lookup + argon2id, OWASP)", |b| {
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
    group.finish();
}

criterion_group!(benches, parse, verify);
criterion_main!(benches);
