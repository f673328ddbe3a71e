//! The [`DedupStore`] protocol, checked the same way on every store: `MemoryStore`, the Redis
//! store, the SQL stores. Each rule is an async function over any store; the
//! [`store_protocol_suite!`](crate::store_protocol_suite!) macro makes one `#[tokio::test]` of
//! each, so a failure names the rule and the store's test file.
//!
//! The rules are what [`DedupStore`]'s docs promise: a claim acquires a free id under a fresh token,
//! holds it against other claims for its lease, and only that token completes or releases it;
//! an expired lease or ttl frees the id; durations up to `Duration::MAX` are clamped; any key
//! works; and concurrent claims of one id acquire it once.
//!
//! Each check uses keys of its own ([`unique_key`]: the rule's name, the process id and a counter), so the suite
//! can share one store, or one database, across its tests and with other tests. Its sleeps are a
//! few hundred milliseconds: the shortest a store over the network can measure reliably.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use webhook_guard::{Claim, ClaimToken, DedupStore, MAX_DURATION};

/// The lease of claims that must not expire during a check.
pub const LEASE: Duration = Duration::from_secs(60);
/// The ttl of completions that must not expire during a check.
pub const TTL: Duration = Duration::from_secs(3600);
/// The lease (or ttl) of the checks that wait for one to expire...
pub const SHORT: Duration = Duration::from_millis(300);
/// ...and how long they wait: twice as long, for the slack of a store's clock and a busy machine.
pub const PAST_SHORT: Duration = Duration::from_millis(600);

/// A key no other check, test or process uses: `store-protocol:{rule}:{pid}-{n}-{nanos}`.
pub fn unique_key(rule: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("store-protocol:{rule}:{}-{n}-{nanos}", std::process::id())
}

/// Claims `key` and expects it acquired.
pub async fn acquire<S: DedupStore>(store: &S, key: &str, lease: Duration) -> ClaimToken {
    match store.claim(key, lease).await.unwrap() {
        Claim::Acquired(token) => token,
        other => panic!("{key}: expected Acquired, got {other:?}"),
    }
}

/// Claims `key` and expects it in flight; the time left on the holder's lease.
pub async fn in_flight<S: DedupStore>(store: &S, key: &str) -> Duration {
    match store.claim(key, LEASE).await.unwrap() {
        Claim::InFlight { retry_after } => retry_after,
        other => panic!("{key}: expected InFlight, got {other:?}"),
    }
}

/// Claims `key` and expects it completed.
pub async fn completed<S: DedupStore>(store: &S, key: &str) {
    assert_eq!(store.claim(key, LEASE).await.unwrap(), Claim::Completed, "{key}");
}

/// A free id is acquired under a token of 32 lowercase hex digits.
pub async fn a_claim_acquires_a_free_id_with_a_fresh_token<S: DedupStore>(store: &S) {
    let key = unique_key("acquire");
    let token = acquire(store, &key, LEASE).await;
    let text = token.as_str();
    assert!(
        text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{key}: token {text:?} is not 32 lowercase hex digits"
    );
}

/// A second claim of an id in flight answers `InFlight` with the time left on the holder's lease:
/// more than zero, at most the lease, and shrinking.
pub async fn a_second_claim_is_in_flight_for_the_time_left<S: DedupStore>(store: &S) {
    let key = unique_key("in-flight");
    let lease = Duration::from_secs(10);
    let _token = acquire(store, &key, lease).await;
    let first = in_flight(store, &key).await;
    assert!(first > Duration::ZERO && first <= lease, "{key}: retry_after {first:?} for a lease of {lease:?}");
    assert!(first > lease - Duration::from_secs(2), "{key}: {first:?} left of a {lease:?} lease just claimed");
    tokio::time::sleep(SHORT).await;
    let later = in_flight(store, &key).await;
    assert!(
        later <= first.saturating_sub(SHORT - Duration::from_millis(100)),
        "{key}: the time left shrinks: {first:?}, then {later:?} after {SHORT:?}"
    );
}

/// The holder completes its claim; every later claim answers `Completed`.
pub async fn complete_makes_the_id_completed<S: DedupStore>(store: &S) {
    let key = unique_key("complete");
    let token = acquire(store, &key, LEASE).await;
    assert!(store.complete(&key, &token, TTL).await.unwrap(), "{key}: the holder's complete");
    completed(store, &key).await;
    completed(store, &key).await;
}

/// A completed id stays completed: completing it again or releasing it answers `false`.
pub async fn a_completed_id_can_be_neither_completed_again_nor_released<S: DedupStore>(store: &S) {
    let key = unique_key("complete-twice");
    let token = acquire(store, &key, LEASE).await;
    assert!(store.complete(&key, &token, TTL).await.unwrap(), "{key}");
    assert!(!store.complete(&key, &token, TTL).await.unwrap(), "{key}: completed twice");
    assert!(!store.release(&key, &token).await.unwrap(), "{key}: a completed id was released");
    completed(store, &key).await;
}

/// The holder releases its claim; the next claim acquires the id under a different token, and the
/// old token releases nothing.
pub async fn release_lets_the_next_claim_in_with_a_new_token<S: DedupStore>(store: &S) {
    let key = unique_key("release");
    let first = acquire(store, &key, LEASE).await;
    assert!(store.release(&key, &first).await.unwrap(), "{key}: the holder's release");
    let second = acquire(store, &key, LEASE).await;
    assert_ne!(first, second, "{key}: every claim has its own token");
    assert!(!store.release(&key, &first).await.unwrap(), "{key}: released twice, over a newer claim");
    assert!(!store.complete(&key, &first, TTL).await.unwrap(), "{key}: an old token completed a newer claim");
    in_flight(store, &key).await;
    assert!(store.complete(&key, &second, TTL).await.unwrap(), "{key}: the newer claim's holder");
}

/// A token that does not hold the id can neither complete nor release it, in flight or completed;
/// a token of another id neither.
pub async fn a_wrong_token_can_neither_complete_nor_release<S: DedupStore>(store: &S) {
    let key = unique_key("wrong-token");
    let other_key = unique_key("wrong-token-other");
    let token = acquire(store, &key, LEASE).await;
    let other_token = acquire(store, &other_key, LEASE).await;
    for wrong in [ClaimToken::random().unwrap(), other_token] {
        assert!(!store.complete(&key, &wrong, TTL).await.unwrap(), "{key}: completed with {wrong:?}");
        assert!(!store.release(&key, &wrong).await.unwrap(), "{key}: released with {wrong:?}");
    }
    in_flight(store, &key).await;
    assert!(store.complete(&key, &token, TTL).await.unwrap(), "{key}: the holder, after the wrong tokens");
    let wrong = ClaimToken::random().unwrap();
    assert!(!store.release(&key, &wrong).await.unwrap(), "{key}: a completed id released with {wrong:?}");
    assert!(!store.complete(&key, &wrong, TTL).await.unwrap(), "{key}: a completed id completed with {wrong:?}");
    completed(store, &key).await;
    in_flight(store, &other_key).await;
}

/// When a lease expires, the next claim acquires the id, and the stale holder can neither complete
/// nor release over the newer claim, nor release the id once the newer holder completed it.
pub async fn an_expired_lease_lets_the_next_claim_in_and_shuts_the_stale_holder_out<S: DedupStore>(store: &S) {
    let key = unique_key("expired-lease");
    let stale = acquire(store, &key, SHORT).await;
    tokio::time::sleep(PAST_SHORT).await;
    let fresh = acquire(store, &key, LEASE).await;
    assert_ne!(stale, fresh, "{key}");
    assert!(!store.complete(&key, &stale, TTL).await.unwrap(), "{key}: the stale holder completed over a newer claim");
    assert!(!store.release(&key, &stale).await.unwrap(), "{key}: the stale holder released a newer claim");
    in_flight(store, &key).await;
    assert!(store.complete(&key, &fresh, TTL).await.unwrap(), "{key}: the newer holder");
    assert!(!store.release(&key, &stale).await.unwrap(), "{key}: the stale holder released a completed id");
    completed(store, &key).await;
}

/// A holder whose lease expired can neither complete nor release, even when no newer claim came:
/// the id is free, and the next claim acquires it.
pub async fn an_expired_holder_cannot_complete_or_release_without_a_newer_claim<S: DedupStore>(store: &S) {
    let completes = unique_key("expired-complete");
    let releases = unique_key("expired-release");
    let stale_complete = acquire(store, &completes, SHORT).await;
    let stale_release = acquire(store, &releases, SHORT).await;
    tokio::time::sleep(PAST_SHORT).await;
    assert!(!store.complete(&completes, &stale_complete, TTL).await.unwrap(), "{completes}: completed after its lease");
    acquire(store, &completes, LEASE).await;
    assert!(!store.release(&releases, &stale_release).await.unwrap(), "{releases}: released after its lease");
    acquire(store, &releases, LEASE).await;
}

/// A completed id is kept for its ttl, then forgotten: the next claim acquires it.
pub async fn a_completed_id_expires_after_its_ttl<S: DedupStore>(store: &S) {
    let key = unique_key("ttl");
    let token = acquire(store, &key, LEASE).await;
    assert!(store.complete(&key, &token, SHORT).await.unwrap(), "{key}");
    completed(store, &key).await;
    tokio::time::sleep(PAST_SHORT).await;
    let again = acquire(store, &key, LEASE).await;
    assert_ne!(token, again, "{key}");
}

/// A lease or ttl of `Duration::MAX` is clamped (to [`MAX_DURATION`]), never an error or a panic.
pub async fn durations_up_to_duration_max_are_clamped<S: DedupStore>(store: &S) {
    let key = unique_key("max");
    let token = acquire(store, &key, Duration::MAX).await;
    let left = in_flight(store, &key).await;
    assert!(left > LEASE && left <= MAX_DURATION, "{key}: {left:?} left of a Duration::MAX lease");
    assert!(store.complete(&key, &token, Duration::MAX).await.unwrap(), "{key}: ttl Duration::MAX");
    assert_eq!(store.claim(&key, Duration::MAX).await.unwrap(), Claim::Completed, "{key}");

    let released = unique_key("max-release");
    let token = acquire(store, &released, Duration::MAX).await;
    assert!(store.release(&released, &token).await.unwrap(), "{released}");
    acquire(store, &released, Duration::MAX).await;
}

/// Any key works and is its own: 300+ bytes, `:` separators, non-ASCII text; keys that differ
/// only in case, by a suffix or in a trailing space are different ids.
pub async fn long_and_unusual_keys_are_distinct_ids<S: DedupStore>(store: &S) {
    let base = unique_key("keys");
    let keys = [
        format!("{base}:{}", "x".repeat(300)),
        format!("{base}:svix:msg_2aRr:übermittlung:配信:🦀"),
        format!("{base}:Case"),
        format!("{base}:case"),
        format!("{base}:case:"),
        format!("{base}:case "),
        format!("{base}:"),
        base.clone(),
    ];
    let mut tokens = Vec::new();
    for key in &keys {
        tokens.push(acquire(store, key, LEASE).await);
    }
    // Completing every other key leaves the rest in flight: no two keys share an entry.
    for (i, (key, token)) in keys.iter().zip(&tokens).enumerate() {
        if i % 2 == 0 {
            assert!(store.complete(key, token, TTL).await.unwrap(), "{key}");
        }
    }
    for (i, key) in keys.iter().enumerate() {
        if i % 2 == 0 {
            completed(store, key).await;
        } else {
            in_flight(store, key).await;
        }
    }
    for (key, token) in keys.iter().zip(&tokens).skip(1).step_by(2) {
        assert!(store.release(key, token).await.unwrap(), "{key}");
        acquire(store, key, LEASE).await;
    }
}

/// 32 concurrent claims of one id (tasks on a multi-thread runtime, released together), for 20
/// ids: exactly one acquires it, the others see it in flight.
pub async fn concurrent_claims_of_one_id_acquire_it_once<S: DedupStore>(store: Arc<S>) {
    const CLAIMS: usize = 32;
    for round in 0..20 {
        let key = Arc::new(unique_key(&format!("race-{round}")));
        let start = Arc::new(tokio::sync::Barrier::new(CLAIMS));
        let claims: Vec<_> = (0..CLAIMS)
            .map(|_| {
                let (store, key, start) = (Arc::clone(&store), Arc::clone(&key), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    store.claim(&key, LEASE).await.unwrap()
                })
            })
            .collect();
        let mut acquired = 0;
        for claim in claims {
            match claim.await.unwrap() {
                Claim::Acquired(_) => acquired += 1,
                Claim::InFlight { .. } => {}
                Claim::Completed => panic!("{key}: Completed, but nobody completed it"),
            }
        }
        assert_eq!(acquired, 1, "{key}: {acquired} of {CLAIMS} concurrent claims acquired it");
    }
}

/// The store protocol's rules as `#[tokio::test]`s (multi-thread runtime), in a module
/// `store_protocol_suite`, each run against a store from `$start`: an expression whose value,
/// awaited, is `(store, keep)` — the store under test and whatever must live as long as it (its
/// server; `()` when nothing). It is evaluated once per test, with the expanding module's items in
/// scope.
///
/// ```ignore
/// webhook_guard_test_support::store_protocol_suite!(async { (MemoryStore::default(), ()) });
/// ```
///
/// The expanding crate needs `tokio` (with `macros` and `rt-multi-thread`) among its
/// dependencies.
#[macro_export]
macro_rules! store_protocol_suite {
    (@tests $start:expr; $($rule:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $rule() {
                let (store, _keep) = $start.await;
                $crate::store_protocol::$rule(&store).await;
            }
        )*
    };
    ($start:expr) => {
        mod store_protocol_suite {
            #[allow(unused_imports)]
            use super::*;

            $crate::store_protocol_suite!(@tests $start;
                a_claim_acquires_a_free_id_with_a_fresh_token,
                a_second_claim_is_in_flight_for_the_time_left,
                complete_makes_the_id_completed,
                a_completed_id_can_be_neither_completed_again_nor_released,
                release_lets_the_next_claim_in_with_a_new_token,
                a_wrong_token_can_neither_complete_nor_release,
                an_expired_lease_lets_the_next_claim_in_and_shuts_the_stale_holder_out,
                an_expired_holder_cannot_complete_or_release_without_a_newer_claim,
                a_completed_id_expires_after_its_ttl,
                durations_up_to_duration_max_are_clamped,
                long_and_unusual_keys_are_distinct_ids,
            );

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_claims_of_one_id_acquire_it_once() {
                let (store, _keep) = $start.await;
                $crate::store_protocol::concurrent_claims_of_one_id_acquire_it_once(::std::sync::Arc::new(store))
                    .await;
            }
        }
    };
}
