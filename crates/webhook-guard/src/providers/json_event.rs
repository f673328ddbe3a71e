//! [`JsonEvent`]: the event of senders whose payloads this SDK keeps as JSON.

use serde::Serialize;

use crate::event::Event;

/// An event kept as JSON, with its type name (from a header or a body field, per sender).
///
/// GitHub, Stripe, Slack and Shopify have hundreds of event types whose schemas their own SDKs
/// publish; webhook-guard verifies and deduplicates them and leaves the payload to those types.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonEvent {
    /// The event type (`push`, `payment_intent.succeeded`, `event_callback`, `orders/create`).
    ///
    /// GitHub's (`X-GitHub-Event`) and Shopify's (`X-Shopify-Topic`) come from a header the
    /// signature does not cover; Stripe's and Slack's from the signed body. See
    /// [`Delivery::event_type_authenticated`](crate::Delivery::event_type_authenticated).
    pub event_type: String,
    /// The whole body.
    pub payload: serde_json::Value,
}

impl Event for JsonEvent {
    fn event_type(&self) -> &str {
        &self.event_type
    }
}

impl JsonEvent {
    /// A top-level string field of the payload.
    pub fn str_field(&self, field: &str) -> Option<&str> {
        self.payload.get(field).and_then(serde_json::Value::as_str)
    }
}

/// Where a sender names the event type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TypeSource {
    /// A request header (GitHub's `X-GitHub-Event`, Shopify's `X-Shopify-Topic`). Such a header is
    /// not signed: the provider must also name it in
    /// [`Provider::event_type_header`](crate::Provider::event_type_header), so that the verifier
    /// refuses two different values and the delivery reports its type as not authenticated.
    Header(&'static str),
    /// A top-level string field of the body (Stripe's and Slack's `type`).
    Field(&'static str),
}

impl JsonEvent {
    /// Parses a body as JSON and names its type from `source` (empty when absent).
    pub(crate) fn parse<H>(headers: &H, body: &[u8], source: TypeSource) -> Result<Self, crate::PayloadError>
    where
        H: crate::HeaderSource + ?Sized,
    {
        let payload: serde_json::Value = crate::event::from_json(body)?;
        let event_type = match source {
            TypeSource::Header(name) => crate::headers::text_value(headers, name).map(str::to_owned),
            TypeSource::Field(field) => payload.get(field).and_then(serde_json::Value::as_str).map(str::to_owned),
        };
        Ok(Self { event_type: event_type.unwrap_or_default(), payload })
    }
}
