//! A Botdog receiver on hyper with the tower layer, no framework.
//! `WEBHOOK_SECRET=… ADDR=127.0.0.1:3000 cargo run -p tower-receiver`, then point Botdog at
//! `POST /webhooks/botdog`. Each event is printed as one JSON line on stdout, once: duplicates are
//! answered by the layer without reaching the handler.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{Layer, ServiceExt, service_fn};
use webhook_guard::providers::Botdog;
use webhook_guard::{Dedup, Guard, MemoryStore, Verifier};
use webhook_guard_tower::{Delivered, WebhookLayer};

fn status(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}

/// Processes one verified delivery; a non-2xx answer makes Botdog retry it.
async fn botdog(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(delivery) = request.extensions().get::<Delivered<Botdog>>() else {
        return Ok(status(StatusCode::INTERNAL_SERVER_ERROR)); // not behind the layer
    };
    let line = serde_json::json!({ "id": delivery.id(), "event_type": delivery.event_type() });
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    Ok(status(if printed.is_ok() { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR }))
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
    let guard = Guard::new(verifier).with_dedup(Dedup::new(MemoryStore::default())).map_err(std::io::Error::other)?;
    let webhooks = WebhookLayer::new(guard).layer(service_fn(botdog));
    // Only `POST /webhooks/botdog` is verified and handled; anything else is a 404.
    let app = service_fn(move |request: Request<Incoming>| {
        let webhooks = webhooks.clone();
        async move {
            match (request.method(), request.uri().path()) {
                (&Method::POST, "/webhooks/botdog") => webhooks.oneshot(request).await,
                _ => Ok(status(StatusCode::NOT_FOUND)),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    tracing::info!("listening on {}", listener.local_addr()?);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset while queued: keep serving.
                tracing::warn!("accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            // Half-close: answer clients that shut their write side down after the request.
            let connection = http1::Builder::new().half_close(true).serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
        });
    }
}
