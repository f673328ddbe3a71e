//! GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
//!
//! No timestamp is signed, so GitHub deliveries have no replay protection beyond deduplication on
//! `X-GitHub-Delivery`. GitHub does not retry failed deliveries by itself (they can be redelivered
//! by hand from the settings page), hence a zero retry window.
//!
//! The event type (`X-GitHub-Event`) and delivery id (`X-GitHub-Delivery`) are not signed: see
//! [`Github`].

use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use super::presets::BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// Names the event type (`push`, `pull_request`, …); not signed.
const EVENT_TYPE_HEADER: &str = "X-GitHub-Event";

/// The GitHub preset: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 over the raw body.
///
/// Only the body is signed (GitHub, "Validating webhook deliveries":
/// <https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries>). No
/// timestamp is signed, so there is no replay window. The event type travels in `X-GitHub-Event`
/// and the delivery id in `X-GitHub-Delivery`, neither of them signed: whoever captured a
/// delivery can re-send its body under another event type or another id, at any time, and it
/// verifies. [`Delivery::event_type_authenticated`](crate::Delivery::event_type_authenticated) is
/// `false` for every GitHub delivery; two different values of either header are refused (400).
/// Where a re-labelled body would do harm, check that the body has the shape of the type you act
/// on.
#[derive(Debug, Clone)]
pub struct Github {
    scheme: Scheme,
}

impl Github {
    /// GitHub's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["X-Hub-Signature-256"],
            format: SignatureFormat::Single { prefix: "sha256=".to_owned() },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Github {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Github {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        "github"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        Duration::ZERO
    }

    /// `X-GitHub-Delivery`, not signed.
    fn id_headers(&self) -> &'static [&'static str] {
        &["X-GitHub-Delivery"]
    }

    /// `X-GitHub-Event`, not signed.
    fn event_type_header(&self) -> Option<&'static str> {
        Some(EVENT_TYPE_HEADER)
    }

    /// The type is the `X-GitHub-Event` header (`push`, `pull_request`, …).
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Header(EVENT_TYPE_HEADER))
    }

    /// The `X-GitHub-Delivery` header (a GUID, kept on redelivery).
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
