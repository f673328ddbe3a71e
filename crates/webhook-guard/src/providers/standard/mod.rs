//! Standard Webhooks, and Svix (which implements it): voice-AI calling platforms such as Arbol,
//! and every other Standard Webhooks sender.
//!
//! Wire facts (Standard Webhooks specification, sections "Signature scheme" and "Webhook headers":
//! <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>;
//! Svix docs, "Retry schedule": <https://docs.svix.com/retries>): headers `webhook-id`,
//! `webhook-timestamp`, `webhook-signature` (Svix sends the same under `svix-`; both are
//! accepted); signed bytes `"{id}.{timestamp}." + rawBody`; the signature header is a
//! space-separated list of `<version>,<base64>` entries where `v1` is HMAC-SHA256 and `v1a`
//! Ed25519; entries of other versions are ignored. Secrets are `whsec_<base64>` (the key is the decoded bytes), Ed25519
//! public keys `whpk_<base64>`. The `webhook-id` is stable across retries and is the delivery id.
//! Svix retries for about 27.5 hours (0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); the
//! specification's example schedule runs about 75.6 hours: for such a sender, keep completed ids
//! longer than the default.
//!
//! Payload facts (the specification's section "Payload structure"; the event names are those of a
//! voice-AI calling platform on Svix, Arbol):
//!
//! - The recommended payload shape is `{"type": "call.completed", "timestamp": ISO 8601,
//!   "data": {…}}`. Event names are chosen by each platform (Arbol sends `call.started`,
//!   `contact.updated`, `campaign.paused`, …), so `type` is an open set: a plain `String`, no
//!   enum.
//! - `timestamp` is only recommended, so it is optional here. `data` is required; senders that
//!   flatten their payload instead can parse the body as [`serde_json::Value`], which also
//!   implements [`Event`](crate::Event).
//! - `data` is generic: [`serde_json::Value`] by default, or the receiver's own type.
//! - The deduplication key is the `webhook-id` header, not a body field.

mod event;

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

pub use event::*;
use serde::de::DeserializeOwned;

use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Part, Preset, PresetFormat, Scheme};
use crate::secret::SecretFormat;
use crate::{PayloadError, Provider, Verified};

/// The Standard Webhooks / Svix preset, with the event's `data` parsed as `D`
/// (`serde_json::Value` by default).
///
/// What `data` costs: building a `serde_json::Value` is most of a delivery's cost (on a 1 KiB
/// delivery about five times the signature check, BENCHMARKS.md). A type of your own for `D`
/// costs about a quarter of that. When `data` is parsed later, or only for some event types, take
/// it as `Box<serde_json::value::RawValue>` (serde_json's `raw_value` feature): its JSON is
/// checked and kept as text, and the envelope's parse costs about a seventh of a `Value`'s:
///
/// ```
/// use serde_json::value::RawValue;
/// use webhook_guard::providers::{Standard, StandardEvent};
/// use webhook_guard::testing::Signer;
/// use webhook_guard::{FixedClock, Verifier};
///
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// let body = br#"{"type":"call.completed","data":{"callId":"call_1","durationSeconds":184}}"#;
/// let signed = Signer::for_provider(&Standard::new(), &[secret])?.sign(body, 1_000, "msg_1");
/// let verifier = Verifier::builder(Standard::<Box<RawValue>>::with_data())
///     .secret(secret)
///     .clock(FixedClock(1_000))
///     .build()?;
/// let delivery = verifier.verify(&signed.headers[..], &body[..])?;
/// let event: &StandardEvent<Box<RawValue>> = delivery.event();
/// assert_eq!(event.data.get(), r#"{"callId":"call_1","durationSeconds":184}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Standard<D = serde_json::Value> {
    scheme: Scheme,
    data: PhantomData<fn() -> D>,
}

impl<D> fmt::Debug for Standard<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Standard").field("scheme", &self.scheme).finish()
    }
}

impl<D> Clone for Standard<D> {
    fn clone(&self) -> Self {
        Self { scheme: self.scheme.clone(), data: PhantomData }
    }
}

impl Standard {
    /// The Standard Webhooks scheme, with `data` kept as JSON.
    pub fn new() -> Self {
        Self::with_data()
    }
}

impl Default for Standard {
    fn default() -> Self {
        Self::new()
    }
}

impl<D> Standard<D> {
    /// The Standard Webhooks scheme, with `data` parsed as `D`.
    pub fn with_data() -> Self {
        const ID_DOT_TIMESTAMP_DOT_BODY: &[Part] = &[
            Part::Id,
            Part::Literal(std::borrow::Cow::Borrowed(b".")),
            Part::Timestamp,
            Part::Literal(std::borrow::Cow::Borrowed(b".")),
            Part::Body,
        ];
        let scheme = Preset {
            signature: &["webhook-signature", "svix-signature"],
            format: PresetFormat::Versioned { hmac_version: "v1", ed25519_version: Some("v1a") },
            encoding: Encoding::Base64,
            timestamp: &["webhook-timestamp", "svix-timestamp"],
            id: &["webhook-id", "svix-id"],
            contents: &[ID_DOT_TIMESTAMP_DOT_BODY],
        }
        .build();
        Self { scheme, data: PhantomData }
    }
}

impl<D> Provider for Standard<D>
where
    D: DeserializeOwned + fmt::Debug + Send + Sync + 'static,
{
    type Event = StandardEvent<D>;

    fn name(&self) -> &'static str {
        "standard"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Svix's schedule, about 27.5 hours, rounded up.
    fn retry_window(&self) -> Duration {
        Duration::from_secs(28 * 3600)
    }

    /// `whsec_<base64>` secrets (prefix optional) and `whpk_` Ed25519 public keys.
    fn secret_format(&self) -> SecretFormat {
        SecretFormat::Whsec
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<StandardEvent<D>, PayloadError> {
        StandardEvent::parse(body)
    }

    /// The signed `webhook-id` (the only id header), read from [`Verified`].
    fn delivery_id_in_headers(&self) -> bool {
        true
    }

    /// The signed `webhook-id`.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        _: &StandardEvent<D>,
        _: &[u8],
    ) -> Option<String> {
        verified.signed_id().map(str::to_owned)
    }
}
