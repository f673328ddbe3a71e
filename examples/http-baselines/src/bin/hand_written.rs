//! The hand-written verifying handler on axum (see the crate's library for what it checks), for
//! the HTTP benchmark: `WEBHOOK_SECRET=… ADDR=127.0.0.1:3000 cargo run --release -p http-baselines --bin hand_written`

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use http_baselines::{Key, handle, key};

async fn botdog(State(key): State<Arc<Key>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get("x-webhook-signature").map(|value| value.as_bytes());
    StatusCode::from_u16(handle(&key, signature, &body)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let key = key(&std::env::var("WEBHOOK_SECRET").unwrap_or_default())?;
    let app = Router::new().route("/webhooks/botdog", post(botdog)).with_state(Arc::new(key));
    let listener = tokio::net::TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
