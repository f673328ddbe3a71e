//! Slack: `X-Slack-Signature: v0=<hex>` and `X-Slack-Request-Timestamp` over `v0:{t}:{body}`.
//!
//! Wire facts this preset follows:
//! - Signature: HMAC-SHA256 with the app's signing secret as raw UTF-8 bytes over
//!   `v0:` + the `X-Slack-Request-Timestamp` value + `:` + the raw body, lowercase hex after
//!   `v0=` in `X-Slack-Signature`; Slack advises refusing timestamps more than five minutes from
//!   now (Slack API, "Verifying requests from Slack":
//!   <https://api.slack.com/authentication/verifying-requests-from-slack>).
//! - Events API deliveries are JSON: the body's `type` names the envelope (`event_callback`,
//!   `url_verification`) and its `event_id` stays the same on every retry; a failed delivery is
//!   retried three times, at once, after one minute and after five minutes (Slack API, "The
//!   Events API", section "Retries": <https://api.slack.com/apis/events-api#retries>), so ten
//!   minutes cover it.

use std::borrow::Cow;
use std::time::Duration;

use super::json_preset::sealed::{Sealed, WireFacts};
use super::json_preset::{EventTypeSource, IdSource, JsonPreset, JsonWire};
use crate::scheme::{Encoding, Part, Preset, PresetFormat};

/// The Slack preset, for Events API deliveries: `v0=<hex>` over `v0:{t}:{body}`; the type and
/// the id (`event_id`) come from the signed body.
///
/// The wire facts, with the Slack pages they come from: [the module docs](crate::providers::slack).
pub type Slack = JsonPreset<SlackWire>;

/// Slack as a sender: the type whose [wire facts](crate::providers::slack) make [`Slack`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SlackWire;

impl JsonWire for SlackWire {}

/// `v0:{t}:{body}`.
const V0_TIMESTAMP_BODY: &[Part] =
    &[Part::Literal(Cow::Borrowed(b"v0:")), Part::Timestamp, Part::Literal(Cow::Borrowed(b":")), Part::Body];

impl Sealed for SlackWire {
    const FACTS: WireFacts = WireFacts {
        name: "slack",
        scheme: Preset {
            signature: &["X-Slack-Signature"],
            format: PresetFormat::Single { prefix: "v0=" },
            encoding: Encoding::Hex,
            timestamp: &["X-Slack-Request-Timestamp"],
            id: &[],
            contents: &[V0_TIMESTAMP_BODY],
        },
        event_type: EventTypeSource::Field("type"),
        id: IdSource::Field("event_id"),
        retry_window: Duration::from_secs(10 * 60),
        extra_headers: &[],
    };
}
