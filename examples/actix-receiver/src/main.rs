//! A Botdog receiver on actix-web: `WEBHOOK_SECRET=... [ADDR=127.0.0.1:3000] actix-receiver`.
//! Prints one JSON line per event to stdout (each event once: duplicates are answered without
//! reaching the handler); logs go to stderr.

use std::io::Write;

use actix_web::{App, HttpResponse, HttpServer, post};
use webhook_guard::{Dedup, Guard, MemoryStore, Verifier, providers::Botdog};
use webhook_guard_actix::{Webhook, WebhookConfig, WebhookDedup};

#[post("/webhooks/botdog")]
async fn botdog(Webhook(delivery): Webhook<Botdog>) -> HttpResponse {
    let line = serde_json::json!({"id": delivery.id(), "event_type": delivery.event_type()});
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => HttpResponse::NoContent().finish(),
        // Not processed: a non-2xx makes the sender retry.
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init();
    let secret = std::env::var("WEBHOOK_SECRET").unwrap_or_default();
    // The whole body must arrive within the read timeout (default 30 s): a trickling client is cut off.
    let read_timeout = std::env::var("READ_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(webhook_guard::DEFAULT_READ_TIMEOUT, std::time::Duration::from_secs);
    let verifier = match Verifier::builder(Botdog::new()).secret(&secret).read_timeout(read_timeout).build() {
        Ok(verifier) => verifier,
        Err(error) => {
            eprintln!("WEBHOOK_SECRET must hold the Botdog webhook secret: {error}");
            std::process::exit(2);
        }
    };
    // Each event once; one config cloned into every worker, so they share one store.
    let guard = Guard::new(verifier).with_dedup(Dedup::new(MemoryStore::default())).map_err(std::io::Error::other)?;
    let config = WebhookConfig::new(guard);
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let server = HttpServer::new(move || App::new().wrap(WebhookDedup).app_data(config.clone()).service(botdog))
        .workers(2)
        .bind(addr)?;
    for addr in server.addrs() {
        tracing::info!("listening on {addr}");
    }
    server.run().await
}
