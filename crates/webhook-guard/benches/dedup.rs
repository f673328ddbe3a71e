//! `MemoryStore` claim + complete per second on one core.
//!
//! `cargo bench -p webhook-guard --bench dedup`

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::{Claim, ClaimToken, DedupStore, MemoryStore, StoreError};

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
    now(store.claim(key, Duration::from_secs(60)))
}

fn complete(store: &MemoryStore, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
    now(store.complete(key, token, Duration::from_secs(3600)))
}

fn claim_complete(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(1));
    let store = MemoryStore::new(1_000_000);
    let keys: Vec<String> = (0..1_000_000).map(|n| format!("webhook-guard:botdog:dlv_{n:08}")).collect();
    let mut next = 0usize;
    group.bench_function("claim_then_complete_new_id", |b| {
        b.iter(|| {
            let key = &keys[next % keys.len()];
            next += 1;
            match claim(&store, key).unwrap() {
                Claim::Acquired(token) => {
                    complete(&store, key, &token).unwrap();
                }
                // A wrapped-around key is a duplicate: the cheaper path, also measured below.
                Claim::Completed | Claim::InFlight { .. } => {}
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
    group.finish();
}

criterion_group!(benches, claim_complete);
criterion_main!(benches);
