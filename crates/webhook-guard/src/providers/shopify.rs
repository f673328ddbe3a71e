//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body.
//!
//! No timestamp is signed. Shopify retries a failed delivery 8 times over 4 hours; duplicates
//! carry the same `X-Shopify-Event-Id` (newer API versions) and `X-Shopify-Webhook-Id`.

use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use super::presets::BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// The Shopify preset.
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

    /// The type is the `X-Shopify-Topic` header (`orders/create`, …).
    fn id_headers(&self) -> &'static [&'static str] {
        &["X-Shopify-Event-Id", "X-Shopify-Webhook-Id"]
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Header("X-Shopify-Topic"))
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
