//! `RedisStore` claiming with the Lua script, as it does on servers older than Redis 7.0 (forced
//! here with the doc-hidden `claim_by_script_as_before_redis_7`, since the `redis-server` the tests
//! start is newer): the whole store protocol, and what that path sends. `tests/store.rs` checks the
//! same on the `SET ... NX GET` path that newer servers take.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use redis::Commands;
use support::{RedisInspect as _, RedisServer};
use webhook_guard::{Claim, DedupStore};
use webhook_guard_redis::RedisStore;
use webhook_guard_test_support::store_protocol::acquire;

async fn script_store(server: &RedisServer) -> RedisStore {
    RedisStore::builder().claim_by_script_as_before_redis_7().connect(&server.url()).await.unwrap()
}

webhook_guard_test_support::store_protocol_suite!(async {
    let server = RedisServer::start();
    let store = script_store(&server).await;
    (store, server)
});

const LEASE: Duration = Duration::from_secs(60);

/// The server's count of EVALSHA and of SET since the last call: what a claim sent.
struct Sent<'a> {
    server: &'a RedisServer,
    evalsha: u64,
    set: u64,
}

impl<'a> Sent<'a> {
    fn new(server: &'a RedisServer) -> Self {
        Self { server, evalsha: server.evalsha_calls(), set: server.calls("set") }
    }

    /// (EVALSHA, SET) since the last call. INFO commandstats counts the SETs a script runs too,
    /// each of them, whether or not it sets the key: the claim script's `SET NX` counts once per
    /// claim.
    fn since(&mut self) -> (u64, u64) {
        let (evalsha, set) = (self.server.evalsha_calls(), self.server.calls("set"));
        let sent = (evalsha - self.evalsha, set - self.set);
        (self.evalsha, self.set) = (evalsha, set);
        sent
    }
}

#[tokio::test]
async fn every_claim_is_one_evalsha_of_the_script() {
    let server = RedisServer::start();
    let store = script_store(&server).await;
    assert!(format!("{store:?}").contains("Script"), "{store:?}");
    let mut sent = Sent::new(&server);

    let token = acquire(&store, "k", LEASE).await;
    assert_eq!(sent.since(), (1, 1), "a free id: the script, which runs SET NX inside");
    assert!(matches!(store.claim("k", LEASE).await.unwrap(), Claim::InFlight { .. }));
    assert_eq!(sent.since(), (1, 1), "held: the script, whose SET NX sets nothing");
    assert!(store.complete("k", &token, Duration::from_secs(3600)).await.unwrap());
    assert_eq!(sent.since(), (1, 1), "complete: the script");
    assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);
    assert_eq!(sent.since(), (1, 1), "completed: the script");
}

#[tokio::test]
async fn a_value_this_store_did_not_write_is_in_flight_or_an_error_on_the_script_path_too() {
    let server = RedisServer::start();
    let store = script_store(&server).await;
    let mut redis = server.connection();
    let () = redis.set("foreign", "someone else's value").unwrap();
    let lease = Duration::from_secs(7);
    let Claim::InFlight { retry_after } = store.claim("foreign", lease).await.unwrap() else { panic!("not in flight") };
    assert_eq!(retry_after, lease, "no expiry: a whole lease");
    let () = redis.pset_ex("expiring", "someone else's value", 20_000).unwrap();
    let Claim::InFlight { retry_after } = store.claim("expiring", lease).await.unwrap() else {
        panic!("not in flight")
    };
    assert!(retry_after > Duration::from_secs(18) && retry_after <= Duration::from_secs(20), "{retry_after:?}");
    let () = redis.lpush("a-list", "x").unwrap();
    let error = store.claim("a-list", lease).await.unwrap_err();
    assert!(error.to_string().contains("a-list"), "{error}");
}
