//! What a careful engineer writes by hand instead of webhook-guard, for the HTTP benchmark: an axum
//! handler that checks Botdog's `X-Webhook-Signature: t=<unix>,s=<hex>` (HMAC-SHA256 over
//! `{t}.{body}` with a key schedule computed once, hex decoded, compared with `subtle`, ±300 s),
//! parses the body with `serde_json` into an owned struct, and prints the same stdout line as the
//! example receivers. No deduplication, no body limit, no read timeout, no log of refusals: the
//! work webhook-guard does beyond this is what the benchmark prices.
//! `WEBHOOK_SECRET=… ADDR=127.0.0.1:3000 cargo run --release -p http-baselines --bin hand_written`

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The fields of Botdog's `LEAD_MESSAGE_REPLIED` that webhook-guard's typed event has.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // parsed for the cost of it, as a real handler would before using them
struct Reply {
    id: String,
    event_type: String,
    timestamp: String,
    human_readable_event_name: Option<String>,
    campaign_id: Option<String>,
    campaign_name: Option<String>,
    contact_name: Option<String>,
    contact_linkedin_url: Option<String>,
    contact_emails: Option<Vec<String>>,
    replied_at: Option<String>,
    message: Option<String>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `t=<unix>,s=<hex>` → (t, the 32 decoded bytes).
fn parse_signature(value: &[u8]) -> Option<(&[u8], [u8; 32])> {
    let value = std::str::from_utf8(value).ok()?;
    let (mut t, mut s) = (None, None);
    for part in value.split(',') {
        match part.trim().split_once('=')? {
            ("t", v) => t = Some(v),
            ("s", v) => s = Some(v),
            _ => {}
        }
    }
    let mut signature = [0u8; 32];
    hex::decode_to_slice(s?, &mut signature).ok()?;
    Some((t?.as_bytes(), signature))
}

async fn botdog(State(key): State<Arc<Hmac<Sha256>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Some((t, signature)) = headers.get("x-webhook-signature").and_then(|v| parse_signature(v.as_bytes())) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut mac = (*key).clone();
    mac.update(t);
    mac.update(b".");
    mac.update(&body);
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    if !bool::from(expected.ct_eq(&signature)) {
        return StatusCode::UNAUTHORIZED;
    }
    let fresh =
        std::str::from_utf8(t).ok().and_then(|t| t.parse::<i64>().ok()).is_some_and(|t| (now() - t).abs() <= 300);
    if !fresh {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(reply) = serde_json::from_slice::<Reply>(&body) else { return StatusCode::UNPROCESSABLE_ENTITY };
    let line = serde_json::json!({ "id": reply.id, "event_type": reply.event_type });
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("WEBHOOK_SECRET").unwrap_or_default();
    let key = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).map_err(std::io::Error::other)?;
    let app = Router::new().route("/webhooks/botdog", post(botdog)).with_state(Arc::new(key));
    let listener = tokio::net::TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
