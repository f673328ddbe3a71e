//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body.
//!
//! No timestamp is signed. Shopify retries a failed delivery 8 times over 4 hours; duplicates
//! carry the same `X-Shopify-Event-Id` (newer API versions) and `X-Shopify-Webhook-Id`.
//!
//! The topic (`X-Shopify-Topic`) and the ids are not signed: see [`Shopify`].

use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use super::presets::BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// Names the event type, Shopify's topic (`orders/create`, …); not signed.
const EVENT_TYPE_HEADER: &str = "X-Shopify-Topic";

/// The Shopify preset: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 over the raw body.
///
/// Only the body is signed (Shopify, "Deliver webhooks through HTTPS", verifying the HMAC:
/// <https://shopify.dev/docs/apps/build/webhooks/subscribe/https>). No timestamp is signed, so
/// there is no replay window. The topic travels in `X-Shopify-Topic` and the ids in
/// `X-Shopify-Event-Id` / `X-Shopify-Webhook-Id`, none of them signed: whoever captured an
/// `orders/create` delivery can re-send its body with `X-Shopify-Topic: orders/paid`, at any
/// time, and it verifies as `orders/paid`.
/// [`Delivery::event_type_authenticated`](crate::Delivery::event_type_authenticated) is `false`
/// for every Shopify delivery; two different values of the topic or of an id header are refused
/// (400). Before acting on a topic, check that the body agrees (an order's `financial_status`
/// before treating it as paid).
#[derive(Debug, Clone)]
pub struct Shopify {
    scheme: Scheme,
}

impl Shopify {
    /// Shopify's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["X-Shopify-Hmac-Sha256"],
            format: SignatureFormat::Single { prefix: String::new() },
            encoding: Encoding::Base64,
            timestamp: &[],
            id: &[],
            contents: &[BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Shopify {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Shopify {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        "shopify"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        Duration::from_secs(4 * 3600)
    }

    /// `X-Shopify-Event-Id`, else `X-Shopify-Webhook-Id`; not signed.
    fn id_headers(&self) -> &'static [&'static str] {
        &["X-Shopify-Event-Id", "X-Shopify-Webhook-Id"]
    }

    /// `X-Shopify-Topic`, not signed.
    fn event_type_header(&self) -> Option<&'static str> {
        Some(EVENT_TYPE_HEADER)
    }

    /// The type is the `X-Shopify-Topic` header (`orders/create`, …).
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Header(EVENT_TYPE_HEADER))
    }

    /// `X-Shopify-Event-Id`, else `X-Shopify-Webhook-Id`.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        _: &JsonEvent,
        _: &[u8],
    ) -> Option<String> {
        verified.header_id().map(str::to_owned)
    }
}
