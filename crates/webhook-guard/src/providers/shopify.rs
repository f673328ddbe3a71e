//! Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body.
//!
//! Wire facts this preset follows:
//! - Signature: HMAC-SHA256 of the raw body with the app's client secret as raw UTF-8 bytes,
//!   standard base64, in `X-Shopify-Hmac-Sha256` (Shopify, "Deliver webhooks through HTTPS",
//!   section "Verify webhooks": <https://shopify.dev/docs/apps/build/webhooks/subscribe/https>).
//!   No timestamp is signed, so there is no replay window.
//! - Headers: `X-Shopify-Topic` names the event (`orders/create`), `X-Shopify-Event-Id` is the
//!   same on every copy of one event and is the key to deduplicate on (Shopify, "Ignore duplicate
//!   webhooks": <https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates>);
//!   `X-Shopify-Webhook-Id` is read when an older API version sends no event id. None of them is
//!   signed.
//! - Retries: 8 times over 4 hours with exponential backoff, with the original payload (Shopify
//!   changelog, "Updates to webhook retry mechanism", effective 2024-09-10:
//!   <https://shopify.dev/changelog/updates-to-webhook-retry-mechanism>).

use std::borrow::Cow;
use std::time::Duration;

use super::json_preset::sealed::{Sealed, WireFacts};
use super::json_preset::{EventTypeSource, IdSource, JsonPreset, JsonWire};
use super::presets::BODY;
use crate::scheme::{Encoding, Preset, PresetFormat};

/// The Shopify preset: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 over the raw body.
///
/// Only the body is signed. No timestamp is signed, so there is no replay window. The topic
/// travels in `X-Shopify-Topic` and the ids in `X-Shopify-Event-Id` / `X-Shopify-Webhook-Id`,
/// none of them signed: whoever captured an `orders/create` delivery can re-send its body with
/// `X-Shopify-Topic: orders/paid`, at any time, and it verifies as `orders/paid`.
/// [`Delivery::event_type_authenticated`](crate::Delivery::event_type_authenticated) is `false`
/// for every Shopify delivery; two different values of the topic or of an id header are refused
/// (400). Before acting on a topic, check that the body agrees (an order's `financial_status`
/// before treating it as paid).
///
/// The wire facts, with the Shopify pages they come from: [the module docs](crate::providers::shopify).
pub type Shopify = JsonPreset<ShopifyWire>;

/// Shopify as a sender: the type whose [wire facts](crate::providers::shopify) make [`Shopify`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopifyWire;

impl JsonWire for ShopifyWire {}

impl Sealed for ShopifyWire {
    const FACTS: WireFacts = WireFacts {
        name: "shopify",
        scheme: Preset {
            signature: &["X-Shopify-Hmac-Sha256"],
            format: PresetFormat::Single { prefix: "" },
            encoding: Encoding::Base64,
            timestamp: &[],
            id: &[],
            contents: &[BODY],
        },
        event_type: EventTypeSource::Header("X-Shopify-Topic"),
        id: IdSource::Headers(&[Cow::Borrowed("X-Shopify-Event-Id"), Cow::Borrowed("X-Shopify-Webhook-Id")]),
        retry_window: Duration::from_secs(4 * 3600),
        extra_headers: &[],
    };
}
