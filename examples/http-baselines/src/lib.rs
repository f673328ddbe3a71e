//! What a careful engineer writes by hand instead of webhook-guard, shared by the hand-written
//! baselines on axum (`hand_written`) and on actix-web (`hand_written_actix`): checks Botdog's
//! `X-Webhook-Signature: t=<unix>,s=<hex>` (HMAC-SHA256 over `{t}.{body}` with a key schedule
//! computed once, hex decoded, compared with `subtle`, ±300 s), parses the body with `serde_json`
//! into an owned struct, and prints the same stdout line as the example receivers. No
//! deduplication, no body limit, no read timeout, no log of refusals: the work webhook-guard does
//! beyond this is what the benchmark prices.
//!
//! Every function is `#[inline]`: each binary compiles this code into its handler as if it were
//! written there, so that moving it here did not make the baselines slower than hand-written code.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The prekeyed MAC (inner and outer pads hashed once), cloned per request.
pub type Key = Hmac<Sha256>;

/// The key for `secret`.
///
/// # Errors
///
/// Never for HMAC (any key length is valid); the `hmac` crate's API returns a `Result`.
#[inline]
pub fn key(secret: &str) -> std::io::Result<Key> {
    <Key as KeyInit>::new_from_slice(secret.as_bytes()).map_err(std::io::Error::other)
}

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

#[inline]
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `t=<unix>,s=<hex>` → (t, the 32 decoded bytes).
#[inline]
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

/// Verifies and handles one delivery; returns the HTTP status to answer with.
#[inline]
pub fn handle(key: &Key, signature_header: Option<&[u8]>, body: &[u8]) -> u16 {
    let Some((t, signature)) = signature_header.and_then(parse_signature) else {
        return 400;
    };
    let mut mac = key.clone();
    mac.update(t);
    mac.update(b".");
    mac.update(body);
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    if !bool::from(expected.ct_eq(&signature)) {
        return 401;
    }
    let fresh =
        std::str::from_utf8(t).ok().and_then(|t| t.parse::<i64>().ok()).is_some_and(|t| (now() - t).abs() <= 300);
    if !fresh {
        return 401;
    }
    let Ok(reply) = serde_json::from_slice::<Reply>(body) else { return 422 };
    let line = serde_json::json!({ "id": reply.id, "event_type": reply.event_type });
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => 200,
        Err(_) => 500,
    }
}
