//! The layer behind a real hyper server, driven by the shared conformance suite over loopback.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{Layer, Service, service_fn};
use webhook_guard::providers::Botdog;
use webhook_guard::{Rejection, Verifier};
use webhook_guard_test_support::conformance::{BotdogReceiver, Expected};
use webhook_guard_test_support::http_client::post;
use webhook_guard_tower::{Delivered, WebhookLayer};

const SECRET: &str = "whsec_tower_test_secret";
const PATH: &str = "/webhooks/botdog";

type Seen = Arc<Mutex<Vec<Expected>>>;

fn verifier() -> Verifier<Botdog> {
    Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap()
}

/// A handler that records every delivery it is handed, and checks that the body it can still read
/// is the one that was verified.
fn recording_handler(
    seen: Seen,
) -> impl Service<Request<Full<Bytes>>, Response = Response<Full<Bytes>>, Error = Infallible, Future: Send> + Clone {
    service_fn(move |request: Request<Full<Bytes>>| {
        let seen = Arc::clone(&seen);
        async move {
            let delivery = request.extensions().get::<Delivered<Botdog>>().cloned().unwrap();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body, delivery.body());
            let expected = Expected { id: delivery.id().to_owned(), event_type: delivery.event_type().to_owned() };
            seen.lock().unwrap().push(expected);
            Ok::<_, Infallible>(Response::new(Full::from("ok")))
        }
    })
}

/// Serves `service` on a free loopback port with hyper's HTTP/1 server.
async fn serve<S>(service: S) -> SocketAddr
where
    S: Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            // Half-close: the conformance client shuts its write side down once the request is sent;
            // hyper's default would end the connection on that EOF before answering.
            let connection = http1::Builder::new().half_close(true).serve_connection(TokioIo::new(stream), service);
            tokio::spawn(connection);
        }
    });
    addr
}

fn receiver(addr: SocketAddr) -> BotdogReceiver {
    BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_table_and_concurrent_deliveries_over_http() {
    let seen = Seen::default();
    let addr = serve(WebhookLayer::new(verifier()).layer(recording_handler(Arc::clone(&seen)))).await;

    let receiver = receiver(addr);
    let expected = tokio::task::spawn_blocking(move || receiver.check_status_table()).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), expected, "the handler sees exactly the valid deliveries, in order");

    seen.lock().unwrap().clear();
    let receiver = self::receiver(addr);
    let mut sent = tokio::task::spawn_blocking(move || receiver.check_concurrent_deliveries(2000, 8)).await.unwrap();
    let mut handled = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 2000);
    sent.sort_by(|a, b| a.id.cmp(&b.id));
    handled.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(handled, sent, "every delivery reaches the handler exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rejection_response_is_pluggable() {
    let seen = Seen::default();
    let layer = WebhookLayer::new(verifier()).on_rejection(|rejection: &Rejection| {
        let mut response = Response::new(Full::from(format!("nope: {}", rejection.kind().as_str())));
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    });
    let addr = serve(layer.layer(recording_handler(Arc::clone(&seen)))).await;

    let response = tokio::task::spawn_blocking(move || {
        let body = BotdogReceiver::valid_body("custom_1", "LEAD_PROFILE_VISITED");
        post(addr, PATH, &[], &body).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(response.status, 403);
    assert_eq!(response.body, b"nope: missing_signature");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stalls_is_cut_off_by_the_read_timeout() {
    let seen = Seen::default();
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).read_timeout(Duration::from_millis(300));
    let layer = WebhookLayer::new(verifier.build().unwrap());
    let addr = serve(layer.layer(recording_handler(Arc::clone(&seen)))).await;

    let (raw, elapsed) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!("POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n{{");
        stream.write_all(head.as_bytes()).unwrap();
        // Stall: the other 99 bytes never come, and the write side stays open.
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        (String::from_utf8_lossy(&raw).into_owned(), started.elapsed())
    })
    .await
    .unwrap();

    assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(raw.starts_with("HTTP/1.1 400 "), "{raw}");
    assert!(raw.contains(r#""error":"body_unreadable""#), "{raw}");
    assert!(seen.lock().unwrap().is_empty());
}

/// Runs `check` (one of the shared hostile-input checks) against the layer behind hyper.
async fn check_layer<T: Send + 'static>(check: fn(&BotdogReceiver) -> T) -> T {
    let seen = Seen::default();
    let addr = serve(WebhookLayer::new(verifier()).layer(recording_handler(Arc::clone(&seen)))).await;
    let receiver = receiver(addr);
    let outcome = tokio::task::spawn_blocking(move || check(&receiver)).await.unwrap();
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|e| e.id.starts_with("alive_")), "only liveness deliveries are handled: {seen:?}");
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_written_before_reading_gets_its_413_then_the_connection_closes() {
    for answer in check_layer(BotdogReceiver::check_oversized_body_written_first).await {
        assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_announced_with_expect_continue_gets_413_without_100_continue() {
    let answers = check_layer(BotdogReceiver::check_oversized_body_expecting_continue).await;
    assert_eq!(answers.iter().map(|answer| answer.status).collect::<Vec<_>>(), [413], "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_stop_is_cut_within_the_discard_bounds() {
    check_layer(BotdogReceiver::check_endless_body_is_cut).await;
}
