//! The [`Provider`] trait: everything that differs from one sender to the next.
//!
//! A provider's identity is its type and the data it holds, never its name: the name only labels
//! dedup keys, logs and the CLI. A [`crate::providers::Custom`] sender called "github" gets none of
//! GitHub's headers, key format or event-type rules, because those come from the `Github` preset's
//! own methods.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::delivery::Verified;
use crate::error::{ConfigError, PayloadError};
use crate::event::Event;
use crate::headers::HeaderSource;
use crate::scheme::Scheme;
use crate::secret::{Key, SecretFormat};

/// A webhook sender: how it signs, what its events look like, how to find a delivery's id.
///
/// The presets in [`crate::providers`] implement it for every supported sender, and
/// [`crate::providers::Custom`] for any scheme the engine can describe.
pub trait Provider: fmt::Debug + Send + Sync + 'static {
    /// The typed event this sender's deliveries carry.
    type Event: Event;

    /// The sender's name as used in dedup keys, logs and the CLI (`botdog`, `standard`, …).
    fn name(&self) -> &'static str;

    /// How the sender signs.
    fn scheme(&self) -> &Scheme;

    /// How long the sender keeps retrying one delivery, from its documentation. A dedup store must
    /// remember a completed id at least this long.
    fn retry_window(&self) -> Duration;

    /// Headers that carry the delivery id without being signed (`X-GitHub-Delivery`), in order of
    /// preference. Two different values of one of them make the request malformed (400): which
    /// one the sender meant cannot be known, and the id decides deduplication. The first one
    /// present is [`Verified::header_id`] when the scheme signs no id.
    ///
    /// An id the sender signs is the scheme's instead
    /// ([`SchemeBuilder::id_header`](crate::scheme::SchemeBuilder::id_header), Standard
    /// Webhooks' `webhook-id`), reported as [`Verified::signed_id`].
    fn unsigned_id_headers(&self) -> &[Cow<'static, str>] {
        &[]
    }

    /// The header that names the event type without being signed (GitHub's `X-GitHub-Event`,
    /// Shopify's `X-Shopify-Topic`), when [`parse_event`](Provider::parse_event) reads the type
    /// there. `None`, the default, means the type comes from the body, which the signature covers.
    ///
    /// A provider whose `parse_event` reads the type from a header must name it here: it makes
    /// [`Verified::event_type_authenticated`] `false`, and two different values of it make the
    /// request malformed (400), as for [`unsigned_id_headers`](Provider::unsigned_id_headers):
    /// the type decides what a handler does, and which copy the sender meant cannot be known.
    fn event_type_header(&self) -> Option<&'static str> {
        None
    }

    /// Headers the sender sends that the verifier does not read (`User-Agent`, Breakcold's
    /// `X-Webhook-Event`), in the order it sends them. The default is none.
    ///
    /// Together with the scheme's headers, [`event_type_header`](Provider::event_type_header)
    /// and [`unsigned_id_headers`](Provider::unsigned_id_headers), they are everything the
    /// sender puts on a delivery: what a test signer (feature `testing`) sends to imitate it.
    fn extra_headers(&self) -> &[(&'static str, SentValue)] {
        &[]
    }

    /// How the sender shows its secrets. The default is [`SecretFormat::Utf8`]: the string's raw
    /// bytes are the key.
    fn secret_format(&self) -> SecretFormat {
        SecretFormat::Utf8
    }

    /// Turns a configured secret string into a key, the way this sender means it: by default as
    /// its [`secret_format`](Provider::secret_format) says.
    ///
    /// # Errors
    ///
    /// When the string is not a key this sender can use.
    fn parse_key(&self, text: &str) -> Result<Key, ConfigError> {
        self.secret_format().parse_key(text)
    }

    /// Parses a verified body into the typed event. `headers` are the request's (some senders
    /// name the event type in a header).
    ///
    /// # Errors
    ///
    /// When the body is not JSON or a known event does not match its type.
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<Self::Event, PayloadError>;

    /// The delivery id when it is a string field of the typed event (Botdog's `id`), read where
    /// it is: a [`Delivery`](crate::Delivery) then reads its [`id`](crate::Delivery::id) from its
    /// event instead of keeping a copy (an allocation per delivery). When this returns a
    /// non-empty id it must be the one [`delivery_id`](Provider::delivery_id) returns, which is
    /// called only when this returns `None` or an empty id. The default returns `None`.
    fn delivery_id_in_event(event: &Self::Event) -> Option<&str> {
        let _ = event;
        None
    }

    /// Whether the delivery id is [`Verified::header_id`] (Standard Webhooks' signed
    /// `webhook-id`, GitHub's `X-GitHub-Delivery`): a [`Delivery`](crate::Delivery) then reads its
    /// [`id`](crate::Delivery::id) there instead of keeping a copy. When this is `true` and the
    /// header id is present and not empty, it must be the id [`delivery_id`](Provider::delivery_id)
    /// returns, which is called otherwise. The default is `false`.
    fn delivery_id_in_headers(&self) -> bool {
        false
    }

    /// The delivery id to deduplicate on, when the sender provides or implies one. When this returns
    /// `None` or an empty id, the verifier uses `sha256:<hex of the body's SHA-256>`, which is
    /// stable across retries of the same bytes. Prefer an id covered by the signature over one in
    /// an unsigned header, and end an id derived from body fields with a digest of the body (see
    /// [`MAX_ID_LEN`](crate::MAX_ID_LEN)).
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        verified: &Verified,
        event: &Self::Event,
        body: &[u8],
    ) -> Option<String>;
}

/// What a sender puts in a header it sends beside its signature material (see
/// [`Provider::extra_headers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SentValue {
    /// The same text on every delivery (`User-Agent: Pollybot-Webhooks/1.0`).
    Fixed(&'static str),
    /// The event's type (Breakcold's `X-Webhook-Event: record.created`).
    EventType,
    /// The delivery id.
    DeliveryId,
}
