//! Deduplication over real HTTP: the layer with a `MemoryStore` (or a store that always fails)
//! behind hyper's HTTP/1 server on a free loopback port, driven by the shared conformance client.
//! The scenarios are shared with axum (`webhook_guard_test_support::dedup_scenarios`); an inner
//! service that fails is tower's own.
#![allow(clippy::unwrap_used)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{Layer, service_fn};
use webhook_guard::providers::Botdog;
use webhook_guard::{Dedup, MemoryStore};
use webhook_guard_test_support::dedup_scenarios::{
    Calls, PATH, SECRET, Server, assert_handled, blocking, body, guard, now, record, respond, signed_headers,
};
use webhook_guard_test_support::http_client::post;
use webhook_guard_tower::{Delivered, WebhookLayer};

/// The scenarios' handler, plus: `error_once_` fails with an error the first time.
async fn handle(calls: Calls, request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, io::Error> {
    let delivery = request.extensions().get::<Delivered<Botdog>>().unwrap();
    let first = record(&calls, delivery.id(), delivery.event_type());
    if delivery.id().starts_with("error_once_") && first {
        return Err(io::Error::other("the inner service fails"));
    }
    let mut response = Response::new(Full::default());
    *response.status_mut() = respond(delivery.id(), first).await;
    Ok(response)
}

/// Serves the layer with `dedup` around the handler, one connection per task, until the test's
/// runtime stops.
async fn start_with(dedup: Dedup) -> Server {
    let calls = Calls::default();
    let handler_calls = Arc::clone(&calls);
    let service =
        WebhookLayer::new(guard(dedup)).layer(service_fn(move |request| handle(Arc::clone(&handler_calls), request)));
    Server::new(serve(service).await, calls)
}

/// Serves `service` on a free loopback port, one connection per task, until the test's runtime
/// stops.
async fn serve<S>(service: S) -> SocketAddr
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<Full<Bytes>>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: std::error::Error + Send + Sync,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    addr
}

webhook_guard_test_support::dedup_scenarios!();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_of_the_inner_service_releases_the_claim() {
    let server = start_with(Dedup::new(MemoryStore::default())).await;
    let receiver = server.receiver.clone();
    let (first, retry) = blocking(move || {
        let body = body("error_once_1");
        let first = post(receiver.addr, PATH, &signed_headers(&body), &body);
        (first, receiver.send(&body, now(), SECRET))
    })
    .await;
    // hyper closes the connection of a service that fails: no answer.
    assert!(first.is_err(), "{first:?}");
    // Released before the connection closed: the retry is handled at once.
    assert_handled(&retry);
    assert_eq!(server.calls_of("error_once_1"), 2);
}

/// A handler that takes the claim over (as a transaction completing it would) and answers 204
/// without committing: the layer must release the claim, not complete it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_handed_over_and_never_completed_is_released_despite_the_2xx() {
    let calls = Calls::default();
    let handler_calls = Arc::clone(&calls);
    let handler = service_fn(move |request: Request<Full<Bytes>>| {
        let calls = Arc::clone(&handler_calls);
        async move {
            let delivery = request.extensions().get::<Delivered<Botdog>>().unwrap();
            record(&calls, delivery.id(), delivery.event_type());
            let held = request.extensions().get::<webhook_guard::HeldClaim>().expect("the layer puts the claim in");
            assert_eq!(held.key(), format!("webhook-guard:botdog:{}", delivery.id()));
            assert!(held.hand_over());
            Ok::<_, io::Error>(Response::builder().status(204).body(Full::<Bytes>::default()).unwrap())
        }
    });
    let service = WebhookLayer::new(guard(Dedup::new(MemoryStore::default()))).layer(handler);
    let server = Server::new(serve(service).await, calls);
    let receiver = server.receiver.clone();
    let (first, retry) = blocking(move || {
        let body = body("handed_over_1");
        (receiver.send(&body, now(), SECRET), receiver.send(&body, now(), SECRET))
    })
    .await;
    assert_handled(&first);
    // Had the layer completed the claim on the 204, the retry would be a 200 duplicate.
    assert_handled(&retry);
    assert_eq!(server.calls_of("handed_over_1"), 2);
}
