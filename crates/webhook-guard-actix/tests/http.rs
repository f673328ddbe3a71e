//! The extractor over real HTTP: an actix-web server on a free loopback port, the shared
//! conformance client (the whole status table, 3 MiB bodies, a body that stops halfway, 2,000
//! concurrent deliveries), config lookup, the error handler and the read timeout.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::error::InternalError;
use actix_web::{App, HttpResponse, HttpServer, web};
use webhook_guard::providers::Botdog;
use webhook_guard::{RejectionKind, Verifier, VerifyErrorKind};
use webhook_guard_actix::{Webhook, WebhookConfig};
use webhook_guard_test_support::conformance::{BotdogReceiver, Expected};

const SECRET: &str = "whsec_actix_http_test";
const PATH: &str = "/webhooks/botdog";

type Seen = web::Data<Mutex<Vec<Expected>>>;

/// Records what the handler received, then answers 204.
async fn record(Webhook(delivery): Webhook<Botdog>, seen: Seen) -> HttpResponse {
    let expected = Expected { id: delivery.id().to_owned(), event_type: delivery.event_type().to_owned() };
    seen.lock().unwrap().push(expected);
    HttpResponse::NoContent().finish()
}

fn config() -> WebhookConfig<Botdog> {
    WebhookConfig::new(Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap())
}

struct Server {
    receiver: BotdogReceiver,
    seen: Seen,
    handle: ServerHandle,
}

impl Server {
    /// Starts a server whose app data is set up by `configure`, with the recording handler at `PATH`.
    fn start<F>(configure: F) -> Self
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let seen: Seen = web::Data::new(Mutex::new(Vec::new()));
        let app_seen = seen.clone();
        let server = HttpServer::new(move || {
            App::new().configure(configure.clone()).app_data(app_seen.clone()).route(PATH, web::post().to(record))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let receiver = BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() };
        Self { receiver, seen, handle }
    }

    fn take_seen(&self) -> Vec<Expected> {
        std::mem::take(&mut *self.seen.lock().unwrap())
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

#[actix_web::test]
async fn the_status_table_over_http() {
    let server = Server::start(|cfg| {
        cfg.app_data(config());
    });
    let receiver = server.receiver.clone();
    let expected = blocking(move || receiver.check_status_table()).await;
    assert_eq!(server.take_seen(), expected, "the handler must see exactly the accepted deliveries, in order");
    server.stop().await;
}

#[actix_web::test]
async fn two_thousand_concurrent_deliveries_each_seen_once() {
    let server = Server::start(|cfg| {
        cfg.app_data(config());
    });
    let receiver = server.receiver.clone();
    let mut sent = blocking(move || receiver.check_concurrent_deliveries(2000, 8)).await;
    let mut seen = server.take_seen();
    assert_eq!(sent.len(), 2000);
    let key = |e: &Expected| e.id.clone();
    sent.sort_by_key(key);
    seen.sort_by_key(key);
    assert_eq!(seen, sent);
    server.stop().await;
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

#[actix_web::test]
async fn the_config_is_also_found_as_web_data() {
    let server = Server::start(|cfg| {
        cfg.app_data(web::Data::new(config()));
    });
    let receiver = server.receiver.clone();
    let (accepted, refused) = blocking(move || {
        let body = BotdogReceiver::valid_body("data_1", "LEAD_MESSAGE_SENT");
        (receiver.send(&body, now(), SECRET), receiver.send(&body, now(), "wrong"))
    })
    .await;
    assert_eq!(accepted.status, 204, "{accepted:?}");
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.json()["error"], "signature_mismatch");
    assert_eq!(server.take_seen(), [Expected { id: "data_1".into(), event_type: "LEAD_MESSAGE_SENT".into() }]);
    server.stop().await;
}

#[actix_web::test]
async fn the_error_handler_replaces_the_answer() {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let log = handled.clone();
    let server = Server::start(move |cfg| {
        let log = log.clone();
        cfg.app_data(config().error_handler(move |rejection, request| {
            log.lock().unwrap().push((rejection.kind(), request.path().to_owned()));
            InternalError::from_response(rejection, HttpResponse::ImATeapot().body("no")).into()
        }));
    });
    let receiver = server.receiver.clone();
    let response =
        blocking(move || receiver.send(&BotdogReceiver::valid_body("teapot_1", "LEAD_MESSAGE_SENT"), now(), "wrong"))
            .await;
    assert_eq!(response.status, 418, "{response:?}");
    assert_eq!(response.body, b"no");
    let kind = RejectionKind::Verify(VerifyErrorKind::SignatureMismatch);
    assert_eq!(*handled.lock().unwrap(), [(kind, PATH.to_owned())]);
    assert!(server.take_seen().is_empty());
    server.stop().await;
}

#[actix_web::test]
async fn a_missing_config_is_a_500() {
    let server = Server::start(|_| {});
    let receiver = server.receiver.clone();
    let response =
        blocking(move || receiver.send(&BotdogReceiver::valid_body("orphan_1", "LEAD_MESSAGE_SENT"), now(), SECRET))
            .await;
    assert_eq!(response.status, 500, "{response:?}");
    assert!(server.take_seen().is_empty());
    server.stop().await;
}

/// Sends the head of a request and one byte of its body, then stalls with the connection open.
fn send_one_byte_and_stall(addr: SocketAddr) -> (Vec<u8>, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 100\r\nX-Webhook-Signature: t=1,s=00\r\n\r\n{{"
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = Vec::new();
    // A reset after the answer is the server closing: what was read so far is the answer.
    let _ = stream.read_to_end(&mut response);
    (response, started.elapsed())
}

#[actix_web::test]
async fn a_stalled_body_times_out() {
    let server = Server::start(|cfg| {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).read_timeout(Duration::from_millis(300));
        cfg.app_data(WebhookConfig::new(verifier.build().unwrap()));
    });
    let addr = server.receiver.addr;
    let (response, elapsed) = blocking(move || send_one_byte_and_stall(addr)).await;
    assert!(elapsed < Duration::from_secs(5), "the read timeout did not fire: {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(300), "answered before the timeout: {elapsed:?}");
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.is_empty() || (response.starts_with("HTTP/1.1 400") && response.contains("body_unreadable")),
        "{response}"
    );
    assert!(server.take_seen().is_empty());
    server.stop().await;
}

/// Runs `check` (one of the shared hostile-input checks) against the extractor.
async fn check_extractor<T: Send + 'static>(check: fn(&BotdogReceiver) -> T) -> T {
    let server = Server::start(|cfg| {
        cfg.app_data(config());
    });
    let receiver = server.receiver.clone();
    let outcome = blocking(move || check(&receiver)).await;
    let seen = server.take_seen();
    assert!(seen.iter().all(|e| e.id.starts_with("alive_")), "only liveness deliveries are handled: {seen:?}");
    server.stop().await;
    outcome
}

#[actix_web::test]
async fn an_oversized_body_written_before_reading_gets_its_413() {
    check_extractor(BotdogReceiver::check_oversized_body_written_first).await;
}

#[actix_web::test]
async fn an_oversized_body_announced_with_expect_continue_gets_413() {
    // actix-web answers `100 Continue` before the extractor runs, then 413 once the body is sent.
    check_extractor(BotdogReceiver::check_oversized_body_expecting_continue).await;
}
