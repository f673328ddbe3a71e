//! The dedup protocol through `Guard`, with `MemoryStore`: what every adapter relies on.
#![allow(clippy::unwrap_used)]

use http_body_util::Full;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::StatusCode;
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{Claim, ClaimToken, Dedup, DedupStore, Guard, MemoryStore, OnStoreError, StoreError};
use webhook_guard::{ConfigError, RejectionKind, Verifier};
use webhook_guard_test_support::UnreachableStore;

const SECRET: &str = "dedup-test-secret";

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

fn guard(dedup: Dedup) -> Guard<Botdog> {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    Guard::new(verifier).with_dedup(dedup).unwrap()
}

/// Headers and body of a signed Botdog delivery with id `id`.
fn delivery(id: &str) -> (Vec<(String, String)>, Bytes) {
    let body = format!(r#"{{"id":"{id}","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}}"#);
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
    (signer.sign_delivery(body.as_bytes(), now(), "", None).headers, Bytes::from(body))
}

async fn admit_status(guard: &Guard<Botdog>, id: &str) -> Result<Option<webhook_guard::ClaimHandle>, RejectionKind> {
    let (headers, body) = delivery(id);
    match guard.admit_body(&headers, Full::new(body)).await {
        Ok(admitted) => Ok(admitted.claim),
        Err(rejection) => Err(rejection.kind()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_simultaneous_deliveries_call_the_handler_once_over_a_thousand_trials() {
    let guard = guard(Dedup::new(MemoryStore::default()));
    for trial in 0..1_000 {
        let id = format!("race_{trial}");
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (guard, id, calls) = (guard.clone(), id.clone(), Arc::clone(&calls));
                tokio::spawn(async move {
                    match admit_status(&guard, &id).await {
                        Ok(claim) => {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            claim.expect("dedup is on").finish(StatusCode::OK).await;
                            StatusCode::OK
                        }
                        Err(kind) => kind.status(),
                    }
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "trial {trial}: handler calls");
        let others = statuses.iter().filter(|s| **s == StatusCode::OK || **s == StatusCode::CONFLICT).count();
        assert_eq!(others, 32, "trial {trial}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_completed_delivery_is_a_duplicate_and_a_failed_one_is_processed_on_retry() {
    let guard = guard(Dedup::new(MemoryStore::default()));
    let claim = admit_status(&guard, "ok_1").await.unwrap().unwrap();
    assert_eq!(admit_status(&guard, "ok_1").await.unwrap_err(), RejectionKind::InFlight);
    claim.finish(StatusCode::NO_CONTENT).await;
    assert_eq!(admit_status(&guard, "ok_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);

    let claim = admit_status(&guard, "fail_1").await.unwrap().unwrap();
    claim.finish(StatusCode::INTERNAL_SERVER_ERROR).await;
    let retry = admit_status(&guard, "fail_1").await.unwrap().expect("the retry is handled");
    retry.finish(StatusCode::OK).await;
    assert_eq!(admit_status(&guard, "fail_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);
}

async fn eventually_free(guard: &Guard<Botdog>, id: &str) {
    for _ in 0..200 {
        match admit_status(guard, id).await {
            Ok(claim) => {
                claim.unwrap().finish(StatusCode::OK).await;
                return;
            }
            Err(RejectionKind::InFlight) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(other) => panic!("{other:?}"),
        }
    }
    panic!("the claim on {id} was never released");
}

#[tokio::test]
async fn a_panicking_handler_and_a_dropped_request_release_their_claims() {
    let guard = guard(Dedup::new(MemoryStore::default()));
    let panicking = {
        let guard = guard.clone();
        tokio::spawn(async move {
            let _claim = admit_status(&guard, "panic_1").await.unwrap();
            panic!("handler bug");
        })
    };
    assert!(panicking.await.unwrap_err().is_panic());
    eventually_free(&guard, "panic_1").await;

    let request = {
        let guard = guard.clone();
        async move {
            let _claim = admit_status(&guard, "dropped_1").await.unwrap();
            std::future::pending::<()>().await;
        }
    };
    let cancelled = tokio::time::timeout(Duration::from_millis(20), request).await;
    assert!(cancelled.is_err(), "the request future was dropped by the timeout");
    eventually_free(&guard, "dropped_1").await;
}

#[tokio::test]
async fn an_expired_lease_lets_the_next_retry_in_and_the_stale_holder_cannot_complete() {
    let store = Arc::new(MemoryStore::default());
    let guard = guard(Dedup::from_arc(Arc::clone(&store)).lease(Duration::from_millis(100)));
    let stale = admit_status(&guard, "slow_1").await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let fresh = admit_status(&guard, "slow_1").await.unwrap().expect("the lease expired");
    stale.finish(StatusCode::OK).await; // logged as lost; must not complete the fresh claim
    assert_eq!(admit_status(&guard, "slow_1").await.unwrap_err(), RejectionKind::InFlight);
    fresh.finish(StatusCode::OK).await;
    assert_eq!(admit_status(&guard, "slow_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);
}

#[tokio::test]
async fn an_unreachable_store_fails_closed_by_default_or_open_when_chosen() {
    let (headers, body) = delivery("store_1");
    let closed = guard(Dedup::new(UnreachableStore));
    let rejection = closed.admit_body(&headers, Full::new(body.clone())).await.unwrap_err();
    assert_eq!(rejection.kind(), RejectionKind::StoreUnavailable);
    assert_eq!(rejection.status(), 503);
    assert!(rejection.headers().iter().any(|(name, value)| name == "retry-after" && value == "30"));

    let open = guard(Dedup::new(UnreachableStore).on_store_error(OnStoreError::FailOpen));
    let admitted = open.admit_body(&headers, Full::new(body)).await.unwrap();
    assert!(admitted.claim.is_none());
}

#[test]
fn a_ttl_shorter_than_the_retry_window_is_refused() {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    let short = Dedup::new(MemoryStore::default()).ttl(Duration::from_secs(60));
    let error = Guard::new(verifier).with_dedup(short).unwrap_err();
    assert_eq!(error, ConfigError::TtlShorterThanRetryWindow { provider: "botdog", ttl_secs: 60, window_secs: 1860 });
}

#[tokio::test]
async fn keys_are_namespaced_by_application_and_provider() {
    let store = Arc::new(MemoryStore::default());
    let a = guard(Dedup::from_arc(Arc::clone(&store)).namespace("app-a"));
    let b = guard(Dedup::from_arc(Arc::clone(&store)).namespace("app-b"));
    let claim = admit_status(&a, "shared_1").await.unwrap().unwrap();
    assert_eq!(claim.key(), "app-a:botdog:shared_1");
    claim.finish(StatusCode::OK).await;
    assert!(admit_status(&b, "shared_1").await.unwrap().is_some(), "another namespace is another id");
}

/// A `MemoryStore` whose `complete` takes 100 ms, like a slow network store.
struct SlowComplete(MemoryStore);

impl DedupStore for SlowComplete {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.0.claim(key, lease).await
    }
    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.0.complete(key, token, ttl).await
    }
    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        self.0.release(key, token).await
    }
}

#[tokio::test]
async fn finishing_completes_even_if_the_response_future_is_dropped_while_waiting_for_the_store() {
    let guard = guard(Dedup::new(SlowComplete(MemoryStore::default())));
    let claim = admit_status(&guard, "finish_dropped_1").await.unwrap().unwrap();
    let dropped = tokio::time::timeout(Duration::from_millis(10), claim.finish(StatusCode::OK)).await;
    assert!(dropped.is_err(), "the finish future was dropped mid-way");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(admit_status(&guard, "finish_dropped_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);
}

/// A signed Botdog delivery whose body is `body` exactly.
fn signed(body: &str) -> (Vec<(String, String)>, Bytes) {
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
    (signer.sign_delivery(body.as_bytes(), now(), "", None).headers, Bytes::from(body.to_owned()))
}

#[tokio::test]
async fn a_ttl_and_lease_of_duration_max_complete_the_claim_instead_of_panicking() {
    let guard = guard(Dedup::new(MemoryStore::default()).ttl(Duration::MAX).lease(Duration::MAX));
    let claim = admit_status(&guard, "forever_1").await.unwrap().unwrap();
    assert_eq!(admit_status(&guard, "forever_1").await.unwrap_err(), RejectionKind::InFlight);
    claim.finish(StatusCode::OK).await;
    assert_eq!(admit_status(&guard, "forever_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);
}

#[tokio::test]
async fn a_retry_after_of_duration_max_is_a_clamped_header_not_an_overflow() {
    let (headers, body) = delivery("store_max_1");
    let closed =
        guard(Dedup::new(UnreachableStore).on_store_error(OnStoreError::FailClosed { retry_after: Duration::MAX }));
    let rejection = closed.admit_body(&headers, Full::new(body)).await.unwrap_err();
    assert_eq!(rejection.status(), 503);
    let retry_after = rejection.headers().into_iter().find(|(name, _)| name == "retry-after").unwrap().1;
    assert_eq!(retry_after, "86400");
}

#[tokio::test]
async fn two_different_events_with_an_empty_id_are_two_deliveries() {
    let guard = guard(Dedup::new(MemoryStore::default()));
    let first = r#"{"id":"","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}"#;
    let second = r#"{"id":"","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:31Z"}"#;
    let mut keys = Vec::new();
    for body in [first, second] {
        let (headers, body) = signed(body);
        let admitted = guard.admit_body(&headers, Full::new(body)).await.expect("a different event is not a duplicate");
        assert!(admitted.delivery.id().starts_with("sha256:"), "{}", admitted.delivery.id());
        let claim = admitted.claim.unwrap();
        keys.push(claim.key().to_owned());
        claim.finish(StatusCode::OK).await;
    }
    assert_ne!(keys[0], keys[1]);
    // The same bytes again are still a duplicate (the body digest is stable across retries).
    let (headers, body) = signed(first);
    assert_eq!(
        guard.admit_body(&headers, Full::new(body)).await.unwrap_err().kind(),
        RejectionKind::DuplicateCompleted
    );
}

#[tokio::test]
async fn an_id_over_256_bytes_is_hashed_into_the_dedup_key() {
    let guard = guard(Dedup::new(MemoryStore::default()).namespace("app"));
    let long = "x".repeat(16 * 1024);
    let claim = admit_status(&guard, &long).await.unwrap().unwrap();
    let key = claim.key().to_owned();
    assert!(key.len() <= 256 + "app:botdog:".len(), "{} bytes", key.len());
    assert!(key.starts_with("app:botdog:sha256-id:"), "{key}");
    claim.finish(StatusCode::OK).await;
    assert_eq!(admit_status(&guard, &long).await.unwrap_err(), RejectionKind::DuplicateCompleted);
    // A different long id is a different key, and an id of exactly 256 bytes is kept as it is.
    let other = admit_status(&guard, &"y".repeat(16 * 1024)).await.unwrap().unwrap();
    assert_ne!(other.key(), key);
    let edge = "z".repeat(256);
    let claim = admit_status(&guard, &edge).await.unwrap().unwrap();
    assert_eq!(claim.key(), format!("app:botdog:{edge}"));
}
