//! The extractor over real HTTP: an actix-web server on a free loopback port, the shared
//! conformance client (the whole status table, 3 MiB bodies, a body that stops halfway, bodies
//! that do not stop, 2,000 concurrent deliveries), config lookup, the error handler, the read
//! timeout, and which answers end the connection and which keep it alive.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::error::InternalError;
use actix_web::{App, HttpResponse, HttpServer, web};
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{DISCARD_MAX_TIME, RejectionKind, Verifier, VerifyErrorKind};
use webhook_guard_actix::{Webhook, WebhookConfig};
use webhook_guard_test_support::conformance::{BotdogReceiver, Expected};
use webhook_guard_test_support::http_client::{HttpResponse as ClientResponse, read_response};

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

#[actix_web::test]
async fn bodies_that_do_not_stop_are_cut() {
    check_extractor(BotdogReceiver::check_endless_body_is_cut).await;
}

/// The 413 of a chunked body that goes on after it: an empty answer from the error handler. actix-web
/// never polls an empty response body, so this is the case where the extractor must announce a
/// stream to keep reading (and discarding) the rest itself; otherwise actix-http lingers, reading
/// without a byte limit, and swallows the 64 MiB.
#[actix_web::test]
async fn bodies_that_do_not_stop_are_cut_after_an_empty_custom_answer() {
    let server = Server::start(|cfg| {
        cfg.app_data(config().error_handler(|rejection, _request| {
            InternalError::from_response(rejection, HttpResponse::PayloadTooLarge().finish()).into()
        }));
    });
    let receiver = server.receiver.clone();
    blocking(move || receiver.check_endless_body_is_cut()).await;
    server.stop().await;
}

/// The head of a chunked, keep-alive POST to `PATH` (as `http.client` and most SDKs send one).
fn chunked_head(addr: SocketAddr) -> Vec<u8> {
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Webhook-Signature: t=1,s=00\r\n\r\n"
    )
    .into_bytes()
}

/// What a client that writes `head` and then a 256-byte chunk every 50 ms, for as long as the
/// server lets it, saw: the answer, and how long after the answer's first byte the server ended the
/// connection (`None`: still open after `give_up`). The pace is never idle long enough, nor fast
/// enough, to meet any bound but the time one.
fn trickle_chunks(addr: SocketAddr, head: &[u8], give_up: Duration) -> (ClientResponse, Option<Duration>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    stream.write_all(head).unwrap();
    let mut chunk = b"100\r\n".to_vec();
    chunk.extend_from_slice(&[b' '; 256]);
    chunk.extend_from_slice(b"\r\n");
    let started = Instant::now();
    let (mut raw, mut answered) = (Vec::new(), None);
    let mut buffer = [0u8; 4096];
    let closed = loop {
        if stream.write_all(&chunk).is_err() {
            break true;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break true,
            Ok(n) => {
                answered.get_or_insert_with(Instant::now);
                raw.extend_from_slice(&buffer[..n]);
            }
            Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
        if started.elapsed() > give_up {
            break false;
        }
    };
    let answered = answered.unwrap_or_else(|| panic!("no answer in {:?}", started.elapsed()));
    let response = read_response(&mut &raw[..], &mut Vec::new()).unwrap();
    (response, closed.then(|| answered.elapsed()))
}

/// How soon after its answer the server must end a connection whose body goes on: the core's
/// discard bound, plus a second for a loaded machine.
const CUT_WITHIN: Duration = DISCARD_MAX_TIME.saturating_add(Duration::from_secs(1));

/// Starts a server, trickles a chunked body at it, and returns what the client saw.
async fn trickle_against<F>(configure: F) -> (ClientResponse, Option<Duration>)
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let server = Server::start(configure);
    let addr = server.receiver.addr;
    let seen = blocking(move || trickle_chunks(addr, &chunked_head(addr), Duration::from_secs(10))).await;
    assert!(server.take_seen().is_empty());
    server.stop().await;
    seen
}

/// The answer said `Connection: close`, and the server closed the connection within [`CUT_WITHIN`]
/// while the client was still sending.
fn assert_ends_connection(response: &ClientResponse, closed_after: Option<Duration>) {
    let closed_after = closed_after.unwrap_or_else(|| panic!("the connection was still open after 10 s: {response:?}"));
    assert!(closed_after < CUT_WITHIN, "closed {closed_after:?} after the answer: {response:?}");
    assert_eq!(response.header("connection"), Some("close"), "{response:?}");
}

#[actix_web::test]
async fn a_chunked_body_that_goes_on_after_its_413_is_cut() {
    let (response, closed_after) = trickle_against(|cfg| {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).body_limit(1024);
        cfg.app_data(WebhookConfig::new(verifier.build().unwrap()));
    })
    .await;
    assert_eq!(response.status, 413, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&response.body),
        r#"{"error":"body_too_large","message":"body is larger than the limit of 1024 bytes"}"#
    );
    assert_ends_connection(&response, closed_after);
}

#[actix_web::test]
async fn a_chunked_body_that_goes_on_after_its_read_timeout_is_cut() {
    let (response, closed_after) = trickle_against(|cfg| {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).read_timeout(Duration::from_millis(300));
        cfg.app_data(WebhookConfig::new(verifier.build().unwrap()));
    })
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(
        String::from_utf8_lossy(&response.body),
        r#"{"error":"body_unreadable","message":"the body could not be read: the body was not received within the read timeout"}"#
    );
    assert_ends_connection(&response, closed_after);
}

#[actix_web::test]
async fn the_error_handler_s_answer_to_a_413_ends_the_connection_too() {
    let (response, closed_after) = trickle_against(|cfg| {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).body_limit(1024).build().unwrap();
        cfg.app_data(WebhookConfig::new(verifier).error_handler(|rejection, _request| {
            InternalError::from_response(rejection, HttpResponse::ImATeapot().body("no")).into()
        }));
    })
    .await;
    assert_eq!((response.status, &response.body[..]), (418, &b"no"[..]), "{response:?}");
    assert_ends_connection(&response, closed_after);
}

/// The body is not read at all: the 500 must not leave actix-http reading it to its end.
#[actix_web::test]
async fn a_missing_config_s_500_ends_the_connection() {
    let (response, closed_after) = trickle_against(|_| {}).await;
    assert_eq!(response.status, 500, "{response:?}");
    assert_ends_connection(&response, closed_after);
}

/// A signed keep-alive POST of `body` to `PATH`, with `Content-Length`, or chunked.
fn signed_request(addr: SocketAddr, body: &[u8], secret: &str, chunked: bool) -> Vec<u8> {
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[secret]).unwrap();
    let mut request = format!("POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n");
    for (name, value) in signer.sign_delivery(body, now(), "", None).headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut request = if chunked {
        request.push_str("Transfer-Encoding: chunked\r\n\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(&webhook_guard_test_support::http_client::chunked(body));
        request
    } else {
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        request.into_bytes()
    };
    if !chunked {
        request.extend_from_slice(body);
    }
    request
}

/// Answers after a body read to its end, 2xx or not, keep the connection: one connection carries a
/// delivery, a refused one (401), chunked ones, and the server still answers on it.
#[actix_web::test]
async fn answers_after_a_fully_read_body_keep_the_connection_alive() {
    let server = Server::start(|cfg| {
        cfg.app_data(config());
    });
    let addr = server.receiver.addr;
    let statuses = blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buffered = Vec::new();
        let requests = [
            (BotdogReceiver::valid_body("kept_1", "LEAD_MESSAGE_SENT"), SECRET, false),
            (BotdogReceiver::valid_body("kept_2", "LEAD_MESSAGE_SENT"), "wrong", false),
            (BotdogReceiver::valid_body("kept_3", "LEAD_MESSAGE_SENT"), SECRET, true),
            (BotdogReceiver::valid_body("kept_4", "LEAD_MESSAGE_SENT"), "wrong", true),
            (BotdogReceiver::valid_body("kept_5", "LEAD_MESSAGE_SENT"), SECRET, false),
        ];
        let mut statuses = Vec::new();
        for (body, secret, chunked) in requests {
            let request = signed_request(addr, &body, secret, chunked);
            stream.write_all(&request).unwrap_or_else(|error| panic!("after {statuses:?}: {error}"));
            let response = read_response(&mut stream, &mut buffered)
                .unwrap_or_else(|error| panic!("after {statuses:?}: no answer on the same connection: {error}"));
            assert_eq!(response.header("connection"), None, "{response:?}");
            statuses.push(response.status);
        }
        // And the server has not closed it since: nothing more to read within 200 ms.
        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut rest = [0u8; 64];
        let idle = stream.read(&mut rest);
        assert!(
            idle.as_ref().is_err_and(|error| matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )),
            "{idle:?}"
        );
        statuses
    })
    .await;
    assert_eq!(statuses, [204, 401, 204, 401, 204]);
    let ids: Vec<String> = server.take_seen().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["kept_1", "kept_3", "kept_5"]);
    server.stop().await;
}
