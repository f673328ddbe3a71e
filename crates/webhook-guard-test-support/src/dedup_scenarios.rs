//! The dedup scenarios over real HTTP, shared by the tower layer's tests and axum's
//! (`tests/dedup.rs` in each crate). Each test file serves a handler that calls [`record`] then
//! [`respond`] behind the layer, defines `async fn start_with(dedup: Dedup) -> Server`, and expands
//! [`dedup_scenarios!`](crate::dedup_scenarios!).
//!
//! The handler's behaviour is keyed by the delivery id's prefix: `fail_once_` answers 500 the first
//! time, `panic_once_` panics the first time, `slow_` takes 2 s; anything else answers 204.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use tokio::io::AsyncWriteExt;
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{Dedup, Guard, Verifier};

use crate::conformance::{BotdogReceiver, Expected};
use crate::http_client::HttpResponse;

/// The secret the scenarios' receivers verify with.
pub const SECRET: &str = "whsec_dedup_scenarios_test";
/// The route the scenarios' receivers serve.
pub const PATH: &str = "/webhooks/botdog";

/// Every call of the handler, in order (recorded before it fails, panics or sleeps).
pub type Calls = Arc<Mutex<Vec<Expected>>>;

/// Records a call of the handler; whether it is the first of this id.
pub fn record(calls: &Calls, id: &str, event_type: &str) -> bool {
    let mut calls = calls.lock().unwrap();
    calls.push(Expected { id: id.to_owned(), event_type: event_type.to_owned() });
    calls.iter().filter(|call| call.id == id).count() == 1
}

/// The handler's answer to `id` (see the module docs).
pub async fn respond(id: &str, first: bool) -> StatusCode {
    if id.starts_with("fail_once_") && first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if id.starts_with("panic_once_") && first {
        panic!("the handler panics on the first delivery of {id}");
    }
    if id.starts_with("slow_") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    StatusCode::NO_CONTENT
}

/// A Botdog guard with `dedup`.
pub fn guard(dedup: Dedup) -> Guard<Botdog> {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    Guard::new(verifier).with_dedup(dedup).unwrap()
}

/// A receiver under test and what its handler saw.
#[derive(Debug)]
pub struct Server {
    /// Where it listens, its route and secret.
    pub receiver: BotdogReceiver,
    /// Every call of its handler.
    pub calls: Calls,
}

impl Server {
    /// A receiver at `addr` serving [`PATH`] with [`SECRET`], whose handler records into `calls`.
    pub fn new(addr: SocketAddr, calls: Calls) -> Self {
        Self { receiver: BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() }, calls }
    }

    /// The handler's calls so far, in order.
    pub fn calls(&self) -> Vec<Expected> {
        self.calls.lock().unwrap().clone()
    }

    /// How many times the handler was called with `id`.
    pub fn calls_of(&self, id: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|call| call.id == id).count()
    }
}

/// Runs blocking client code off the runtime, keeping its panic message.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

/// The current unix time in seconds.
pub fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A valid `LEAD_MESSAGE_SENT` delivery with id `id`.
pub fn body(id: &str) -> Vec<u8> {
    BotdogReceiver::valid_body(id, "LEAD_MESSAGE_SENT")
}

/// The headers Botdog sends with `body`, signed with [`SECRET`] now.
pub fn signed_headers(body: &[u8]) -> Vec<(String, String)> {
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
    signer.sign_delivery(body, now(), "", None).headers
}

/// The handler's own 204, not a duplicate's 200.
pub fn assert_handled(response: &HttpResponse) {
    assert_eq!(response.status, 204, "{response:?}");
    assert_eq!(response.header("webhook-guard-duplicate"), None, "{response:?}");
}

/// Sends a signed request for `id`, waits 200 ms, then resets the connection (`SO_LINGER` 0), as a
/// sender that gives up does.
pub async fn send_then_reset(addr: SocketAddr, id: &str) {
    let body = body(id);
    let mut request = format!("POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in signed_headers(&body) {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A zero linger does not block on close (the reason the method is deprecated); `set_zero_linger`
    // needs tokio 1.50, the workspace allows 1.40.
    #[allow(deprecated)]
    stream.set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);
}

/// The scenarios every adapter built on the layer must pass: a module `shared` of `#[tokio::test]`s
/// that start their servers with the expanding file's `start_with`.
///
/// The expanding crate needs `tokio` (with `macros` and `rt-multi-thread`) and `webhook-guard` among
/// its dependencies: the tests are written with them.
#[macro_export]
macro_rules! dedup_scenarios {
    () => {
        mod shared {

            use webhook_guard::OnStoreError;
            use webhook_guard::{Dedup, MemoryStore};
            use $crate::UnreachableStore;
            use $crate::http_client::post;

            use super::start_with;
            use $crate::dedup_scenarios::{
                SECRET, Server, assert_handled, blocking, body, now, send_then_reset, signed_headers,
            };

            /// Deduplicates on a fresh `MemoryStore`.
            async fn start() -> Server {
                start_with(Dedup::new(MemoryStore::default())).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_status_table_holds_with_dedup_on() {
                let server = start().await;
                let receiver = server.receiver.clone();
                let expected = blocking(move || receiver.check_status_table()).await;
                assert_eq!(server.calls(), expected);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicates_and_raced_copies_reach_the_handler_once() {
                let server = start().await;
                let receiver = server.receiver.clone();
                let expected = blocking(move || receiver.check_dedup_rows("scenario")).await;
                assert_eq!(server.calls(), expected);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_failed_delivery_is_processed_on_its_retry() {
                let server = start().await;
                let receiver = server.receiver.clone();
                blocking(move || receiver.check_failed_delivery_is_retried("scenario")).await;
                assert_eq!(server.calls_of("fail_once_scenario"), 2);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_copy_in_flight_gets_409_with_retry_after() {
                let server = start().await;
                let receiver = server.receiver.clone();
                let first = blocking(move || receiver.check_copy_in_flight_gets_409("slow_in_flight")).await;
                assert_handled(&first);
                assert_eq!(server.calls_of("slow_in_flight"), 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_handler_panic_releases_the_claim() {
                let server = start().await;
                let receiver = server.receiver.clone();
                let (first, retry, third) = blocking(move || {
                    let body = body("panic_once_1");
                    let first = post(receiver.addr, &receiver.path, &signed_headers(&body), &body);
                    let retry = receiver.resend_while_in_flight("panic_once_1");
                    (first, retry, receiver.send(&body, now(), SECRET))
                })
                .await;
                // The panic ends the connection's task: no answer.
                assert!(first.is_err(), "{first:?}");
                assert_handled(&retry);
                assert_eq!(third.header("webhook-guard-duplicate"), Some("completed"), "{third:?}");
                assert_eq!(server.calls_of("panic_once_1"), 2);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_dropped_request_releases_the_claim() {
                let server = start().await;
                send_then_reset(server.receiver.addr, "slow_dropped").await;
                let receiver = server.receiver.clone();
                let retry = blocking(move || receiver.resend_while_in_flight("slow_dropped")).await;
                // Had the first request run to its end, it would have completed the claim: a 200 duplicate.
                assert_handled(&retry);
                assert_eq!(server.calls_of("slow_dropped"), 2);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_unreachable_store_is_a_503_and_the_handler_is_not_called() {
                let server = start_with(Dedup::new(UnreachableStore)).await;
                let receiver = server.receiver.clone();
                let response = blocking(move || receiver.send(&body("store_down_1"), now(), SECRET)).await;
                assert_eq!(response.status, 503, "{response:?}");
                assert_eq!(response.json()["error"], "store_unavailable", "{response:?}");
                assert_eq!(response.header("retry-after"), Some("30"), "{response:?}");
                assert!(server.calls().is_empty());
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_unreachable_store_failing_open_calls_the_handler() {
                let server = start_with(Dedup::new(UnreachableStore).on_store_error(OnStoreError::FailOpen)).await;
                let receiver = server.receiver.clone();
                let response = blocking(move || receiver.send(&body("store_down_2"), now(), SECRET)).await;
                assert_handled(&response);
                assert_eq!(server.calls_of("store_down_2"), 1);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn two_thousand_concurrent_deliveries_are_each_handled_once() {
                let server = start().await;
                let receiver = server.receiver.clone();
                let mut sent = blocking(move || receiver.check_concurrent_deliveries(2000, 8)).await;
                let mut calls = server.calls();
                assert_eq!(sent.len(), 2000);
                sent.sort_by(|a, b| a.id.cmp(&b.id));
                calls.sort_by(|a, b| a.id.cmp(&b.id));
                assert_eq!(calls, sent);
            }
        }
    };
}
