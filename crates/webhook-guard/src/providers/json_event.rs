//! [`JsonEvent`]: the event of senders whose payloads this SDK keeps as JSON.

use serde::Serialize;

use crate::event::Event;

/// An event kept as JSON, with its type name (from a header or a body field, per sender).
///
/// GitHub, Stripe, Slack and Shopify have hundreds of event types whose schemas their own SDKs
/// publish; webhook-guard verifies and deduplicates them and leaves the payload to those types.
/// Their presets are one implementation, `JsonPreset`, with one description per sender.
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
