//! `MemoryStore` claim + complete per second on one core.
//!
//! `cargo bench -p webhook-guard --bench dedup`

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::MemoryStore;
use webhook_guard::dedup::Claim;

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
            match store.claim_now(key, Duration::from_secs(60)).unwrap() {
                Claim::Acquired(token) => {
                    store.complete_now(key, &token, Duration::from_secs(3600));
                }
                // A wrapped-around key is a duplicate: the cheaper path, also measured below.
                Claim::Completed | Claim::InFlight { .. } => {}
            }
        });
    });
    let key = "webhook-guard:botdog:dlv_duplicate";
    if let Claim::Acquired(token) = store.claim_now(key, Duration::from_secs(60)).unwrap() {
        store.complete_now(key, &token, Duration::from_secs(3600));
    }
    group.bench_function("claim_duplicate_of_completed", |b| {
        b.iter(|| assert_eq!(store.claim_now(key, Duration::from_secs(60)).unwrap(), Claim::Completed));
    });
    group.finish();
}

criterion_group!(benches, claim_complete);
criterion_main!(benches);
