//! `RedisStore` against a real `redis-server`: each step of the protocol through the `DedupStore`
//! trait, and what Redis holds after it.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use redis::Commands;
use support::{RedisInspect as _, RedisServer};
use webhook_guard::{Claim, ClaimToken, DedupStore};
use webhook_guard_redis::{COMPLETED, DEFAULT_TIMEOUT, RedisStore};

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(3600);

async fn acquire(store: &RedisStore, key: &str, lease: Duration) -> ClaimToken {
    match store.claim(key, lease).await.unwrap() {
        Claim::Acquired(token) => token,
        other => panic!("{key}: expected Acquired, got {other:?}"),
    }
}

fn retry_after(claim: Claim) -> Duration {
    match claim {
        Claim::InFlight { retry_after } => retry_after,
        other => panic!("expected InFlight, got {other:?}"),
    }
}

#[tokio::test]
async fn claim_complete_then_a_duplicate_is_completed() {
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

    // Completing twice is refused (the token no longer holds the id), and so is releasing it.
    assert!(!store.complete("app:botdog:1", &token, TTL).await.unwrap());
    assert!(!store.release("app:botdog:1", &token).await.unwrap());
    assert_eq!(store.claim("app:botdog:1", LEASE).await.unwrap(), Claim::Completed);
}

#[tokio::test]
async fn an_id_in_flight_answers_the_time_left_on_its_lease() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let lease = Duration::from_secs(10);
    let _token = acquire(&store, "k", lease).await;
    let first = retry_after(store.claim("k", lease).await.unwrap());
    assert!(first <= lease && first > lease - Duration::from_millis(500), "{first:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = retry_after(store.claim("k", lease).await.unwrap());
    assert!(later <= first - Duration::from_millis(250), "the time left shrinks: {first:?} then {later:?}");
}

#[tokio::test]
async fn release_lets_the_next_claim_in_and_only_the_holder_can_release() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let first = acquire(&store, "k", LEASE).await;
    assert!(!store.release("k", &ClaimToken::random().unwrap()).await.unwrap(), "a stranger's token");
    assert!(store.release("k", &first).await.unwrap());
    assert!(!server.connection().exists::<_, bool>("k").unwrap(), "released: the key is gone");
    let second = acquire(&store, "k", LEASE).await;
    assert_ne!(first, second, "every claim has its own token");
    assert!(!store.release("k", &first).await.unwrap(), "released twice");
    assert!(matches!(store.claim("k", LEASE).await.unwrap(), Claim::InFlight { .. }));
}

#[tokio::test]
async fn an_expired_lease_lets_the_next_retry_in_and_the_stale_holder_can_neither_complete_nor_release() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let lease = Duration::from_millis(100);
    let stale = acquire(&store, "slow", lease).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let fresh = acquire(&store, "slow", LEASE).await;

    assert!(!store.complete("slow", &stale, TTL).await.unwrap(), "stale complete");
    assert!(!store.release("slow", &stale).await.unwrap(), "stale release");
    assert_eq!(server.connection().get::<_, String>("slow").unwrap(), fresh.as_str(), "the fresh claim holds");
    assert!(matches!(store.claim("slow", LEASE).await.unwrap(), Claim::InFlight { .. }));

    assert!(store.complete("slow", &fresh, TTL).await.unwrap());
    assert_eq!(store.claim("slow", LEASE).await.unwrap(), Claim::Completed);
    assert!(!store.release("slow", &stale).await.unwrap(), "a stale release cannot delete a completed id");
    assert_eq!(store.claim("slow", LEASE).await.unwrap(), Claim::Completed);
}

#[tokio::test]
async fn completed_ids_expire_after_their_ttl() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let token = acquire(&store, "k", LEASE).await;
    assert!(store.complete("k", &token, Duration::from_millis(200)).await.unwrap());
    assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _again = acquire(&store, "k", LEASE).await;
}

#[tokio::test]
async fn the_completed_marker_is_never_a_token_and_extreme_durations_are_clamped() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let token = acquire(&store, "k", LEASE).await;
    assert!(store.complete("k", &token, Duration::MAX).await.unwrap(), "a ttl past Redis's clock is clamped");
    // Tokens are 32 hex digits: none can be the completed marker, and no other token releases or
    // completes a completed id.
    assert!(token.as_str().len() == 32 && token.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(token.as_str(), COMPLETED);
    let other = ClaimToken::random().unwrap();
    assert!(!store.release("k", &other).await.unwrap());
    assert!(!store.complete("k", &other, TTL).await.unwrap());
    assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);

    // A lease of `Duration::MAX` is clamped too: the id is in flight, and its holder completes it.
    let token = acquire(&store, "max", Duration::MAX).await;
    assert!(matches!(store.claim("max", LEASE).await.unwrap(), Claim::InFlight { .. }));
    assert!(store.complete("max", &token, TTL).await.unwrap());

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
