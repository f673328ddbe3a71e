//! The chaos run over real HTTP (feature `chaos`), shared by the `MemoryStore` run
//! (`webhook-guard-axum/tests/chaos.rs`) and the Redis run (`webhook-guard-redis/tests/http_chaos.rs`).
//!
//! Two axum receivers, each on its own port with `WebhookLayer` and its own `Dedup` over one
//! shared store. 10,000 events, each sent as two or three copies that race, the first two to
//! different receivers. The handler fails on 30 % of its runs, decided by a hash of the event and
//! the run's number: it answers 500, or (a third of the failures) panics, which ends the connection
//! without an answer and leaves the claim to be released in the background. The sender retries
//! each copy until it sees a 2xx (the handler's 204, or the 200 of a duplicate), after a short
//! sleep on a 409 or no answer. At the end every event was processed
//! successfully exactly once and every copy was acknowledged: nothing lost, nothing twice.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{Dedup, Guard, Verifier};
use webhook_guard_axum::{Webhook, WebhookLayer};

use crate::conformance::BotdogReceiver;
use crate::http_client;

/// How many events one run sends.
pub const EVENTS: usize = 10_000;
const SENDERS: usize = 32;
const SECRET: &str = "whsec_chaos_test";
const PATH: &str = "/webhooks/botdog";
/// How long one copy may go unacknowledged before the run fails.
const COPY_DEADLINE: Duration = Duration::from_secs(30);

/// The delivery id of event `event`.
pub fn id(event: usize) -> String {
    format!("chaos_{event}")
}

/// splitmix64: the deterministic pseudo-random source of the run.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per event, shared by both receivers' handlers: how often it ran, and how often it succeeded.
struct Handled {
    runs: Vec<AtomicU32>,
    successes: Vec<AtomicU32>,
}

async fn handle(State(handled): State<Arc<Handled>>, Webhook(delivery): Webhook<Botdog>) -> StatusCode {
    let event: usize = delivery.id().strip_prefix("chaos_").and_then(|n| n.parse().ok()).unwrap();
    let run = handled.runs[event].fetch_add(1, Ordering::SeqCst);
    let roll = mix(event as u64, u64::from(run));
    if roll % 100 < 30 {
        if roll.is_multiple_of(3) {
            panic!("chaos: the handler panics on {}", delivery.id());
        }
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    handled.successes[event].fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await; // let the copies race the completion
    StatusCode::NO_CONTENT
}

/// What the senders saw.
#[derive(Debug, Default)]
struct Seen {
    requests: AtomicU64,
    handled: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
    duplicates: AtomicU64,
    /// The connection ended without an answer: the handler panicked.
    no_answer: AtomicU64,
}

/// Sends `copy` of `event` to the receivers in turn until it is acknowledged.
fn deliver(addrs: [SocketAddr; 2], signer: &Signer, event: usize, copy: usize, seen: &Seen) {
    let body = BotdogReceiver::valid_body(&id(event), "LEAD_MESSAGE_SENT");
    let deadline = Instant::now() + COPY_DEADLINE;
    for attempt in 0.. {
        assert!(Instant::now() < deadline, "{} copy {copy}: not acknowledged after {COPY_DEADLINE:?}", id(event));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        // Re-signed for each attempt, as senders do.
        let headers = signer.sign_delivery(&body, now, "", None).headers;
        seen.requests.fetch_add(1, Ordering::Relaxed);
        let response = match http_client::post(addrs[(copy + attempt) % 2], PATH, &headers, &body) {
            Ok(response) => response,
            Err(_) => {
                seen.no_answer.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
                continue;
            }
        };
        let counter = match (response.status, response.header("webhook-guard-duplicate")) {
            (204, None) => &seen.handled,
            (200, Some("completed")) => &seen.duplicates,
            (500, None) => &seen.failed,
            (409, None) => &seen.in_flight,
            _ => panic!("{} copy {copy}: unexpected answer {response:?}", id(event)),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match response.status {
            200..=299 => return,
            409 => std::thread::sleep(Duration::from_millis(2)),
            _ => {}
        }
    }
}

async fn serve(dedup: Dedup, handled: Arc<Handled>) -> SocketAddr {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    let guard = Guard::new(verifier).with_dedup(dedup).unwrap();
    let router = Router::new().route(PATH, post(handle)).route_layer(WebhookLayer::new(guard)).with_state(handled);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Runs the chaos against two receivers deduplicating with `dedups` (over one shared store) and
/// asserts that every event was processed successfully exactly once and every copy acknowledged.
pub async fn run(dedups: [Dedup; 2]) {
    let started = Instant::now();
    let counters = || (0..EVENTS).map(|_| AtomicU32::new(0)).collect();
    let handled = Arc::new(Handled { runs: counters(), successes: counters() });
    let [first, second] = dedups;
    let addrs = [serve(first, Arc::clone(&handled)).await, serve(second, Arc::clone(&handled)).await];

    // Each event's copies are queued side by side, so they race on different senders.
    let queue: Vec<(usize, usize)> = (0..EVENTS)
        .flat_map(|event| (0..2 + (mix(event as u64, 1) % 2) as usize).map(move |copy| (event, copy)))
        .collect();
    let copies = queue.len();
    let seen = tokio::task::spawn_blocking(move || {
        let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
        let (next, seen) = (AtomicUsize::new(0), Seen::default());
        std::thread::scope(|scope| {
            for _ in 0..SENDERS {
                scope.spawn(|| {
                    while let Some(&(event, copy)) = queue.get(next.fetch_add(1, Ordering::Relaxed)) {
                        deliver(addrs, &signer, event, copy, &seen);
                    }
                });
            }
        });
        seen
    })
    .await
    .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));

    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let acknowledged = load(&seen.handled) + load(&seen.duplicates);
    assert_eq!(acknowledged, copies as u64, "every copy acknowledged: {seen:?}");
    let wrong: Vec<(usize, u32)> = (0..EVENTS)
        .map(|event| (event, handled.successes[event].load(Ordering::SeqCst)))
        .filter(|(_, successes)| *successes != 1)
        .collect();
    assert!(wrong.is_empty(), "events not processed exactly once (event, successes): {wrong:?}");
    assert_eq!(load(&seen.handled), EVENTS as u64, "one 2xx from the handler per event: {seen:?}");
    let runs: u64 = handled.runs.iter().map(|runs| u64::from(runs.load(Ordering::SeqCst))).sum();
    let failed = load(&seen.failed) + load(&seen.no_answer);
    assert_eq!(runs, EVENTS as u64 + failed, "each failed run was a 500 or a panic, nothing else failed: {seen:?}");
    println!(
        "http chaos: {EVENTS} events, {copies} copies, {SENDERS} senders, {seen:?}, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
