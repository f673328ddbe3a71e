//! The dedup protocol through `Guard` on `RedisStore`: racing deliveries, a Redis crash and its
//! recovery, and the round trips one delivery costs.
#![allow(clippy::unwrap_used)]

mod support;

use http_body_util::Full;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use support::{CountingProxy, RedisInspect as _, RedisServer, admit, delivery, guard};
use webhook_guard::RejectionKind;
use webhook_guard::{Dedup, DedupStore};
use webhook_guard_redis::RedisStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_simultaneous_deliveries_across_two_receivers_call_the_handler_once_over_100_trials() {
    let server = RedisServer::start();
    // Two receivers, each with its own connection, sharing one Redis.
    let mut guards = Vec::new();
    for _ in 0..2 {
        guards.push(guard(Dedup::new(RedisStore::connect(&server.url()).await.unwrap())));
    }
    for trial in 0..100 {
        let id = format!("race_{trial}");
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let (guard, id, calls) = (guards[i % 2].clone(), id.clone(), Arc::clone(&calls));
                tokio::spawn(async move {
                    match admit(&guard, &id).await {
                        Ok(claim) => {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            claim.finish(StatusCode::OK).await;
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
async fn a_failing_handlers_event_is_processed_on_the_retry() {
    let server = RedisServer::start();
    let guard = guard(Dedup::new(RedisStore::connect(&server.url()).await.unwrap()));
    admit(&guard, "fail_1").await.unwrap().finish(StatusCode::INTERNAL_SERVER_ERROR).await;
    let retry = admit(&guard, "fail_1").await.expect("released: the retry is handled");
    assert_eq!(admit(&guard, "fail_1").await.unwrap_err(), RejectionKind::InFlight);
    retry.finish(StatusCode::NO_CONTENT).await;
    assert_eq!(admit(&guard, "fail_1").await.unwrap_err(), RejectionKind::DuplicateCompleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_gives_503_with_retry_after_and_the_same_store_recovers_on_restart() {
    let mut server = RedisServer::start();
    let timeout = Duration::from_millis(500);
    let store = Arc::new(RedisStore::builder().timeout(timeout).connect(&server.url()).await.unwrap());
    let guard = guard(Dedup::from_arc(Arc::clone(&store)));
    admit(&guard, "before").await.unwrap().finish(StatusCode::OK).await;
    let held = admit(&guard, "held").await.unwrap();

    server.kill();
    for attempt in 0..5 {
        let started = Instant::now();
        let error = store.claim("webhook-guard:botdog:during", Duration::from_secs(60)).await.unwrap_err();
        assert!(started.elapsed() < timeout + Duration::from_secs(1), "attempt {attempt}: {:?}", started.elapsed());
        assert!(error.to_string().contains("redis"), "{error}");
        let (headers, body) = delivery("during");
        let rejection = guard.admit_body(&headers, Full::new(body)).await.unwrap_err();
        assert_eq!(rejection.kind(), RejectionKind::StoreUnavailable, "attempt {attempt}");
        assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(rejection.headers().iter().any(|(name, value)| name == "retry-after" && value == "30"));
    }
    // Completing while Redis is down fails (logged): the event may be processed again, never lost.
    held.finish(StatusCode::OK).await;

    server.restart(); // same port, empty (no persistence), scripts not loaded
    let deadline = Instant::now() + Duration::from_secs(20);
    let claim = loop {
        match admit(&guard, "during").await {
            Ok(claim) => break claim,
            Err(RejectionKind::StoreUnavailable) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("Redis is back, but the delivery got {other:?}"),
        }
    };
    claim.finish(StatusCode::OK).await;
    assert_eq!(admit(&guard, "during").await.unwrap_err(), RejectionKind::DuplicateCompleted);
    // The new server lost what the old one held: a duplicate is possible, a loss is not.
    admit(&guard, "before").await.expect("forgotten by the empty server").finish(StatusCode::OK).await;
    admit(&guard, "held").await.expect("its completion failed").finish(StatusCode::OK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_costs_at_most_two_round_trips_counted_on_the_wire() {
    let server = RedisServer::start();
    let proxy = CountingProxy::start(server.port()).await;
    let store = RedisStore::connect(&proxy.url()).await.unwrap();
    let guard = guard(Dedup::new(store));
    let (connect_requests, evalsha_before, set_before) =
        (proxy.requests(), server.evalsha_calls(), server.calls("set"));

    // Each delivery's requests, counted as the client sends them.
    let mut costs = Vec::new();
    let mut deliver = async |id: &str, status: Option<StatusCode>| {
        let before = proxy.requests();
        match (admit(&guard, id).await, status) {
            (Ok(claim), Some(status)) => claim.finish(status).await,
            (Err(_), None) => {}
            (outcome, _) => panic!("{id}: unexpected {:?}", outcome.map(|_| "admitted")),
        }
        costs.push(proxy.requests() - before);
        proxy.requests() - before
    };
    for i in 0..100 {
        let id = format!("rt_{i}");
        assert_eq!(deliver(&id, Some(StatusCode::OK)).await, 2, "claim + complete");
        assert_eq!(deliver(&id, None).await, 1, "a duplicate: the claim alone");
        assert_eq!(deliver(&format!("rt_fail_{i}"), Some(StatusCode::BAD_GATEWAY)).await, 2, "claim + release");
        assert_eq!(deliver(&format!("rt_fail_{i}"), Some(StatusCode::OK)).await, 2, "the retry");
    }
    let total: u64 = costs.iter().sum();
    let max = costs.iter().max().copied().unwrap();
    // Redis 7.0 here: each claim is one `SET ... NX GET`, each complete or release one EVALSHA.
    // INFO commandstats also counts the commands a script runs: the complete script's SET (200).
    let (evalsha, set) = (server.evalsha_calls() - evalsha_before, server.calls("set") - set_before);
    assert_eq!(evalsha, 300, "one EVALSHA per complete (200) or release (100): no EVAL fallback");
    assert_eq!(set - 200, 400, "one SET per claim: 100 new, 100 duplicates, 100 failing, 100 retried");
    assert_eq!(set - 200 + evalsha, total, "no extra command");
    println!(
        "redis round trips per delivery: max {max}, mean {:.2} over {} deliveries \
         (new: 2, duplicate: 1, failed: 2); {connect_requests} requests when connecting",
        total as f64 / costs.len() as f64,
        costs.len(),
    );
    assert!(max <= 2);
}
