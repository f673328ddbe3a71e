//! `RedisStore` against a real `redis-server`: the store protocol that every `DedupStore` passes
//! (`webhook_guard_test_support::store_protocol`), then what is Redis's own: what Redis holds after
//! each step, values it did not write, connection failures.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::Commands;
use support::{BeforeRequest, CountingProxy, RedisInspect as _, RedisServer};
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

/// On Redis 7.0 and later (the server the tests start): a free id and a completed one cost one
/// `SET ... NX GET` and no script; a held id that SET, then the claim script for the time left.
#[tokio::test]
async fn a_claim_is_one_set_nx_get_and_the_script_only_for_a_held_id() {
    let server = RedisServer::start();
    assert!(
        server.info_field("server", "redis_version").unwrap().split('.').next().unwrap().parse::<u32>().unwrap() >= 7
    );
    let store = RedisStore::connect(&server.url()).await.unwrap();
    assert!(format!("{store:?}").contains("SetNxGet"), "{store:?}");
    let counts = || (server.evalsha_calls(), server.calls("set"));
    let mut last = counts();
    let mut since = || {
        let now = counts();
        let sent = (now.0 - last.0, now.1 - last.1);
        last = now;
        sent
    };

    let token = acquire(&store, "k", LEASE).await;
    assert_eq!(since(), (0, 1), "(EVALSHA, SET) of a free id");
    let lease_left = retry_after(store.claim("k", LEASE).await.unwrap());
    assert!(lease_left > LEASE - Duration::from_secs(2) && lease_left <= LEASE, "{lease_left:?}");
    assert_eq!(since(), (1, 2), "(EVALSHA, SET) of a held id: the SET, then the script (which runs SET NX)");
    assert!(store.complete("k", &token, TTL).await.unwrap());
    assert_eq!(since(), (1, 1), "(EVALSHA, SET) of complete: the script, and the SET it runs");
    assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);
    assert_eq!(since(), (0, 1), "(EVALSHA, SET) of a completed id");
}

/// Over RESP3 (`?protocol=resp3`), where `INFO` answers a verbatim string and nil is RESP3's
/// null, the store reads the version all the same and claims with `SET ... NX GET`.
#[tokio::test]
async fn over_resp3_the_claim_is_the_same_set_nx_get() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&format!("{}?protocol=resp3", server.url())).await.unwrap();
    assert!(format!("{store:?}").contains("SetNxGet"), "{store:?}");
    let evalsha = server.evalsha_calls();
    let token = acquire(&store, "k", LEASE).await;
    assert_eq!(server.evalsha_calls(), evalsha, "the claim of a free id ran no script");
    assert!(matches!(store.claim("k", LEASE).await.unwrap(), Claim::InFlight { .. }));
    assert!(store.complete("k", &token, TTL).await.unwrap());
    assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);
}

/// The claim script decides again after the SET found the key held: the id's holder may release
/// or complete it, or its lease end, between the two round trips, and a bare `PTTL` would then
/// answer -2 or the completed id's ttl. A proxy lets the test play that holder between the SET and
/// the script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_after_a_held_set_answers_for_the_key_as_it_is_when_it_runs() {
    let server = RedisServer::start();
    // What the "holder" does before the proxy forwards the request it is told to watch.
    let (watch, action) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(None::<&'static str>)));
    let before: BeforeRequest = {
        let (url, watch, action) = (server.url(), Arc::clone(&watch), Arc::clone(&action));
        Arc::new(move |n| {
            if n != watch.load(Ordering::SeqCst) {
                return;
            }
            let mut redis = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
            match action.lock().unwrap().take() {
                Some("release") => redis.del::<_, ()>("held").unwrap(),
                Some("complete") => redis.pset_ex::<_, _, ()>("held", COMPLETED, 3_600_000).unwrap(),
                _ => {}
            }
        })
    };
    let proxy = CountingProxy::start_with(server.port(), before).await;
    let store = RedisStore::connect(&proxy.url()).await.unwrap();
    let mut redis = server.connection();
    let holder = "0123456789abcdef0123456789abcdef";

    for (what, expected) in [(None, "in flight"), (Some("release"), "acquired"), (Some("complete"), "completed")] {
        let () = redis.pset_ex("held", holder, 30_000).unwrap();
        // The claim's SET is the next request, the script the one after it.
        watch.store(proxy.requests() + 2, Ordering::SeqCst);
        *action.lock().unwrap() = what;
        let before = proxy.requests();
        let claim = store.claim("held", LEASE).await.unwrap();
        assert_eq!(proxy.requests() - before, 2, "{expected}: the SET, then the script");
        match (claim, expected) {
            (Claim::InFlight { retry_after }, "in flight") => {
                assert!(
                    retry_after > Duration::from_secs(28) && retry_after <= Duration::from_secs(30),
                    "{retry_after:?}"
                );
                assert_eq!(redis.get::<_, String>("held").unwrap(), holder);
            }
            (Claim::Acquired(token), "acquired") => {
                assert_eq!(redis.get::<_, String>("held").unwrap(), token.as_str());
                let pttl: i64 = redis.pttl("held").unwrap();
                assert!(pttl > 58_000, "the claim's lease: {pttl}");
            }
            (Claim::Completed, "completed") => assert_eq!(redis.get::<_, String>("held").unwrap(), COMPLETED),
            (claim, expected) => panic!("expected {expected}, got {claim:?}"),
        }
    }
}

/// A server whose script cache was emptied (`SCRIPT FLUSH`, as a restart does) answers `NOSCRIPT`
/// to each script's first EVALSHA: the store loads the script and runs it, on either claim path.
#[tokio::test]
async fn every_script_is_loaded_again_after_the_servers_script_cache_was_flushed() {
    let server = RedisServer::start();
    for store in [
        RedisStore::connect(&server.url()).await.unwrap(),
        RedisStore::builder().claim_by_script_as_before_redis_7().connect(&server.url()).await.unwrap(),
    ] {
        let mut redis = server.connection();
        let flush = || redis::cmd("SCRIPT").arg("FLUSH").exec(&mut server.connection()).unwrap();
        let (a, b) = (format!("a-{store:?}"), format!("b-{store:?}"));
        flush();
        let token = acquire(&store, &a, LEASE).await;
        flush();
        assert!(matches!(store.claim(&a, LEASE).await.unwrap(), Claim::InFlight { .. }), "the claim script");
        flush();
        assert!(store.complete(&a, &token, TTL).await.unwrap(), "the complete script");
        assert_eq!(redis.get::<_, String>(&a).unwrap(), COMPLETED);
        let token = acquire(&store, &b, LEASE).await;
        flush();
        assert!(store.release(&b, &token).await.unwrap(), "the release script");
        assert!(!redis.exists::<_, bool>(&b).unwrap());
    }
}

#[tokio::test]
async fn a_value_this_store_did_not_write_is_in_flight_or_an_error_never_acquired() {
    let server = RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut redis = server.connection();
    let () = redis.set("foreign", "someone else's value").unwrap();
    let lease = Duration::from_secs(7);
    assert_eq!(retry_after(store.claim("foreign", lease).await.unwrap()), lease, "no expiry: a whole lease");
    assert_eq!(redis.get::<_, String>("foreign").unwrap(), "someone else's value", "left as it was");
    let () = redis.pset_ex("expiring", "someone else's value", 20_000).unwrap();
    let left = retry_after(store.claim("expiring", lease).await.unwrap());
    assert!(left > Duration::from_secs(18) && left <= Duration::from_secs(20), "its own expiry: {left:?}");
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
