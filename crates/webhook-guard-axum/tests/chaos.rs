//! Chaos over real HTTP with a `MemoryStore` shared by two axum receivers in one process: 10,000
//! events, racing duplicates, a handler failing (500 or panic) 30 % of the time; every event is processed exactly
//! once and acknowledged (see `webhook_guard_test_support::chaos`). The same run on Redis is in
//! `webhook-guard-redis/tests/http_chaos.rs`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use webhook_guard::{Claim, Dedup, DedupStore, MemoryStore};
use webhook_guard_test_support::chaos;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_over_two_receivers_sharing_a_memory_store_are_each_processed_once() {
    let store = Arc::new(MemoryStore::default());
    let dedup = || Dedup::from_arc(Arc::clone(&store));
    chaos::run([dedup(), dedup()]).await;
    // Every id is held as completed: no claim was left behind.
    for event in 0..chaos::EVENTS {
        let key = dedup().key("botdog", &chaos::id(event));
        assert_eq!(store.claim(&key, Duration::from_secs(60)).await, Ok(Claim::Completed), "{key}");
    }
    assert_eq!(store.evicted_live(), 0);
}
