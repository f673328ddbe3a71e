//! Pollybot (chatbot lead capture).
//!
//! Wire facts (Pollybot webhook docs, late 2026): `X-Webhook-Signature: sha256=<hex>` and
//! `X-Webhook-Timestamp: <unix seconds>`, HMAC-SHA256 with the secret's raw UTF-8 bytes (even
//! though secrets look like `whsec_…`). The docs contradict each other on what is signed: the
//! overview page says the raw body alone, the security page the raw body immediately followed by
//! the timestamp digits. [`Pollybot::new`] accepts the timestamp-bound reading only;
//! [`Pollybot::accepting_body_only`] also accepts the body-only one, which has **no replay
//! protection** (a captured delivery verifies forever), so it is an explicit opt-in.
//!
//! No delivery id is documented: the id is derived as `{event}:{data.id}:{timestamp}:{digest}`,
//! the last part being 32 hex digits of the body's SHA-256 (stable across retries, which resend
//! the same bytes). Without the digest, two different deliveries for one lead in one second (a
//! `LEAD_UPDATED` right after its `LEAD_CREATED`, two quick updates) would share an id and the
//! second would be dropped as a duplicate.
//!
//! Payload facts (Pollybot webhook docs, late 2026: the overview page's envelope and lead example):
//!
//! - `timestamp` is an integer of Unix seconds (not ISO 8601 as with the other senders).
//! - Only `LEAD_CREATED` exists today. `LEAD_UPDATED`, `CONVERSATION_STARTED` and
//!   `CONVERSATION_RESOLVED` are announced without a documented shape, so they parse as
//!   [`PollybotEvent::Unknown`] until Pollybot publishes them.
//! - The lead fields are "seen in examples", most optional: only `data.id` is required here. The
//!   format of `createdAt`/`updatedAt` is not documented, so they are kept as the strings sent
//!   (the lenient reading), and `customFields` values may be any JSON, not only strings.
//! - No deduplication key is documented; [`PollybotEvent::dedup_parts`] gives the parts of the one
//!   this SDK derives (event name, `data.id`, body `timestamp`).

mod event;

use std::time::Duration;

pub use event::*;

use super::presets::BODY;
use crate::delivery_id::derived_id;
use crate::headers::HeaderSource;
use crate::provider::SentValue;
use crate::scheme::{Encoding, Part, Preset, PresetFormat, Scheme, SchemeKind};
use crate::{PayloadError, Provider, Verified};

/// The Pollybot preset.
#[derive(Debug, Clone)]
pub struct Pollybot {
    scheme: Scheme,
}

impl Pollybot {
    /// Pollybot's timestamp-bound scheme: HMAC over `{body}{t}`.
    pub fn new() -> Self {
        const BODY_THEN_TIMESTAMP: &[Part] = &[Part::Body, Part::Timestamp];
        let scheme = Preset {
            signature: &["X-Webhook-Signature"],
            format: PresetFormat::Single { prefix: "sha256=" },
            encoding: Encoding::Hex,
            timestamp: &["X-Webhook-Timestamp"],
            id: &[],
            contents: &[BODY_THEN_TIMESTAMP],
        }
        .build();
        Self { scheme }
    }

    /// Also accepts signatures over the body alone, as Pollybot's overview page documents. Such
    /// deliveries have no replay protection ([`Verified::timestamp_bound`] is `false`); a
    /// timestamp header, when present, must still be within the tolerance.
    pub fn accepting_body_only() -> Self {
        let mut provider = Self::new();
        if let SchemeKind::Signed(signed) = &mut provider.scheme.kind {
            signed.contents.push(crate::scheme::SignedContent::from_parts(BODY));
            signed.timestamp_required = false;
        }
        provider
    }

    /// Whether body-only signatures are accepted.
    pub fn accepts_body_only(&self) -> bool {
        matches!(&self.scheme.kind, SchemeKind::Signed(signed) if signed.contents.len() > 1)
    }
}

impl Default for Pollybot {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Pollybot {
    type Event = PollybotEvent;

    fn name(&self) -> &'static str {
        "pollybot"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The largest configurable schedule: 10 retries, exponential from a 60 s delay
    /// (60 s × (2¹⁰ − 1) ≈ 17 h), rounded up.
    fn retry_window(&self) -> Duration {
        Duration::from_secs(18 * 3600)
    }

    /// `User-Agent: Pollybot-Webhooks/1.0`, beside the signature and timestamp headers.
    fn extra_headers(&self) -> &[(&'static str, SentValue)] {
        &[("User-Agent", SentValue::Fixed("Pollybot-Webhooks/1.0"))]
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<PollybotEvent, PayloadError> {
        PollybotEvent::parse(body)
    }

    /// `{event}:{data.id}:{timestamp}:{body digest}` (see the module docs).
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        _: &Verified,
        event: &PollybotEvent,
        body: &[u8],
    ) -> Option<String> {
        let (name, id, timestamp) = event.dedup_parts()?;
        Some(derived_id(format_args!("{name}:{id}:{timestamp}"), body))
    }
}
