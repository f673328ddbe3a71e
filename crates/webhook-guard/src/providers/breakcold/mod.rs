//! Breakcold (sales CRM), current webhooks.
//!
//! Wire facts (Breakcold webhook docs, late 2026): `X-Webhook-Signature: sha256=<hex>` over
//! `"{timestamp}." + rawBody` with the timestamp of `X-Webhook-Timestamp`; `X-Webhook-Event` names
//! the event and `X-Webhook-Delivery-Id` is the idempotency key. Retries: 3 attempts about 5 s and
//! 30 s apart, 10 s timeout.
//!
//! The delivery id is the body's `eventId`, falling back to `X-Webhook-Delivery-Id`. The docs
//! name the header as the idempotency key, but it is not covered by the signature: a captured
//! delivery re-sent within the replay tolerance with a different id header would not be
//! recognised as a duplicate, while the body's `eventId` cannot be changed without the secret.
//! The event type is read from the body's `event` (signed), not from the header.

mod event;

use std::time::Duration;

pub use event::*;

use super::presets::TIMESTAMP_DOT_BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// The Breakcold preset (current webhooks; see [`super::breakcold_legacy`] for the old ones).
#[derive(Debug, Clone)]
pub struct Breakcold {
    scheme: Scheme,
}

impl Breakcold {
    /// Breakcold's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["X-Webhook-Signature"],
            format: SignatureFormat::Single { prefix: "sha256=".to_owned() },
            encoding: Encoding::Hex,
            timestamp: &["X-Webhook-Timestamp"],
            id: &[],
            contents: &[TIMESTAMP_DOT_BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Breakcold {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Breakcold {
    type Event = BreakcoldEvent;

    fn name(&self) -> &'static str {
        "breakcold"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Three attempts within about a minute (5 s and 30 s waits, 10 s timeouts), rounded up.
    fn retry_window(&self) -> Duration {
        Duration::from_secs(2 * 60)
    }

    fn id_headers(&self) -> &'static [&'static str] {
        &["X-Webhook-Delivery-Id"]
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<BreakcoldEvent, PayloadError> {
        BreakcoldEvent::parse(body)
    }

    /// The body's `eventId` (signed), else `X-Webhook-Delivery-Id` (unsigned).
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        event: &BreakcoldEvent,
        _: &[u8],
    ) -> Option<String> {
        event.event_id().filter(|id| !id.is_empty()).or_else(|| verified.header_id()).map(str::to_owned)
    }
}
