//! Deduplication over real HTTP: an actix-web server on a free loopback port with `WebhookDedup`
//! and a `MemoryStore` (or a store that always fails), driven by the shared conformance client.
//! The handler's behaviour is keyed by the delivery id's prefix: `fail_once_` answers 500 the
//! first time, `panic_once_` panics the first time, `slow_` takes 2 s, `handed_over_` takes the
//! claim over (from the request's extensions) and answers 204 without completing it.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::middleware::Condition;
use actix_web::{App, HttpMessage as _, HttpRequest, HttpResponse, HttpServer, web};
use tokio::io::AsyncWriteExt;
use webhook_guard::OnStoreError;
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{Dedup, Guard, HeldClaim, MemoryStore, Verifier};
use webhook_guard_actix::{Webhook, WebhookConfig, WebhookDedup};
use webhook_guard_test_support::UnreachableStore;
use webhook_guard_test_support::conformance::{BotdogReceiver, Expected};
use webhook_guard_test_support::http_client::{self, HttpResponse as ClientResponse};

const SECRET: &str = "whsec_actix_dedup_test";
const PATH: &str = "/webhooks/botdog";
const SLOW: Duration = Duration::from_secs(2);

/// Every call of the handler, in order (recorded before it fails, panics or sleeps).
type Calls = web::Data<Mutex<Vec<Expected>>>;

async fn handler(Webhook(delivery): Webhook<Botdog>, request: HttpRequest, calls: Calls) -> HttpResponse {
    let id = delivery.id().to_owned();
    if id.starts_with("handed_over_") {
        // As a transaction completing the claim would, then answering 204 without committing.
        // Read in the body: extractors all start before the `Webhook` extractor's future puts it there.
        let held = request.extensions().get::<HeldClaim>().cloned();
        let held = held.expect("the extractor puts the claim in the request's extensions");
        assert_eq!(held.key(), format!("webhook-guard:botdog:{id}"));
        assert!(held.hand_over());
    }
    let first = {
        let mut calls = calls.lock().unwrap();
        calls.push(Expected { id: id.clone(), event_type: delivery.event_type().to_owned() });
        calls.iter().filter(|call| call.id == id).count() == 1
    };
    if id.starts_with("fail_once_") && first {
        return HttpResponse::InternalServerError().finish();
    }
    if id.starts_with("panic_once_") && first {
        panic!("the handler panics on the first delivery of {id}");
    }
    if id.starts_with("slow_") {
        actix_web::rt::time::sleep(SLOW).await;
    }
    HttpResponse::NoContent().finish()
}

struct Server {
    receiver: BotdogReceiver,
    calls: Calls,
    handle: ServerHandle,
}

impl Server {
    /// Deduplicates on a fresh `MemoryStore`, wrapped in `WebhookDedup`.
    fn start() -> Self {
        Self::start_with(Dedup::new(MemoryStore::default()), true)
    }

    /// One config (so one store) shared by both workers; `wrap`: whether `WebhookDedup` is there.
    fn start_with(dedup: Dedup, wrap: bool) -> Self {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
        let config = WebhookConfig::new(Guard::new(verifier).with_dedup(dedup).unwrap());
        let calls: Calls = web::Data::new(Mutex::new(Vec::new()));
        let app_calls = calls.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(Condition::new(wrap, WebhookDedup))
                .app_data(config.clone())
                .app_data(app_calls.clone())
                .route(PATH, web::post().to(handler))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let receiver = BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() };
        Self { receiver, calls, handle }
    }

    fn calls(&self) -> Vec<Expected> {
        self.calls.lock().unwrap().clone()
    }

    fn calls_of(&self, id: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|call| call.id == id).count()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Runs blocking client code off the runtime, keeping its panic message.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match actix_web::rt::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

fn body(id: &str) -> Vec<u8> {
    BotdogReceiver::valid_body(id, "LEAD_MESSAGE_SENT")
}

fn signed_headers(body: &[u8]) -> Vec<(String, String)> {
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
    signer.sign_delivery(body, now(), "", None).headers
}

fn assert_handled(response: &ClientResponse) {
    assert_eq!(response.status, 204, "{response:?}");
    assert_eq!(response.header("webhook-guard-duplicate"), None, "{response:?}");
}

#[actix_web::test]
async fn the_status_table_holds_with_dedup_on() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let expected = blocking(move || receiver.check_status_table()).await;
    assert_eq!(server.calls(), expected);
    server.stop().await;
}

#[actix_web::test]
async fn duplicates_and_raced_copies_reach_the_handler_once() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let expected = blocking(move || receiver.check_dedup_rows("actix")).await;
    assert_eq!(server.calls(), expected);
    server.stop().await;
}

#[actix_web::test]
async fn a_failed_delivery_is_processed_on_its_retry() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    blocking(move || receiver.check_failed_delivery_is_retried("actix")).await;
    assert_eq!(server.calls_of("fail_once_actix"), 2);
    server.stop().await;
}

#[actix_web::test]
async fn a_claim_handed_over_and_never_completed_is_released_despite_the_2xx() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let (first, retry) = blocking(move || {
        let body = body("handed_over_1");
        (receiver.send(&body, now(), SECRET), receiver.send(&body, now(), SECRET))
    })
    .await;
    assert_handled(&first);
    // Had the middleware completed the claim on the 204, the retry would be a 200 duplicate.
    assert_handled(&retry);
    assert_eq!(server.calls_of("handed_over_1"), 2);
    server.stop().await;
}

#[actix_web::test]
async fn a_copy_in_flight_gets_409_with_retry_after() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let first = blocking(move || receiver.check_copy_in_flight_gets_409("slow_in_flight")).await;
    assert_handled(&first);
    assert_eq!(server.calls_of("slow_in_flight"), 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_handler_panic_releases_the_claim() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let (first, retry, third) = blocking(move || {
        let body = body("panic_once_1");
        let first = http_client::post(receiver.addr, PATH, &signed_headers(&body), &body);
        let retry = receiver.resend_while_in_flight("panic_once_1");
        (first, retry, receiver.send(&body, now(), SECRET))
    })
    .await;
    // actix-web drops the connection of a panicking handler: no answer, or a 5xx.
    assert!(first.as_ref().map_or(true, |response| response.status >= 500), "{first:?}");
    assert_handled(&retry);
    assert_eq!(third.header("webhook-guard-duplicate"), Some("completed"), "{third:?}");
    assert_eq!(server.calls_of("panic_once_1"), 2);
    server.stop().await;
}

/// Sends a signed request for `id`, waits 200 ms, then resets the connection (`SO_LINGER` 0). A
/// plain close would only half-close it, which actix-web lets the handler finish by default.
async fn send_then_reset(addr: SocketAddr, id: &str) {
    let body = body(id);
    let mut request = format!("POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in signed_headers(&body) {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    // A zero linger does not block on close (the reason the method is deprecated); `set_zero_linger`
    // needs tokio 1.50, the workspace allows 1.40.
    #[allow(deprecated)]
    stream.set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);
}

#[actix_web::test]
async fn a_dropped_request_releases_the_claim() {
    let server = Server::start();
    send_then_reset(server.receiver.addr, "slow_dropped").await;
    let receiver = server.receiver.clone();
    let retry = blocking(move || receiver.resend_while_in_flight("slow_dropped")).await;
    // Had the first request run to its end, it would have completed the claim: a 200 duplicate.
    assert_handled(&retry);
    assert_eq!(server.calls_of("slow_dropped"), 2);
    server.stop().await;
}

#[actix_web::test]
async fn an_unreachable_store_is_a_503_and_the_handler_is_not_called() {
    let server = Server::start_with(Dedup::new(UnreachableStore), true);
    let receiver = server.receiver.clone();
    let response = blocking(move || receiver.send(&body("store_down_1"), now(), SECRET)).await;
    assert_eq!(response.status, 503, "{response:?}");
    assert_eq!(response.json()["error"], "store_unavailable", "{response:?}");
    assert_eq!(response.header("retry-after"), Some("30"), "{response:?}");
    assert!(server.calls().is_empty());
    server.stop().await;
}

#[actix_web::test]
async fn an_unreachable_store_failing_open_calls_the_handler() {
    let server = Server::start_with(Dedup::new(UnreachableStore).on_store_error(OnStoreError::FailOpen), true);
    let receiver = server.receiver.clone();
    let response = blocking(move || receiver.send(&body("store_down_2"), now(), SECRET)).await;
    assert_handled(&response);
    assert_eq!(server.calls_of("store_down_2"), 1);
    server.stop().await;
}

#[actix_web::test]
async fn dedup_without_the_middleware_is_a_500_and_the_handler_is_not_called() {
    let server = Server::start_with(Dedup::new(MemoryStore::default()), false);
    let receiver = server.receiver.clone();
    let response = blocking(move || receiver.send(&body("unwrapped_1"), now(), SECRET)).await;
    assert_eq!(response.status, 500, "{response:?}");
    assert!(server.calls().is_empty());
    server.stop().await;
}

#[actix_web::test]
async fn two_thousand_concurrent_deliveries_are_each_handled_once() {
    let server = Server::start();
    let receiver = server.receiver.clone();
    let mut sent = blocking(move || receiver.check_concurrent_deliveries(2000, 8)).await;
    let mut calls = server.calls();
    assert_eq!(sent.len(), 2000);
    let key = |e: &Expected| e.id.clone();
    sent.sort_by_key(key);
    calls.sort_by_key(key);
    assert_eq!(calls, sent);
    server.stop().await;
}
