//! Stripe: `Stripe-Signature: t=<t>,v1=<hex>[,v1=<hex>…]` over `{t}.{body}`.
//!
//! Several `v1` entries appear while a secret is being rolled; `v0` entries (test mode, SHA-1)
//! are ignored. Stripe retries for up to three days in live mode; the event's `id` (`evt_…`) is the
//! same on every retry.

use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use super::presets::TIMESTAMP_DOT_BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// The Stripe preset.
#[derive(Debug, Clone)]
pub struct Stripe {
    scheme: Scheme,
}

impl Stripe {
    /// Stripe's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["Stripe-Signature"],
            format: SignatureFormat::KeyValue { signature_key: "v1".to_owned(), timestamp_key: Some("t".to_owned()) },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[TIMESTAMP_DOT_BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Stripe {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Stripe {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        "stripe"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        Duration::from_secs(72 * 3600)
    }

    /// The type is the body's `type` (`payment_intent.succeeded`, …).
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Field("type"))
    }

    /// The body's `id` (`evt_…`).
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        _: &Verified,
        event: &JsonEvent,
        _: &[u8],
    ) -> Option<String> {
        event.str_field("id").map(str::to_owned)
    }
}
