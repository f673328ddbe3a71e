//! Slack: `X-Slack-Signature: v0=<hex>` and `X-Slack-Request-Timestamp` over `v0:{t}:{body}`.
//!
//! This preset covers Events API deliveries (JSON bodies); Slack retries a delivery three times
//! (at once, after 1 minute, after 5 minutes) and keeps its `event_id`.

use std::borrow::Cow;
use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Part, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// The Slack preset.
#[derive(Debug, Clone)]
pub struct Slack {
    scheme: Scheme,
}

impl Slack {
    /// Slack's scheme.
    pub fn new() -> Self {
        const V0: &[Part] =
            &[Part::Literal(Cow::Borrowed(b"v0:")), Part::Timestamp, Part::Literal(Cow::Borrowed(b":")), Part::Body];
        let scheme = Preset {
            signature: &["X-Slack-Signature"],
            format: SignatureFormat::Single { prefix: "v0=".to_owned() },
            encoding: Encoding::Hex,
            timestamp: &["X-Slack-Request-Timestamp"],
            id: &[],
            contents: &[V0],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Slack {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Slack {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        "slack"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        Duration::from_secs(10 * 60)
    }

    /// The type is the body's `type` (`event_callback`, `url_verification`).
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Field("type"))
    }

    /// The body's `event_id`.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        _: &Verified,
        event: &JsonEvent,
        _: &[u8],
    ) -> Option<String> {
        event.str_field("event_id").map(str::to_owned)
    }
}
