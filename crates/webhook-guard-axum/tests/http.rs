//! The extractors in a real axum server, driven by the shared conformance suite over loopback:
//! `VerifiedWebhook<P>` alone, and `Webhook<P>` behind the tower layer.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use webhook_guard::Verifier;
use webhook_guard::providers::Botdog;
use webhook_guard_axum::{VerifiedWebhook, Webhook, WebhookLayer};
use webhook_guard_test_support::conformance::{BotdogReceiver, Expected};

const SECRET: &str = "whsec_axum_test_secret";
const PATH: &str = "/webhooks/botdog";

type Seen = Arc<Mutex<Vec<Expected>>>;

#[derive(Clone, FromRef)]
struct AppState {
    verifier: Verifier<Botdog>,
    seen: Seen,
}

/// Behind the layer: the delivery it admitted.
async fn record(State(seen): State<Seen>, Webhook(delivery): Webhook<Botdog>) -> &'static str {
    let expected = Expected { id: delivery.id().to_owned(), event_type: delivery.event_type().to_owned() };
    seen.lock().unwrap().push(expected);
    "ok"
}

/// Alone: verified by the extractor with the state's verifier.
async fn record_verified(State(seen): State<Seen>, VerifiedWebhook(delivery): VerifiedWebhook<Botdog>) -> &'static str {
    let expected = Expected { id: delivery.id().to_owned(), event_type: delivery.event_type().to_owned() };
    seen.lock().unwrap().push(expected);
    "ok"
}

fn verifier(secret: &str) -> Verifier<Botdog> {
    Verifier::builder(Botdog::new()).secret(secret).build().unwrap()
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Runs the status table, then 2,000 deliveries from 8 clients, checking what the handler saw.
async fn check(addr: SocketAddr, seen: &Seen) {
    let receiver = BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() };
    let table = receiver.clone();
    let expected = tokio::task::spawn_blocking(move || table.check_status_table()).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), expected, "the handler sees exactly the valid deliveries, in order");

    seen.lock().unwrap().clear();
    let mut sent = tokio::task::spawn_blocking(move || receiver.check_concurrent_deliveries(2000, 8)).await.unwrap();
    let mut handled = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 2000);
    sent.sort_by(|a, b| a.id.cmp(&b.id));
    handled.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(handled, sent, "every delivery reaches the handler exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extractor_alone_answers_the_status_table() {
    let seen = Seen::default();
    let state = AppState { verifier: verifier(SECRET), seen: Arc::clone(&seen) };
    let addr = serve(Router::new().route(PATH, post(record_verified)).with_state(state)).await;
    check(addr, &seen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_layer_the_extractor_does_not_verify_again() {
    let seen = Seen::default();
    // The state's verifier has another secret: a delivery that passes proves the extractor used
    // the delivery the layer verified instead of verifying again.
    let state = AppState { verifier: verifier("not-the-senders-secret"), seen: Arc::clone(&seen) };
    let router =
        Router::new().route(PATH, post(record)).route_layer(WebhookLayer::new(verifier(SECRET))).with_state(state);
    check(serve(router).await, &seen).await;
}

/// Runs `check` (one of the shared hostile-input checks) against the extractor alone, then behind
/// the layer.
async fn check_both<T: Send + 'static>(check: fn(&BotdogReceiver) -> T) -> Vec<T> {
    let seen = Seen::default();
    let state = AppState { verifier: verifier(SECRET), seen: Arc::clone(&seen) };
    let alone = serve(Router::new().route(PATH, post(record_verified)).with_state(state.clone())).await;
    let layered = Router::new().route(PATH, post(record)).route_layer(WebhookLayer::new(verifier(SECRET)));
    let layered = serve(layered.with_state(state)).await;
    let mut outcomes = Vec::new();
    for addr in [alone, layered] {
        let receiver = BotdogReceiver { addr, path: PATH.to_owned(), secret: SECRET.to_owned() };
        outcomes.push(tokio::task::spawn_blocking(move || check(&receiver)).await.unwrap());
    }
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|e| e.id.starts_with("alive_")), "only liveness deliveries are handled: {seen:?}");
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_written_before_reading_gets_its_413_then_the_connection_closes() {
    for answer in check_both(BotdogReceiver::check_oversized_body_written_first).await.concat() {
        assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_announced_with_expect_continue_gets_413_without_100_continue() {
    for answers in check_both(BotdogReceiver::check_oversized_body_expecting_continue).await {
        assert_eq!(answers.iter().map(|answer| answer.status).collect::<Vec<_>>(), [413], "{answers:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_stop_is_cut_within_the_discard_bounds() {
    check_both(BotdogReceiver::check_endless_body_is_cut).await;
}
