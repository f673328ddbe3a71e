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
//!
//! Payload facts (Breakcold webhook docs, late 2026: the envelope and the table of events and their
//! `data` fields):
//!
//! - 14 events share 8 `data` shapes (the docs' table), one struct per shape, all inside the
//!   generic [`BreakcoldEnvelope`].
//! - `timestamp` is ISO 8601. `fields` of a record is keyed by field slug and, on
//!   `record.updated`, holds only the changed fields: its values are kept as JSON.
//! - Task `status` is documented as `"todo"` / `"done"`; any other value is kept in
//!   [`TaskStatus::Other`] rather than refusing the delivery.
//! - The `author` of a note is not described further, so it is kept as JSON.
//! - The body's `eventId` ([`BreakcoldEvent::event_id`]) identifies the event; the docs name
//!   `X-Webhook-Delivery-Id` as the idempotency key, which this preset reads only when the body
//!   has no `eventId` (see above).

mod event;

use std::borrow::Cow;
use std::time::Duration;

pub use event::*;

use super::presets::TIMESTAMP_DOT_BODY;
use crate::headers::HeaderSource;
use crate::provider::SentValue;
use crate::scheme::{Encoding, Preset, PresetFormat, Scheme};
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
            format: PresetFormat::Single { prefix: "sha256=" },
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

    /// `X-Webhook-Delivery-Id`, not signed.
    fn unsigned_id_headers(&self) -> &[Cow<'static, str>] {
        &[Cow::Borrowed("X-Webhook-Delivery-Id")]
    }

    /// `User-Agent: Breakcold-Webhooks/1.0` and `X-Webhook-Event`, which names the event but is
    /// not read: the type comes from the signed body's `event`.
    fn extra_headers(&self) -> &[(&'static str, SentValue)] {
        &[("User-Agent", SentValue::Fixed("Breakcold-Webhooks/1.0")), ("X-Webhook-Event", SentValue::EventType)]
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<BreakcoldEvent, PayloadError> {
        BreakcoldEvent::parse(body)
    }

    /// The body's `eventId`, read from the event.
    fn delivery_id_in_event(event: &BreakcoldEvent) -> Option<&str> {
        event.event_id()
    }

    /// Without an `eventId`, `X-Webhook-Delivery-Id`, read from [`Verified`].
    fn delivery_id_in_headers(&self) -> bool {
        true
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
