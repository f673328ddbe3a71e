//! Standard Webhooks (and Svix) events: `{"type", "timestamp", "data"}`.
//!
//! The payload facts these types follow are in the [module docs](super).

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PayloadError;
use crate::event::{Event, from_json};

/// A Standard Webhooks event; `D` is the type of its `data` (JSON by default).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandardEvent<D = serde_json::Value> {
    /// The event type (JSON `type`), e.g. `call.completed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened, if the sender says.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub timestamp: Option<OffsetDateTime>,
    /// The event's payload.
    pub data: D,
}

impl<D: DeserializeOwned> StandardEvent<D> {
    /// Parses a (verified) Standard Webhooks body, with `data` as `D`.
    ///
    /// # Errors
    ///
    /// When the body is not a JSON object with a string `type` and a `data` that matches `D`, or
    /// `timestamp` is present but not RFC 3339 (the error names the JSON path, e.g. `data.id`).
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        from_json(body)
    }
}

impl<D: fmt::Debug + Send + Sync + 'static> Event for StandardEvent<D> {
    fn event_type(&self) -> &str {
        &self.event_type
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Call {
        call_id: String,
        duration_seconds: u32,
    }

    const COMPLETED: &str = r#"{"type": "call.completed", "timestamp": "2026-11-20T10:15:30.000Z",
        "data": {"callId": "call_1", "durationSeconds": 184, "outcome": "meeting_booked"},
        "extra": 1}"#;

    #[test]
    fn parses_json_data_and_ignores_unknown_fields() {
        let event = StandardEvent::<serde_json::Value>::parse(COMPLETED.as_bytes()).unwrap();
        assert_eq!(event.event_type(), "call.completed");
        assert_eq!(event.timestamp, Some(datetime!(2026-11-20 10:15:30 UTC)));
        assert_eq!(event.data["outcome"], "meeting_booked");
    }

    #[test]
    fn parses_typed_data() {
        let event = StandardEvent::<Call>::parse(COMPLETED.as_bytes()).unwrap();
        assert_eq!(event.data.call_id, "call_1");
        assert_eq!(event.data.duration_seconds, 184);
    }

    #[test]
    fn wrong_type_names_the_path() {
        let body = COMPLETED.replace("184", "\"three minutes\"");
        let error = StandardEvent::<Call>::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "data.durationSeconds");
        assert!(!error.message().contains("three"), "{error}");
        let error = StandardEvent::<serde_json::Value>::parse(br#"{"type": 1, "data": {}}"#).unwrap_err();
        assert_eq!(error.path(), "type");
    }

    #[test]
    fn any_type_name_is_accepted_and_timestamp_is_optional() {
        let event = StandardEvent::<serde_json::Value>::parse(br#"{"type": "x.y", "data": null}"#).unwrap();
        assert_eq!(event.event_type(), "x.y");
        assert_eq!(event.timestamp, None);
        let error = StandardEvent::<serde_json::Value>::parse(br#"{"type": "x.y"}"#).unwrap_err();
        assert_eq!(error.message(), "missing field `data` at `$`");
    }

    /// `data` as checked JSON text (`Box<RawValue>`): kept byte for byte, parsed later; JSON that
    /// is not valid is still refused with its path.
    #[test]
    fn raw_data_is_checked_and_kept_as_sent() {
        use serde_json::value::RawValue;
        let event = StandardEvent::<Box<RawValue>>::parse(COMPLETED.as_bytes()).unwrap();
        assert_eq!(event.event_type(), "call.completed");
        assert_eq!(event.data.get(), r#"{"callId": "call_1", "durationSeconds": 184, "outcome": "meeting_booked"}"#);
        let call: Call = serde_json::from_str(event.data.get()).unwrap();
        assert_eq!(call.duration_seconds, 184);

        let broken = COMPLETED.replace("184,", "184,,");
        let error = StandardEvent::<Box<RawValue>>::parse(broken.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "$");
        assert!(error.message().starts_with("body is not valid JSON"), "{error}");
        let error = StandardEvent::<Box<RawValue>>::parse(br#"{"type": "x.y"}"#).unwrap_err();
        assert_eq!(error.message(), "missing field `data` at `$`");
    }

    #[test]
    fn serializes_type_back() {
        let event = StandardEvent::<serde_json::Value>::parse(COMPLETED.as_bytes()).unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "call.completed");
        assert_eq!(json["timestamp"], "2026-11-20T10:15:30Z");
    }
}
