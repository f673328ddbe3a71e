//! Breakcold (sales CRM), current webhooks.
//!
//! Wire facts (Breakcold webhook docs, late 2026): `X-Webhook-Signature: sha256=<hex>` over
//! `"{timestamp}." + rawBody` with the timestamp of `X-Webhook-Timestamp`; `X-Webhook-Event` names
//! the event and `X-Webhook-Delivery-Id` is the idempotency key. Retries: 3 attempts about 5 s and
//! 30 s apart, 10 s timeout.
//!
//! The delivery id is `X-Webhook-Delivery-Id`, falling back to the body's `eventId`, as the docs
//! say. Note that the header is not covered by the signature: within the replay tolerance, a
//! captured delivery re-sent with a different id header is not recognised as a duplicate. The
//! event type is read from the body's `event` (signed), not from the header.

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

    /// `X-Webhook-Delivery-Id`, else the body's `eventId`.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        event: &BreakcoldEvent,
        _: &[u8],
    ) -> Option<String> {
        verified.header_id().or_else(|| event.event_id()).map(str::to_owned)
    }
}
