//! Botdog (LinkedIn outreach automation).
//!
//! Wire facts (Botdog webhook docs, late 2026): `POST` with `X-Webhook-Signature: t=<unix
//! seconds>,s=<hex>`, HMAC-SHA256 over `"{t}." + rawBody` with the secret's raw UTF-8 bytes. One
//! `s=` is documented; several are accepted (rotation). The body's top-level `id` is "the unique
//! delivery id, use it to deduplicate retries". Retries: 6 attempts, waits of 1, 2, 4, 8 and 16
//! minutes, about 31 minutes end to end.
//!
//! Payload facts (Botdog webhook docs, late 2026: the payload fields, the event table and the note
//! on field stability):
//!
//! - Every event carries the base fields (`id`, `timestamp` as ISO 8601, `eventType`,
//!   `humanReadableEventName`, `campaignId`, `campaignName`, `botdogUser*`); every lead event also
//!   carries the contact fields (`contactName`, `contactLinkedinUrl`, `contactEmails`,
//!   `contactPhones`, `contactCompanyName`). Only `id`, `eventType` and `timestamp` are required
//!   here: Botdog announces that future `CAMPAIGN_*` events may lack the contact fields, and test
//!   events from the dashboard carry stub contact data.
//! - New fields may appear at any time, so unknown fields are ignored.
//! - The top-level `id` is the delivery id Botdog tells receivers to deduplicate retries on; see
//!   [`BotdogEvent::id`].

mod event;

use std::time::Duration;

pub use event::*;

use super::presets::TIMESTAMP_DOT_BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, PresetFormat, Scheme};
use crate::{PayloadError, Provider, Verified};

/// The Botdog preset.
#[derive(Debug, Clone)]
pub struct Botdog {
    scheme: Scheme,
}

impl Botdog {
    /// Botdog's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["X-Webhook-Signature"],
            format: PresetFormat::KeyValue { signature_key: "s", timestamp_key: Some("t") },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[TIMESTAMP_DOT_BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Botdog {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Botdog {
    type Event = BotdogEvent;

    fn name(&self) -> &'static str {
        "botdog"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// 1 + 2 + 4 + 8 + 16 minutes between the 6 attempts.
    fn retry_window(&self) -> Duration {
        Duration::from_secs(31 * 60)
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<BotdogEvent, PayloadError> {
        BotdogEvent::parse(body)
    }

    /// The body's `id`, read from the event.
    fn delivery_id_in_event(event: &BotdogEvent) -> Option<&str> {
        event.id()
    }

    /// The body's `id`.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        _: &Verified,
        event: &BotdogEvent,
        _: &[u8],
    ) -> Option<String> {
        event.id().map(str::to_owned)
    }
}
