//! `MemoryStore` on one core: claim + complete of a new id in a full store, the claim of a
//! duplicate, and the memory each remembered id costs.
//!
//! `cargo bench -p webhook-guard --bench dedup`

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::{Claim, ClaimToken, DedupStore, MemoryStore, StoreError};

const CAPACITY: u64 = 1_000_000;
const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(72 * 3600);

/// `MemoryStore`'s futures are ready on first poll: run them without a runtime, so the figures are
/// the store's own cost.
fn now<F: std::future::Future>(future: F) -> F::Output {
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("MemoryStore never waits"),
    }
}

fn claim(store: &MemoryStore, key: &str) -> Result<Claim, StoreError> {
    now(store.claim(key, LEASE))
}

fn complete(store: &MemoryStore, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
    now(store.complete(key, token, TTL))
}

/// A dedup key as `Dedup::key` builds it for a Botdog delivery.
fn key(n: usize) -> String {
    format!("webhook-guard:botdog:evt_01JD3K9Q8W2M4N6P{n:010}")
}

/// Claims and completes `keys` in order.
fn fill(store: &MemoryStore, keys: impl Iterator<Item = String>) {
    for key in keys {
        if let Claim::Acquired(token) = claim(store, &key).unwrap() {
            assert!(complete(store, &key, &token).unwrap());
        }
    }
}

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn claim_complete(c: &mut Criterion) {
    // Memory first, in a process that has allocated little yet: the resident growth from filling
    // an empty store with a million completed ids, keys included.
    let store = MemoryStore::new(CAPACITY);
    let before = resident_bytes();
    fill(&store, (0..CAPACITY as usize).map(key));
    let per_id = (resident_bytes() - before) as f64 / CAPACITY as f64;
    println!("memory_store/resident_bytes_per_completed_id: {per_id:.0} bytes (1,000,000 ids, keys of 52 bytes)");

    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(1));
    // The store stays full: every new id forgets the least recently completed one. Twice the
    // capacity of keys, so a key seen again was forgotten long ago and is new again.
    let keys: Vec<String> = (0..2 * CAPACITY as usize).map(|n| key(CAPACITY as usize + n)).collect();
    let mut next = 0usize;
    group.bench_function("claim_then_complete_new_id_in_a_full_store", |b| {
        b.iter(|| {
            let key = &keys[next % keys.len()];
            next += 1;
            match claim(&store, key).unwrap() {
                Claim::Acquired(token) => assert!(complete(&store, key, &token).unwrap()),
                other => panic!("{key} was not new: {other:?}"),
            }
        });
    });
    let key = "webhook-guard:botdog:dlv_duplicate";
    if let Claim::Acquired(token) = claim(&store, key).unwrap() {
        complete(&store, key, &token).unwrap();
    }
    group.bench_function("claim_duplicate_of_completed", |b| {
        b.iter(|| assert_eq!(claim(&store, key).unwrap(), Claim::Completed));
    });
    group.bench_function("claim_token", |b| b.iter(|| ClaimToken::random().unwrap()));
    group.finish();
}

criterion_group!(benches, claim_complete);
criterion_main!(benches);
