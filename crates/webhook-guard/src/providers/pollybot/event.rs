//! Pollybot's typed events: an envelope `{"event", "timestamp", "data", "chatbotId"}`, dispatched on
//! `event`.
//!
//! The payload facts these types follow are in the [module docs](super).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PayloadError;
use crate::event::{Event, TypedEvent, UnknownEvent, from_json, parse_straight, parse_typed, peek_type_field};

/// The field Pollybot names its event type in.
const TYPE_FIELD: &str = "event";

/// The envelope of every Pollybot delivery, around the event's `data`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollybotEnvelope<D> {
    /// The event type, e.g. `LEAD_CREATED`.
    pub event: String,
    /// When the event was sent (the body's Unix-seconds `timestamp`).
    #[serde(with = "time::serde::timestamp")]
    pub timestamp: OffsetDateTime,
    /// The event's payload.
    pub data: D,
    /// The chatbot that produced the event.
    pub chatbot_id: Option<String>,
}

/// A lead captured by a chatbot: the `data` of `LEAD_CREATED`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollybotLead {
    /// The lead's id.
    pub id: String,
    /// The visitor's name.
    pub name: Option<String>,
    /// The visitor's email address.
    pub email: Option<String>,
    /// The visitor's phone number.
    pub phone: Option<String>,
    /// The visitor's company.
    pub company: Option<String>,
    /// What the visitor wrote.
    pub message: Option<String>,
    /// How the visitor wants to be contacted, e.g. `email` or `phone`.
    pub preferred_method: Option<String>,
    /// How urgent the request is, as the chatbot classified it.
    pub urgency: Option<String>,
    /// Where the lead came from, e.g. the page the chatbot ran on.
    pub source: Option<String>,
    /// The lead's status in Pollybot, e.g. `new`.
    pub status: Option<String>,
    /// The lead's priority, as the chatbot classified it.
    pub priority: Option<String>,
    /// Tags set on the lead.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Answers to the chatbot's custom questions, by field name. Documented as strings; any JSON
    /// value is accepted.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, serde_json::Value>,
    /// The chatbot that captured the lead.
    pub chatbot_id: Option<String>,
    /// When the lead was created, as sent (the format is not documented).
    pub created_at: Option<String>,
    /// When the lead was last updated, as sent (the format is not documented).
    pub updated_at: Option<String>,
}

/// A Pollybot delivery, by `event`.
///
/// Only `LEAD_CREATED` is typed. The announced `LEAD_UPDATED`, `CONVERSATION_STARTED` and
/// `CONVERSATION_RESOLVED` have no documented shape yet and arrive as [`PollybotEvent::Unknown`],
/// like any other event name; they will become variants (this enum is `#[non_exhaustive]`) once
/// Pollybot documents them.
///
/// Serializes as the sender's JSON object (untagged); an [`UnknownEvent`] serializes as
/// `{"event_type", "raw"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
// One event is built per delivery and handed over once: boxing the lead would only add an
// allocation. The gap closes as the announced events become variants.
#[allow(clippy::large_enum_variant)]
pub enum PollybotEvent {
    /// `LEAD_CREATED`: a chatbot captured a lead.
    LeadCreated(PollybotEnvelope<PollybotLead>),
    /// An event this SDK does not type (yet): its name and the whole body as JSON.
    Unknown(UnknownEvent),
}

impl PollybotEvent {
    /// The `event` names this SDK parses into typed variants.
    pub const KNOWN_EVENT_TYPES: &'static [&'static str] = &["LEAD_CREATED"];

    /// Parses a (verified) Pollybot body.
    ///
    /// Reads the body once, straight into the type its `event` names. An unknown `event` gives
    /// [`PollybotEvent::Unknown`] for any JSON object.
    ///
    /// # Errors
    ///
    /// When the body is not a JSON object, `event` is missing or not a string, or a known event
    /// does not match its type (the error names the JSON path, e.g. `data.id`).
    pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
        parse_straight!(Self, body, Self::parse_in_two_passes, {
            ["LEAD_CREATED"] => Self::LeadCreated[PollybotEnvelope<PollybotLead>],
        });
        parse_typed(body, Self::parse_in_two_passes)
    }

    /// [`PollybotEvent::parse`] reading `event` first, then the body into its type while
    /// tracking the JSON path: the errors of the one-pass parse.
    pub(crate) fn parse_in_two_passes(body: &[u8]) -> Result<Self, PayloadError> {
        let event = peek_type_field(body, TYPE_FIELD)?
            .ok_or_else(|| PayloadError::new("$", format!("missing field `{TYPE_FIELD}` at `$`")))?;
        Ok(match event.as_ref() {
            "LEAD_CREATED" => Self::LeadCreated(from_json(body)?),
            other => Self::Unknown(UnknownEvent::parse_checked(other, TYPE_FIELD, body)?),
        })
    }

    /// The parts of the deduplication key this SDK derives for Pollybot, which documents none:
    /// the event name, `data.id` (a string, or a number rendered in decimal) and the body's
    /// `timestamp` in Unix seconds.
    ///
    /// `None` when one of them is missing (only possible for [`PollybotEvent::Unknown`]).
    pub fn dedup_parts(&self) -> Option<(&str, String, i64)> {
        match self {
            Self::LeadCreated(envelope) => {
                Some((&envelope.event, envelope.data.id.clone(), envelope.timestamp.unix_timestamp()))
            }
            Self::Unknown(unknown) => {
                let id = match unknown.raw.get("data")?.get("id")? {
                    serde_json::Value::String(id) => id.clone(),
                    serde_json::Value::Number(id) => id.to_string(),
                    _ => return None,
                };
                let timestamp = unknown.raw.get("timestamp")?.as_i64()?;
                Some((&unknown.event_type, id, timestamp))
            }
        }
    }
}

impl TypedEvent for PollybotEvent {
    const TYPE_FIELD: &'static str = TYPE_FIELD;

    fn is_typed(event_type: &str) -> bool {
        event_type == "LEAD_CREATED"
    }

    fn deserialize_as<'de, D: serde::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error> {
        Ok(match event_type {
            "LEAD_CREATED" => Self::LeadCreated(PollybotEnvelope::deserialize(object)?),
            other => Self::Unknown(UnknownEvent::deserialize_as(other, object)?),
        })
    }
}

impl Event for PollybotEvent {
    fn event_type(&self) -> &str {
        match self {
            Self::LeadCreated(envelope) => &envelope.event,
            Self::Unknown(unknown) => &unknown.event_type,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LEAD: &str = r#"{
        "event": "LEAD_CREATED", "timestamp": 1795169730, "chatbotId": "bot_1",
        "data": {"id": "lead_1", "email": "jo@example.com", "tags": ["pricing"],
                 "customFields": {"budget": "10k", "seats": 12}, "sentiment": "warm"},
        "extra": true
    }"#;

    #[test]
    fn lead_created_parses_and_ignores_unknown_fields() {
        let event = PollybotEvent::parse(LEAD.as_bytes()).unwrap();
        let PollybotEvent::LeadCreated(envelope) = &event else { panic!("{event:?}") };
        assert_eq!(envelope.timestamp, datetime!(2026-11-20 10:15:30 UTC));
        assert_eq!(envelope.chatbot_id.as_deref(), Some("bot_1"));
        assert_eq!(envelope.data.tags, ["pricing"]);
        assert_eq!(envelope.data.custom_fields["seats"], 12);
        assert_eq!(envelope.data.name, None);
        assert_eq!(event.event_type(), "LEAD_CREATED");
        assert_eq!(event.dedup_parts(), Some(("LEAD_CREATED", "lead_1".to_owned(), 1_795_169_730)));
    }

    #[test]
    fn wrong_type_names_the_path() {
        let body = LEAD.replace(r#""id": "lead_1""#, r#""id": 41"#);
        assert_eq!(PollybotEvent::parse(body.as_bytes()).unwrap_err().path(), "data.id");
        let body = LEAD.replace("1795169730", "\"2026-11-20T10:15:30Z\"");
        assert_eq!(PollybotEvent::parse(body.as_bytes()).unwrap_err().path(), "timestamp");
        let body = LEAD.replace(r#"["pricing"]"#, r#""pricing""#);
        let error = PollybotEvent::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "data.tags");
        assert!(!error.message().contains("pricing"), "{error}");
    }

    #[test]
    fn announced_and_unknown_events_are_unknown() {
        let body = br#"{"event": "CONVERSATION_STARTED", "timestamp": 1795169730,
            "data": {"id": 77, "visitor": "v"}}"#;
        let event = PollybotEvent::parse(body).unwrap();
        let PollybotEvent::Unknown(unknown) = &event else { panic!("{event:?}") };
        assert_eq!(unknown.event_type, "CONVERSATION_STARTED");
        assert_eq!(event.event_type(), "CONVERSATION_STARTED");
        assert_eq!(event.dedup_parts(), Some(("CONVERSATION_STARTED", "77".to_owned(), 1_795_169_730)));

        let event = PollybotEvent::parse(br#"{"event": "LEAD_UPDATED", "data": {}}"#).unwrap();
        assert!(matches!(event, PollybotEvent::Unknown(_)));
        assert_eq!(event.dedup_parts(), None);
    }

    #[test]
    fn missing_type_or_non_object_is_an_error() {
        assert_eq!(PollybotEvent::parse(br#"{"data": {}}"#).unwrap_err().path(), "$");
        assert!(PollybotEvent::parse(b"\"LEAD_CREATED\"").is_err());
    }
}
