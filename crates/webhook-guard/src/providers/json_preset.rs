//! [`JsonPreset`]: the one implementation behind the senders whose events this SDK keeps as
//! [`JsonEvent`] — GitHub, Shopify, Slack and Stripe.
//!
//! Those four differ only in facts: where the signature travels and which bytes it covers, where
//! the event type and the delivery id come from (a signed body field or an unsigned header), how
//! long the sender retries and what else it sends. Each sender's module writes its facts down once,
//! as a constant [`WireFacts`](sealed::WireFacts) next to the vendor pages they come from; this
//! module turns any such description into a [`Provider`]. A sender is a type ([`GithubWire`],
//! …), so `JsonPreset<GithubWire>` and `JsonPreset<StripeWire>` are different providers to the
//! compiler, whatever their names.
//!
//! [`GithubWire`]: super::GithubWire

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::json_event::JsonEvent;
use crate::headers::HeaderSource;
use crate::provider::SentValue;
use crate::scheme::Scheme;
use crate::{PayloadError, Provider, Verified};

/// A preset for a sender whose events are kept as [`JsonEvent`], described by its wire facts `W`.
///
/// [`Github`](super::Github), [`Shopify`](super::Shopify), [`Slack`](super::Slack) and
/// [`Stripe`](super::Stripe) are this type with their senders' facts; see each of them for what
/// the sender signs and what it does not.
pub struct JsonPreset<W> {
    scheme: Scheme,
    wire: PhantomData<fn() -> W>,
}

/// The wire facts of one sender served by [`JsonPreset`]: implemented by
/// [`GithubWire`](super::GithubWire), [`ShopifyWire`](super::ShopifyWire),
/// [`SlackWire`](super::SlackWire) and [`StripeWire`](super::StripeWire). Sealed: a sender of
/// your own is a [`Custom`](super::Custom) provider.
pub trait JsonWire: sealed::Sealed + fmt::Debug + Send + Sync + 'static {}

pub(crate) mod sealed {
    use super::{Duration, EventTypeSource, IdSource, SentValue};
    use crate::scheme::Preset;

    /// What tells one JSON sender from another, written once per sender as a constant.
    #[derive(Debug)]
    pub struct WireFacts {
        /// The name in dedup keys, logs and the CLI.
        pub(crate) name: &'static str,
        /// Signature header, format, encoding, timestamp and signed layout.
        pub(crate) scheme: Preset,
        /// Where the event type comes from.
        pub(crate) event_type: EventTypeSource,
        /// Where the delivery id comes from.
        pub(crate) id: IdSource,
        /// How long the sender retries one delivery.
        pub(crate) retry_window: Duration,
        /// What else the sender sends (`User-Agent`).
        pub(crate) extra_headers: &'static [(&'static str, SentValue)],
    }

    /// Gives a [`JsonWire`](super::JsonWire) its facts. Not nameable outside the crate, so the
    /// set of senders stays closed.
    pub trait Sealed {
        /// The sender's facts.
        const FACTS: WireFacts;
    }
}

/// Where a sender names the event type. (Each variant exists when a sender that uses it is
/// built.)
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventTypeSource {
    /// A top-level string field of the body, which the signature covers (Stripe's and Slack's
    /// `type`).
    #[cfg(any(feature = "slack", feature = "stripe"))]
    Field(&'static str),
    /// A request header the signature does not cover (GitHub's `X-GitHub-Event`, Shopify's
    /// `X-Shopify-Topic`): reported as [`Provider::event_type_header`], so that the verifier
    /// refuses two different values and each delivery says its type is not authenticated.
    #[cfg(any(feature = "github", feature = "shopify"))]
    Header(&'static str),
}

/// Where a sender puts the delivery id that stays the same across retries. (Each variant exists
/// when a sender that uses it is built.)
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdSource {
    /// A top-level string field of the signed body (Stripe's `id`, Slack's `event_id`).
    #[cfg(any(feature = "slack", feature = "stripe"))]
    Field(&'static str),
    /// Headers the signature does not cover, in order of preference (GitHub's
    /// `X-GitHub-Delivery`): reported as [`Provider::unsigned_id_headers`], so that the verifier
    /// refuses two different values.
    #[cfg(any(feature = "github", feature = "shopify"))]
    Headers(&'static [Cow<'static, str>]),
}

impl<W: JsonWire> JsonPreset<W> {
    /// The sender's preset.
    pub fn new() -> Self {
        Self { scheme: W::FACTS.scheme.build(), wire: PhantomData }
    }
}

impl<W: JsonWire> Default for JsonPreset<W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<W> Clone for JsonPreset<W> {
    fn clone(&self) -> Self {
        Self { scheme: self.scheme.clone(), wire: PhantomData }
    }
}

impl<W: JsonWire> fmt::Debug for JsonPreset<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonPreset").field("sender", &W::FACTS.name).field("scheme", &self.scheme).finish()
    }
}

impl<W: JsonWire> Provider for JsonPreset<W> {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        W::FACTS.name
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        W::FACTS.retry_window
    }

    fn unsigned_id_headers(&self) -> &[Cow<'static, str>] {
        match W::FACTS.id {
            #[cfg(any(feature = "github", feature = "shopify"))]
            IdSource::Headers(names) => names,
            #[cfg(any(feature = "slack", feature = "stripe"))]
            IdSource::Field(_) => &[],
        }
    }

    fn event_type_header(&self) -> Option<&'static str> {
        match W::FACTS.event_type {
            #[cfg(any(feature = "github", feature = "shopify"))]
            EventTypeSource::Header(name) => Some(name),
            #[cfg(any(feature = "slack", feature = "stripe"))]
            EventTypeSource::Field(_) => None,
        }
    }

    fn extra_headers(&self) -> &[(&'static str, SentValue)] {
        W::FACTS.extra_headers
    }

    /// The body as JSON, its type from the sender's header or body field (empty when absent).
    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        let payload: serde_json::Value = crate::event::from_json(body)?;
        // `headers` is in the scrutinee because only the senders built decide whether it is read.
        let event_type = match (W::FACTS.event_type, headers) {
            #[cfg(any(feature = "github", feature = "shopify"))]
            (EventTypeSource::Header(name), headers) => crate::headers::text_value(headers, name),
            #[cfg(any(feature = "slack", feature = "stripe"))]
            (EventTypeSource::Field(field), _) => payload.get(field).and_then(serde_json::Value::as_str),
        }
        .map(str::to_owned);
        Ok(JsonEvent { event_type: event_type.unwrap_or_default(), payload })
    }

    /// The sender's body field (Stripe's `id`, Slack's `event_id`), read from the event.
    fn delivery_id_in_event(event: &JsonEvent) -> Option<&str> {
        // `event` is in the scrutinee because only the senders built decide whether it is read.
        match (W::FACTS.id, event) {
            #[cfg(any(feature = "slack", feature = "stripe"))]
            (IdSource::Field(field), event) => event.str_field(field),
            #[cfg(any(feature = "github", feature = "shopify"))]
            (IdSource::Headers(_), _) => None,
        }
    }

    /// Its unsigned id headers (GitHub's `X-GitHub-Delivery`, Shopify's `X-Shopify-Webhook-Id`),
    /// read from [`Verified`].
    fn delivery_id_in_headers(&self) -> bool {
        match W::FACTS.id {
            #[cfg(any(feature = "github", feature = "shopify"))]
            IdSource::Headers(_) => true,
            #[cfg(any(feature = "slack", feature = "stripe"))]
            IdSource::Field(_) => false,
        }
    }

    /// The sender's signed body field, or the first of its unsigned id headers present.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        event: &JsonEvent,
        _: &[u8],
    ) -> Option<String> {
        // Both sources are in the scrutinee because only the senders built decide which is read.
        match (W::FACTS.id, verified, event) {
            #[cfg(any(feature = "slack", feature = "stripe"))]
            (IdSource::Field(field), _, event) => event.str_field(field),
            #[cfg(any(feature = "github", feature = "shopify"))]
            (IdSource::Headers(_), verified, _) => verified.header_id(),
        }
        .map(str::to_owned)
    }
}
