//! `RedisStore` against a real `redis-server` on loopback: claim + complete of a new id (two round
//! trips), and the claim of a duplicate (one), beside a bare `PING` round trip in the same run.
//!
//! `cargo bench -p webhook-guard-redis --bench store` (starts its own redis-server; install it with
//! `apt-get install -y redis-server` when missing)

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::{Claim, DedupStore};
use webhook_guard_redis::RedisStore;
use webhook_guard_test_support::redis_server::RedisServer;

fn claim_complete(c: &mut Criterion) {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = runtime.block_on(RedisStore::connect(&server.url())).unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut ping = runtime.block_on(client.get_multiplexed_async_connection()).unwrap();

    let mut group = c.benchmark_group("redis_store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ping_round_trip", |b| {
        b.iter(|| runtime.block_on(async { redis::cmd("PING").query_async::<String>(&mut ping).await.unwrap() }));
    });
    let mut next = 0u64;
    group.bench_function("claim_then_complete_new_id", |b| {
        b.iter(|| {
            next += 1;
            let key = format!("webhook-guard:botdog:evt_bench_{next:012}");
            runtime.block_on(async {
                match store.claim(&key, Duration::from_secs(60)).await.unwrap() {
                    Claim::Acquired(token) => {
                        assert!(store.complete(&key, &token, Duration::from_secs(3600)).await.unwrap());
                    }
                    other => panic!("{key} was not new: {other:?}"),
                }
            });
        });
    });
    let key = "webhook-guard:botdog:evt_bench_duplicate";
    runtime.block_on(async {
        if let Claim::Acquired(token) = store.claim(key, Duration::from_secs(60)).await.unwrap() {
            store.complete(key, &token, Duration::from_secs(3600)).await.unwrap();
        }
    });
    group.bench_function("claim_duplicate_of_completed", |b| {
        b.iter(|| {
            runtime.block_on(async {
                assert_eq!(store.claim(key, Duration::from_secs(60)).await.unwrap(), Claim::Completed);
            });
        });
    });
    group.finish();
}

criterion_group!(benches, claim_complete);
criterion_main!(benches);
