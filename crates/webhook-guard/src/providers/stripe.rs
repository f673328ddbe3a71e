//! Stripe: `Stripe-Signature: t=<t>,v1=<hex>[,v1=<hex>…]` over `{t}.{body}`.
//!
//! Wire facts this preset follows:
//! - Signature: HMAC-SHA256 with the endpoint's signing secret as raw UTF-8 bytes (the `whsec_`
//!   string as a whole) over the `t` value, a dot and the raw body, lowercase hex in each `v1`
//!   part of `Stripe-Signature`; `v0` parts are ignored (Stripe Docs, "Receive Stripe events in
//!   your webhook endpoint", section "Verify signatures manually":
//!   <https://docs.stripe.com/webhooks#verify-manually>). Several `v1` parts appear while a
//!   secret is being rolled; any of them may match.
//! - The body's `type` names the event and its `id` (`evt_…`) is the same on every retry (same
//!   page, section "Handle duplicate events": <https://docs.stripe.com/webhooks#handle-duplicate-events>).
//! - Retries: in live mode for up to three days with exponential backoff (same page, section
//!   "Retry behavior": <https://docs.stripe.com/webhooks#retries>).

use std::time::Duration;

use super::json_preset::sealed::{Sealed, WireFacts};
use super::json_preset::{EventTypeSource, IdSource, JsonPreset, JsonWire};
use super::presets::TIMESTAMP_DOT_BODY;
use crate::scheme::{Encoding, Preset, PresetFormat};

/// The Stripe preset: `t=<t>,v1=<hex>,…` over `{t}.{body}`; the type and the id (`evt_…`) come
/// from the signed body.
///
/// The wire facts, with the Stripe pages they come from: [the module docs](crate::providers::stripe).
pub type Stripe = JsonPreset<StripeWire>;

/// Stripe as a sender: the type whose [wire facts](crate::providers::stripe) make [`Stripe`].
#[derive(Debug, Clone, Copy, Default)]
pub struct StripeWire;

impl JsonWire for StripeWire {}

impl Sealed for StripeWire {
    const FACTS: WireFacts = WireFacts {
        name: "stripe",
        scheme: Preset {
            signature: &["Stripe-Signature"],
            format: PresetFormat::KeyValue { signature_key: "v1", timestamp_key: Some("t") },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[TIMESTAMP_DOT_BODY],
        },
        event_type: EventTypeSource::Field("type"),
        id: IdSource::Field("id"),
        retry_window: Duration::from_secs(72 * 3600),
        extra_headers: &[],
    };
}
