//! `RedisStore` against a real `redis-server`: the store protocol that every `DedupStore` passes
//! (`webhook_guard_test_support::store_protocol`), then what is Redis's own: what Redis holds after
//! each step, values it did not write, connection failures.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use redis::Commands;
use support::{RedisInspect as _, RedisServer};
use webhook_guard::{Claim, DedupStore};
use webhook_guard_redis::{COMPLETED, DEFAULT_TIMEOUT, RedisStore};
use webhook_guard_test_support::store_protocol::acquire;

// A server of its own for each rule (the suite's keys would also share one).
webhook_guard_test_support::store_protocol_suite!(async {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    (store, server)
});

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(3600);

fn retry_after(claim: Claim) -> Duration {
    match claim {
        Claim::InFlight { retry_after } => retry_after,
        other => panic!("expected InFlight, got {other:?}"),
    }
}

#[tokio::test]
async fn redis_holds_the_token_in_flight_and_the_marker_for_the_ttl_once_completed() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    assert_eq!(store.timeout(), DEFAULT_TIMEOUT);

    let token = acquire(&store, "app:botdog:1", LEASE).await;
    assert_eq!(token.as_str().len(), 32);
    let mut redis = server.connection();
    assert_eq!(redis.get::<_, String>("app:botdog:1").unwrap(), token.as_str(), "in flight: the token");
    assert!(matches!(store.claim("app:botdog:1", LEASE).await.unwrap(), Claim::InFlight { .. }));

    assert!(store.complete("app:botdog:1", &token, TTL).await.unwrap());
    assert_eq!(store.claim("app:botdog:1", LEASE).await.unwrap(), Claim::Completed);
    assert_eq!(redis.get::<_, String>("app:botdog:1").unwrap(), COMPLETED);
    let pttl: i64 = redis.pttl("app:botdog:1").unwrap();
    assert!((3_590_000..=3_600_000).contains(&pttl), "completed ids are kept for the ttl: {pttl} ms");
}

#[tokio::test]
async fn a_released_claim_leaves_no_key_behind() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let token = acquire(&store, "k", LEASE).await;
    assert!(store.release("k", &token).await.unwrap());
    assert!(!server.connection().exists::<_, bool>("k").unwrap(), "released: the key is gone");
}

#[tokio::test]
async fn the_completed_marker_is_never_a_token_and_a_zero_lease_is_one_millisecond() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let token = acquire(&store, "k", LEASE).await;
    assert!(store.complete("k", &token, TTL).await.unwrap());
    // Tokens are 32 hex digits: none can be the completed marker, so no token releases or
    // completes a completed id.
    assert_ne!(token.as_str(), COMPLETED);
    let could_be_a_token = COMPLETED.len() == 32 && COMPLETED.bytes().all(|b| b.is_ascii_hexdigit());
    assert!(!could_be_a_token, "{COMPLETED}");

    // A zero lease is one millisecond (Redis refuses `PX 0`).
    let _token = acquire(&store, "zero", Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let _again = acquire(&store, "zero", LEASE).await;
}

#[tokio::test]
async fn a_value_this_store_did_not_write_is_in_flight_or_an_error_never_acquired() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut redis = server.connection();
    let () = redis.set("foreign", "someone else's value").unwrap();
    let lease = Duration::from_secs(7);
    assert_eq!(retry_after(store.claim("foreign", lease).await.unwrap()), lease, "no expiry: a whole lease");
    let () = redis.lpush("a-list", "x").unwrap();
    let error = store.claim("a-list", lease).await.unwrap_err();
    assert!(error.to_string().contains("a-list"), "{error}");
}

#[tokio::test]
async fn connecting_to_nothing_or_to_a_bad_url_is_a_store_error_within_the_timeout() {
    let mut server = RedisServer::start();
    let url = server.url();
    server.kill();
    let started = Instant::now();
    let error = RedisStore::builder().timeout(Duration::from_millis(300)).connect(&url).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(error.to_string().contains("redis"), "{error}");

    let error = RedisStore::connect("http://127.0.0.1:1/").await.unwrap_err();
    assert!(error.to_string().contains("redis"), "{error}");
    let secret_url = "redis://user:hunter2@127.0.0.1:1/";
    let error = RedisStore::builder().timeout(Duration::from_millis(200)).connect(secret_url).await.unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
