//! Chaos: 10,000 events, each delivered one to three times with the copies racing, to two
//! receivers sharing one Redis, with a handler that fails 30 % of the time. The sender retries each
//! copy until it sees a 2xx. At the end every event was processed successfully exactly once, and
//! every copy was acknowledged: nothing lost, nothing processed twice.
#![allow(clippy::unwrap_used)]

mod support;

use http_body_util::Full;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use redis::Commands;
use support::{RedisInspect as _, RedisServer, delivery, guard};
use webhook_guard::Dedup;
use webhook_guard_redis::{COMPLETED, RedisStore};

const EVENTS: usize = 10_000;
const WORKERS: usize = 64;
const MAX_ATTEMPTS: u32 = 10_000;

/// splitmix64: the deterministic pseudo-random source of the test.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Default)]
struct Stats {
    handler_runs: AtomicU64,
    handler_failures: AtomicU64,
    dropped_claims: AtomicU64,
    duplicates_completed: AtomicU64,
    in_flight: AtomicU64,
    unavailable: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_with_failures_and_racing_duplicates_are_each_processed_once_and_acknowledged() {
    let started = Instant::now();
    let server = RedisServer::start();
    let mut receivers = Vec::new();
    for _ in 0..2 {
        receivers.push(guard(Dedup::new(RedisStore::connect(&server.url()).await.unwrap())));
    }
    let receivers = Arc::new(receivers);

    // Each event's copies are queued side by side, so they race on different workers.
    let copies = |event: usize| 1 + (mix(event as u64, 1) % 3) as usize;
    let queue: Arc<Vec<(usize, usize)>> =
        Arc::new((0..EVENTS).flat_map(|event| (0..copies(event)).map(move |copy| (event, copy))).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let successes: Arc<Vec<AtomicU32>> = Arc::new((0..EVENTS).map(|_| AtomicU32::new(0)).collect());
    let runs: Arc<Vec<AtomicU32>> = Arc::new((0..EVENTS).map(|_| AtomicU32::new(0)).collect());
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let stats = Arc::new(Stats::default());

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (receivers, queue, next) = (Arc::clone(&receivers), Arc::clone(&queue), Arc::clone(&next));
            let (successes, runs, acknowledged, stats) =
                (Arc::clone(&successes), Arc::clone(&runs), Arc::clone(&acknowledged), Arc::clone(&stats));
            tokio::spawn(async move {
                while let Some(&(event, copy)) = queue.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let id = format!("evt_{event}");
                    let (headers, body) = delivery(&id);
                    // The sender: retry this copy until a 2xx.
                    for attempt in 0.. {
                        assert!(attempt < MAX_ATTEMPTS, "{id} copy {copy}: never acknowledged");
                        let receiver = &receivers[(copy + attempt as usize) % 2];
                        match receiver.admit_body(&headers, Full::new(body.clone())).await {
                            Ok(admitted) => {
                                let claim = admitted.claim.expect("dedup is on");
                                stats.handler_runs.fetch_add(1, Ordering::Relaxed);
                                let run = runs[event].fetch_add(1, Ordering::SeqCst);
                                let roll = mix(event as u64, u64::from(run) + 2);
                                if roll % 100 < 30 {
                                    stats.handler_failures.fetch_add(1, Ordering::Relaxed);
                                    if roll.is_multiple_of(3) {
                                        // The request is cancelled: the claim is released in the background.
                                        stats.dropped_claims.fetch_add(1, Ordering::Relaxed);
                                        drop(claim);
                                    } else {
                                        claim.finish(StatusCode::INTERNAL_SERVER_ERROR).await;
                                    }
                                    continue;
                                }
                                successes[event].fetch_add(1, Ordering::SeqCst);
                                tokio::task::yield_now().await; // let the duplicates race the completion
                                claim.finish(StatusCode::OK).await;
                                break;
                            }
                            Err(rejection) => match rejection.status() {
                                StatusCode::OK => {
                                    stats.duplicates_completed.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                                StatusCode::CONFLICT => {
                                    stats.in_flight.fetch_add(1, Ordering::Relaxed);
                                    tokio::time::sleep(Duration::from_millis(2)).await;
                                }
                                StatusCode::SERVICE_UNAVAILABLE => {
                                    stats.unavailable.fetch_add(1, Ordering::Relaxed);
                                    tokio::time::sleep(Duration::from_millis(10)).await;
                                }
                                other => panic!("{id}: unexpected {other}"),
                            },
                        }
                    }
                    acknowledged.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }

    assert_eq!(acknowledged.load(Ordering::SeqCst), queue.len(), "every copy acknowledged");
    let wrong: Vec<_> = (0..EVENTS)
        .filter_map(|event| {
            let n = successes[event].load(Ordering::SeqCst);
            (n != 1).then_some((event, n))
        })
        .collect();
    assert!(wrong.is_empty(), "events not processed exactly once (event, successes): {wrong:?}");
    // Redis holds every id as completed: no claim was left behind.
    let keys: Vec<String> = (0..EVENTS).map(|event| format!("webhook-guard:botdog:evt_{event}")).collect();
    let values: Vec<Option<String>> = server.connection().mget(&keys).unwrap();
    assert!(values.iter().all(|value| value.as_deref() == Some(COMPLETED)));

    println!(
        "chaos: {EVENTS} events, {} deliveries, {stats:?}, {WORKERS} workers, {:.1} s",
        queue.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(stats.unavailable.load(Ordering::Relaxed), 0);
}
