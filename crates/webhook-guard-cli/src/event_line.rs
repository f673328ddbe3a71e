//! The one JSON line that `verify` and `listen` print for an accepted delivery.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use webhook_guard::Delivery;
use webhook_guard::providers::AnyEvent;

/// One accepted delivery, as printed: the envelope, then the typed event.
#[derive(Debug, Serialize)]
struct Accepted<'a> {
    /// The sender's name.
    provider: &'a str,
    /// The id to deduplicate on.
    id: &'a str,
    /// The event's type as sent.
    event_type: &'a str,
    /// The signed timestamp in RFC 3339, when the scheme has one.
    timestamp: Option<String>,
    /// The typed event.
    event: &'a AnyEvent,
}

/// `{"provider","id","event_type","timestamp","event"}` for `delivery`, without a newline.
///
/// # Errors
///
/// A message when the timestamp cannot be written in RFC 3339 (a year past 9999) or the event
/// cannot be serialized; neither contains body bytes.
pub(crate) fn json_line(delivery: &Delivery<AnyEvent>) -> Result<String, String> {
    let timestamp = delivery
        .timestamp()
        .map(|timestamp| timestamp.format(&Rfc3339))
        .transpose()
        .map_err(|error| format!("cannot format the timestamp: {error}"))?;
    let accepted = Accepted {
        provider: delivery.provider(),
        id: delivery.id(),
        event_type: delivery.event_type(),
        timestamp,
        event: delivery.event(),
    };
    serde_json::to_string(&accepted).map_err(|error| format!("cannot print the event: {error}"))
}
