//! Chaos over real HTTP on Redis: two axum receivers, each with its own `RedisStore` connection to
//! one real `redis-server`, 10,000 events with racing duplicates sent to both, a handler failing
//! (500 or panic) 30 % of the time; every event is processed exactly once and acknowledged. The
//! run itself (`webhook_guard_test_support::chaos`) is shared with the `MemoryStore` run of
//! webhook-guard-axum (`tests/chaos.rs`).
#![allow(clippy::unwrap_used)]

mod support;

use redis::Commands;
use support::{RedisInspect as _, RedisServer};
use webhook_guard::Dedup;
use webhook_guard_redis::{COMPLETED, RedisStore};
use webhook_guard_test_support::chaos;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_over_two_receivers_sharing_one_redis_are_each_processed_once() {
    let server = RedisServer::start();
    let dedup = async || Dedup::new(RedisStore::connect(&server.url()).await.unwrap());
    chaos::run([dedup().await, dedup().await]).await;
    // Redis holds every id as completed: no claim was left behind.
    let keys: Vec<String> =
        (0..chaos::EVENTS).map(|event| format!("webhook-guard:botdog:{}", chaos::id(event))).collect();
    let values: Vec<Option<String>> = server.connection().mget(&keys).unwrap();
    assert!(values.iter().all(|value| value.as_deref() == Some(COMPLETED)));
}
