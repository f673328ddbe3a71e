//! A Botdog receiver on axum. `WEBHOOK_SECRET=… ADDR=127.0.0.1:3000 cargo run -p axum-receiver`,
//! then point Botdog at `POST /webhooks/botdog`; with `REDIS_URL=redis://…`, several instances
//! share the ids they have processed. Each event is printed as one JSON line on stdout,
//! once: duplicates are answered by the layer without reaching the handler.

use std::io::Write;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use webhook_guard::providers::Botdog;
use webhook_guard::{Dedup, Guard, MemoryStore, Verifier};
use webhook_guard_axum::{Webhook, WebhookLayer};
use webhook_guard_redis::RedisStore;

/// Processes one verified delivery; a non-2xx answer makes Botdog retry it.
async fn botdog(Webhook(delivery): Webhook<Botdog>) -> StatusCode {
    let line = serde_json::json!({ "id": delivery.id(), "event_type": delivery.event_type() });
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn verifier() -> Result<Verifier<Botdog>, String> {
    let secret = std::env::var("WEBHOOK_SECRET").map_err(|_| "set WEBHOOK_SECRET to the Botdog secret".to_owned())?;
    let builder = Verifier::builder(Botdog::new()).secret(&secret).read_timeout(read_timeout());
    builder.build().map_err(|error| format!("WEBHOOK_SECRET: {error}"))
}

/// The whole body must arrive within this (default 30 s): a trickling client is cut off.
fn read_timeout() -> std::time::Duration {
    std::env::var("READ_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(webhook_guard::DEFAULT_READ_TIMEOUT, std::time::Duration::from_secs)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let verifier = verifier().unwrap_or_else(|error| {
        eprintln!("error: {error}");
        std::process::exit(2)
    });
    // One instance remembers ids in memory; several share them through Redis (`REDIS_URL`).
    // `DEDUP=off` leaves deduplication out (every delivery reaches the handler): only for
    // scripts/bench-http.sh, which measures what verification costs without it.
    let guard = Guard::new(verifier);
    let guard = match (std::env::var("DEDUP").as_deref(), std::env::var("REDIS_URL")) {
        (Ok("off"), _) => guard,
        (_, Ok(url)) => {
            let store = RedisStore::connect(&url).await.unwrap_or_else(|error| {
                eprintln!("error: REDIS_URL: {error}");
                std::process::exit(2)
            });
            guard.with_dedup(Dedup::new(store)).map_err(std::io::Error::other)?
        }
        (_, Err(_)) => guard.with_dedup(Dedup::new(MemoryStore::default())).map_err(std::io::Error::other)?,
    };
    let app = Router::new().route("/webhooks/botdog", post(botdog)).route_layer(WebhookLayer::new(guard));
    let listener = tokio::net::TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    tracing::info!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
