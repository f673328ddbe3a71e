//! GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
//!
//! Wire facts this preset follows:
//! - Signature: HMAC-SHA256 of the raw body with the webhook's secret as raw UTF-8 bytes,
//!   lowercase hex after `sha256=`, in `X-Hub-Signature-256` (GitHub Docs, "Validating webhook
//!   deliveries": <https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>).
//!   No timestamp is signed, so there is no replay window: only deduplication stops a re-sent
//!   delivery.
//! - Headers: `X-GitHub-Event` names the event, `X-GitHub-Delivery` is a GUID that identifies
//!   the event and is kept on redelivery, `User-Agent` starts with `GitHub-Hookshot/` (GitHub
//!   Docs, "Webhook events and payloads", section "Delivery headers":
//!   <https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers>). Neither
//!   the event nor the id header is signed.
//! - Retries: none; "GitHub does not automatically redeliver failed deliveries" (GitHub Docs,
//!   "Handling failed webhook deliveries":
//!   <https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries>),
//!   hence a zero retry window. A delivery redelivered by hand keeps its `X-GitHub-Delivery`.

use std::borrow::Cow;
use std::time::Duration;

use super::json_preset::sealed::{Sealed, WireFacts};
use super::json_preset::{EventTypeSource, IdSource, JsonPreset, JsonWire};
use super::presets::BODY;
use crate::provider::SentValue;
use crate::scheme::{Encoding, Preset, PresetFormat};

/// The GitHub preset: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 over the raw body.
///
/// Only the body is signed. No timestamp is signed, so there is no replay window. The event type
/// travels in `X-GitHub-Event` and the delivery id in `X-GitHub-Delivery`, neither of them signed:
/// whoever captured a delivery can re-send its body under another event type or another id, at
/// any time, and it verifies.
/// [`Delivery::event_type_authenticated`](crate::Delivery::event_type_authenticated) is `false`
/// for every GitHub delivery; two different values of either header are refused (400). Where a
/// re-labelled body would do harm, check that the body has the shape of the type you act on.
///
/// The wire facts, with the GitHub pages they come from: [the module docs](crate::providers::github).
pub type Github = JsonPreset<GithubWire>;

/// GitHub as a sender: the type whose [wire facts](crate::providers::github) make [`Github`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GithubWire;

impl JsonWire for GithubWire {}

impl Sealed for GithubWire {
    const FACTS: WireFacts = WireFacts {
        name: "github",
        scheme: Preset {
            signature: &["X-Hub-Signature-256"],
            format: PresetFormat::Single { prefix: "sha256=" },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[BODY],
        },
        event_type: EventTypeSource::Header("X-GitHub-Event"),
        id: IdSource::Headers(&[Cow::Borrowed("X-GitHub-Delivery")]),
        retry_window: Duration::ZERO,
        extra_headers: &[("User-Agent", SentValue::Fixed("GitHub-Hookshot/webhook-guard"))],
    };
}
