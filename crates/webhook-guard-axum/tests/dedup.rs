//! Deduplication over real HTTP in axum: `WebhookLayer` with a `MemoryStore` (or a store that
//! always fails) on the route, the `Webhook<Botdog>` extractor in the handler, `axum::serve` on a
//! free loopback port, driven by the shared conformance client. The scenarios are the tower
//! layer's (`webhook_guard_test_support::dedup_scenarios`); a route without the layer is axum's
//! own.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use webhook_guard::providers::Botdog;
use webhook_guard::{Dedup, MemoryStore};
use webhook_guard_axum::{Webhook, WebhookLayer};
use webhook_guard_test_support::dedup_scenarios::{
    Calls, PATH, SECRET, Server, blocking, body, guard, now, record, respond,
};

async fn handle(State(calls): State<Calls>, Webhook(delivery): Webhook<Botdog>) -> StatusCode {
    let first = record(&calls, delivery.id(), delivery.event_type());
    respond(delivery.id(), first).await
}

/// Serves the handler behind `WebhookLayer` deduplicating with `dedup`, or without the layer.
async fn serve(dedup: Dedup, layer: bool) -> Server {
    let guard = guard(dedup);
    let calls = Calls::default();
    let mut router = Router::new().route(PATH, post(handle));
    if layer {
        router = router.route_layer(WebhookLayer::new(guard));
    }
    let router = router.with_state(Arc::clone(&calls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Server::new(addr, calls)
}

async fn start_with(dedup: Dedup) -> Server {
    serve(dedup, true).await
}

webhook_guard_test_support::dedup_scenarios!();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dedup_without_the_layer_is_a_500_and_the_handler_is_not_called() {
    let server = serve(Dedup::new(MemoryStore::default()), false).await;
    let receiver = server.receiver.clone();
    let response = blocking(move || receiver.send(&body("unlayered_1"), now(), SECRET)).await;
    assert_eq!(response.status, 500, "{response:?}");
    assert!(server.calls().is_empty());
}
