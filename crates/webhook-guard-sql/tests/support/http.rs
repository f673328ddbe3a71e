//! The transactional completion over real HTTP: an axum receiver behind `WebhookLayer`,
//! deduplicating on the `SqlStore`, whose handler begins a completion, writes one effect row and
//! commits — or fails on purpose after its write, keyed by the delivery id's prefix:
//!
//! - `fail_once_`: answers 500 after its write, the first time (the completion is dropped);
//! - `panic_once_`: panics after its write, the first time;
//! - `stale_`: sleeps [`STALE_SLEEP`] before beginning, the first time (its lease expires);
//! - `slow_`: sleeps [`SLOW_SLEEP`] inside its transaction, after its write, the first time.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use webhook_guard_test_support::http_client::{HttpResponse, post};

use super::{PATH, body, signed_headers};

/// How long a `stale_` handler waits before beginning its completion.
pub const STALE_SLEEP: Duration = Duration::from_millis(1200);
/// How long a `slow_` handler waits inside its transaction.
pub const SLOW_SLEEP: Duration = Duration::from_millis(1200);

/// Every call of the handler: the delivery ids, in order.
pub type Calls = Arc<Mutex<Vec<String>>>;

/// Records a call; whether it is the first of this id.
pub fn record(calls: &Calls, id: &str) -> bool {
    let mut calls = calls.lock().unwrap();
    calls.push(id.to_owned());
    calls.iter().filter(|call| *call == id).count() == 1
}

/// How many times the handler was called with `id`.
pub fn calls_of(calls: &Calls, id: &str) -> usize {
    calls.lock().unwrap().iter().filter(|call| *call == id).count()
}

/// Posts delivery `id`, signed now (blocking).
pub fn send(addr: SocketAddr, id: &str) -> std::io::Result<HttpResponse> {
    let body = body(id);
    post(addr, PATH, &signed_headers(&body), &body)
}

/// Posts `copies` copies of delivery `id` at once, from as many threads (blocking).
pub fn race(addr: SocketAddr, id: &str, copies: usize) -> Vec<HttpResponse> {
    let body = body(id);
    let headers = signed_headers(&body);
    let start = Arc::new(Barrier::new(copies));
    let threads: Vec<_> = (0..copies)
        .map(|_| {
            let (body, headers, start) = (body.clone(), headers.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                post(addr, PATH, &headers, &body).unwrap()
            })
        })
        .collect();
    threads.into_iter().map(|thread| thread.join().unwrap()).collect()
}

/// Resends `id` while the answer is 409 (a claim still held, e.g. not yet released after a
/// panic), for at most `within`; the first other answer.
pub fn resend_while_in_flight(addr: SocketAddr, id: &str, within: Duration) -> HttpResponse {
    let deadline = std::time::Instant::now() + within;
    loop {
        let response = send(addr, id).unwrap();
        if response.status != 409 || std::time::Instant::now() > deadline {
            return response;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The handler's own answer: 204, not a duplicate's 200.
pub fn assert_handled(response: &HttpResponse) {
    assert_eq!(response.status, 204, "{response:?}");
}

/// A duplicate of a completed delivery: 200 with the duplicate header.
pub fn assert_duplicate(response: &HttpResponse) {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("webhook-guard-duplicate"), Some("completed"), "{response:?}");
}

/// The receiver and its handler, for one database: expands `struct App`, `async fn handle` and
/// `async fn serve(store, lease) -> Receiver` where `Db` is in scope.
macro_rules! receiver {
    () => {
        use std::net::SocketAddr;
        use std::time::Duration;

        use axum::Router;
        use axum::extract::{Extension, State};
        use axum::response::{IntoResponse, Response};
        use axum::routing::post;
        use http::StatusCode;
        use webhook_guard::providers::Botdog;
        use webhook_guard::{Dedup, HeldClaim};
        use webhook_guard_axum::{Webhook, WebhookLayer};
        use webhook_guard_sql::SqlStore;

        use super::Db;
        use super::support::http::{Calls, SLOW_SLEEP, STALE_SLEEP, record};
        use super::support::{EFFECTS_DDL, INSERT_EFFECT, PATH, guard};

        #[derive(Clone)]
        struct App {
            store: SqlStore<Db>,
            calls: Calls,
        }

        async fn handle(
            State(app): State<App>,
            Extension(claim): Extension<HeldClaim>,
            Webhook(delivery): Webhook<Botdog>,
        ) -> Response {
            let id = delivery.id().to_owned();
            let first = record(&app.calls, &id);
            if id.starts_with("stale_") && first {
                tokio::time::sleep(STALE_SLEEP).await;
            }
            let mut completion = match app.store.begin_completing(&claim).await {
                Ok(completion) => completion,
                Err(error) => return error.rejection().to_response(axum::body::Body::from),
            };
            if let Err(error) = sqlx::query(INSERT_EFFECT).bind(&id).execute(&mut *completion).await {
                return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
            }
            if id.starts_with("fail_once_") && first {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
            if id.starts_with("panic_once_") && first {
                panic!("the handler panics after its write on the first delivery of {id}");
            }
            if id.starts_with("slow_") && first {
                tokio::time::sleep(SLOW_SLEEP).await;
            }
            match completion.commit().await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
            }
        }

        /// A receiver under test: where it listens, its handler's calls, its store.
        struct Receiver {
            addr: SocketAddr,
            calls: Calls,
            store: SqlStore<Db>,
        }

        impl Receiver {
            fn calls_of(&self, id: &str) -> usize {
                super::support::http::calls_of(&self.calls, id)
            }

            async fn effects(&self, id: &str) -> i64 {
                sqlx::query_scalar(super::support::COUNT_EFFECTS).bind(id).fetch_one(self.store.pool()).await.unwrap()
            }
        }

        /// Serves the handler behind `WebhookLayer`, deduplicating on `store` with `lease`.
        async fn serve(store: SqlStore<Db>, lease: Duration) -> Receiver {
            sqlx::query(EFFECTS_DDL).execute(store.pool()).await.unwrap();
            let guard = guard(Dedup::new(store.clone()).lease(lease));
            let calls = Calls::default();
            let app = App { store: store.clone(), calls: calls.clone() };
            let router = Router::new().route(PATH, post(handle)).route_layer(WebhookLayer::new(guard)).with_state(app);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            Receiver { addr, calls, store }
        }
    };
}
pub(crate) use receiver;

/// The HTTP cases every database passes.
macro_rules! http_cases {
    () => {
        mod http_completion {
            $crate::support::http::receiver!();

            use super::fixture;
            use super::support::blocking;
            use super::support::http::{assert_duplicate, assert_handled, race, resend_while_in_flight, send};

            const LEASE: Duration = Duration::from_secs(60);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn thirty_two_racing_copies_commit_one_effect() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, LEASE).await;
                let addr = receiver.addr;
                for round in 0..3 {
                    let id = format!("raced_{round}");
                    let responses = blocking({
                        let id = id.clone();
                        move || race(addr, &id, 32)
                    })
                    .await;
                    let handled = responses.iter().filter(|response| response.status == 204).count();
                    assert_eq!(handled, 1, "{id}: {responses:?}");
                    for response in &responses {
                        match response.status {
                            204 | 409 => {}
                            200 => assert_duplicate(response),
                            _ => panic!("{id}: {response:?}"),
                        }
                    }
                    assert_eq!(receiver.effects(&id).await, 1, "{id}");
                    assert_eq!(receiver.calls_of(&id), 1, "{id}");
                    let again = blocking({
                        let id = id.clone();
                        move || send(addr, &id).unwrap()
                    })
                    .await;
                    assert_duplicate(&again);
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_handler_failing_after_its_write_commits_nothing_and_its_retry_applies_once() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, LEASE).await;
                let addr = receiver.addr;
                let first = blocking(move || send(addr, "fail_once_1").unwrap()).await;
                assert_eq!(first.status, 500, "{first:?}");
                assert_eq!(receiver.effects("fail_once_1").await, 0, "the failed run's write was rolled back");
                let retry = blocking(move || send(addr, "fail_once_1").unwrap()).await;
                assert_handled(&retry);
                assert_eq!(receiver.effects("fail_once_1").await, 1);
                let third = blocking(move || send(addr, "fail_once_1").unwrap()).await;
                assert_duplicate(&third);
                assert_eq!(receiver.calls_of("fail_once_1"), 2);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_handler_panicking_after_its_write_commits_nothing_and_its_retry_applies_once() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, LEASE).await;
                let addr = receiver.addr;
                let first = blocking(move || send(addr, "panic_once_1")).await;
                assert!(first.is_err(), "the panic ends the connection: {first:?}");
                let retry =
                    blocking(move || resend_while_in_flight(addr, "panic_once_1", Duration::from_secs(5))).await;
                assert_handled(&retry);
                assert_eq!(receiver.effects("panic_once_1").await, 1);
                let third = blocking(move || send(addr, "panic_once_1").unwrap()).await;
                assert_duplicate(&third);
                assert_eq!(receiver.calls_of("panic_once_1"), 2);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stale_holder_cannot_commit_after_a_retry_took_its_claim() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, Duration::from_millis(500)).await;
                let addr = receiver.addr;
                // The first run's lease (500 ms) expires while it sleeps (1.2 s) before beginning.
                let first = tokio::task::spawn_blocking(move || send(addr, "stale_1").unwrap());
                tokio::time::sleep(Duration::from_millis(700)).await;
                let retry = blocking(move || send(addr, "stale_1").unwrap()).await;
                assert_handled(&retry);
                let first = first.await.unwrap();
                assert_eq!(first.status, 409, "the stale run lost its claim: {first:?}");
                assert_eq!(first.json()["error"], "in_flight", "{first:?}");
                assert_eq!(receiver.effects("stale_1").await, 1);
                assert_eq!(receiver.calls_of("stale_1"), 2);
                let third = blocking(move || send(addr, "stale_1").unwrap()).await;
                assert_duplicate(&third);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_copy_is_answered_409_while_the_first_is_still_in_its_transaction() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, LEASE).await;
                let addr = receiver.addr;
                // The first run holds its transaction open for 1.2 s after its write; a copy sent
                // meanwhile is answered without waiting for it (its claim only reads the row).
                let first = tokio::task::spawn_blocking(move || send(addr, "slow_busy_1").unwrap());
                tokio::time::sleep(Duration::from_millis(300)).await;
                let copy = blocking(move || send(addr, "slow_busy_1").unwrap()).await;
                assert_eq!(copy.status, 409, "{copy:?}");
                assert!(copy.header("retry-after").is_some(), "{copy:?}");
                assert!(!first.is_finished(), "the copy was answered only once the first had committed");
                assert_handled(&first.await.unwrap());
                assert_eq!(receiver.calls_of("slow_busy_1"), 1);
                assert_eq!(receiver.effects("slow_busy_1").await, 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_handler_outliving_its_lease_inside_its_transaction_commits_once() {
                let fixture = fixture().await;
                let receiver = serve(fixture.store().await, Duration::from_millis(500)).await;
                let addr = receiver.addr;
                // The first run begins at once, then sleeps 1.2 s in its transaction: its lease
                // ends meanwhile, and a copy arrives.
                let first = tokio::task::spawn_blocking(move || send(addr, "slow_1").unwrap());
                tokio::time::sleep(Duration::from_millis(800)).await;
                let copy = blocking(move || send(addr, "slow_1").unwrap()).await;
                let first = first.await.unwrap();
                assert_handled(&first);
                match copy.status {
                    409 => {}
                    200 => assert_duplicate(&copy),
                    _ => panic!("the copy of a delivery being committed: {copy:?}"),
                }
                assert_eq!(receiver.calls_of("slow_1"), 1);
                assert_eq!(receiver.effects("slow_1").await, 1);
                let third = blocking(move || send(addr, "slow_1").unwrap()).await;
                assert_duplicate(&third);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_database_holding_writes_past_the_timeout_is_a_503_and_the_handler_is_not_called() {
                let fixture = fixture().await;
                let store = SqlStore::<Db>::builder()
                    .timeout(Duration::from_millis(1500))
                    .build(fixture.store().await.pool().clone())
                    .await
                    .unwrap();
                let receiver = serve(store, LEASE).await;
                let addr = receiver.addr;
                let held = fixture.hold_writes().await;
                let response = blocking(move || send(addr, "held_1").unwrap()).await;
                assert_eq!(response.status, 503, "{response:?}");
                assert_eq!(response.json()["error"], "store_unavailable", "{response:?}");
                assert_eq!(response.header("retry-after"), Some("30"), "{response:?}");
                assert_eq!(receiver.calls_of("held_1"), 0);
                drop(held);
                tokio::time::sleep(Duration::from_millis(200)).await;
                let after = blocking(move || resend_while_in_flight(addr, "held_1", Duration::from_secs(5))).await;
                assert_handled(&after);
                assert_eq!(receiver.effects("held_1").await, 1);
            }
        }
    };
}
pub(crate) use http_cases;
