//! Botdog's typed events: one flat JSON object per delivery, dispatched on `eventType`.
//!
//! The payload facts these types follow are in the [module docs](super).
//!
//! The shared fields are repeated in each struct by a macro rather than `#[serde(flatten)]`d from
//! a common struct: flattening makes serde buffer the whole object first (see [`crate::event`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PayloadError;
use crate::event::{Event, TypedEvent, UnknownEvent, from_json, parse_straight, parse_typed, peek_type_field};

/// The field Botdog names its event type in.
const TYPE_FIELD: &str = "eventType";

/// Declares one Botdog event struct: the base and contact fields, then `$extra` fields.
macro_rules! botdog_event {
    (
        $(#[$struct_doc:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$struct_doc])*
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Unique delivery id; Botdog tells receivers to deduplicate retries on it.
            pub id: String,
            /// When the event happened.
            #[serde(with = "time::serde::rfc3339")]
            pub timestamp: OffsetDateTime,
            /// The event type, e.g. `LEAD_PROFILE_VISITED`.
            pub event_type: String,
            /// Botdog's label for the event type, e.g. `Profile visited`.
            pub human_readable_event_name: Option<String>,
            /// The campaign the lead belongs to.
            pub campaign_id: Option<String>,
            /// The campaign's name.
            pub campaign_name: Option<String>,
            /// The Botdog user who runs the campaign.
            pub botdog_user_id: Option<String>,
            /// That user's email address.
            pub botdog_user_email: Option<String>,
            /// That user's public LinkedIn profile URL.
            pub botdog_user_linkedin_public_url: Option<String>,
            /// The lead's full name.
            pub contact_name: Option<String>,
            /// The lead's LinkedIn profile URL.
            pub contact_linkedin_url: Option<String>,
            /// The lead's known email addresses (may be empty).
            #[serde(default)]
            pub contact_emails: Vec<String>,
            /// The lead's known phone numbers (may be empty).
            #[serde(default)]
            pub contact_phones: Vec<String>,
            /// The lead's company.
            pub contact_company_name: Option<String>,
            $( $(#[$field_meta])* pub $field: $ty, )*
        }
    };
}

botdog_event! {
    /// `LEAD_PROFILE_VISITED` ("Profile visited"): the campaign visited the lead's profile.
    LeadProfileVisited {
        /// When the profile was visited.
        #[serde(default, with = "time::serde::rfc3339::option")]
        visited_at: Option<OffsetDateTime>,
    }
}

botdog_event! {
    /// `LEAD_INVITATION_SENT` ("Invitation sent"): a connection invitation went out.
    LeadInvitationSent {
        /// When the invitation was sent.
        #[serde(default, with = "time::serde::rfc3339::option")]
        sent_at: Option<OffsetDateTime>,
        /// The invitation note, `None` when the invitation had none.
        message: Option<String>,
    }
}

botdog_event! {
    /// `LEAD_INVITATION_ACCEPTED` ("Invitation accepted"): the lead accepted the invitation.
    LeadInvitationAccepted {
        /// When the invitation was accepted.
        #[serde(default, with = "time::serde::rfc3339::option")]
        accepted_at: Option<OffsetDateTime>,
    }
}

botdog_event! {
    /// `LEAD_MESSAGE_SENT` ("Message sent"): the campaign sent the lead a message.
    LeadMessageSent {
        /// When the message was sent.
        #[serde(default, with = "time::serde::rfc3339::option")]
        sent_at: Option<OffsetDateTime>,
        /// The message text.
        message: Option<String>,
    }
}

botdog_event! {
    /// `LEAD_MESSAGE_REPLIED` ("Received a reply"): the lead replied.
    LeadMessageReplied {
        /// When the reply arrived.
        #[serde(default, with = "time::serde::rfc3339::option")]
        replied_at: Option<OffsetDateTime>,
        /// The reply's text.
        message: Option<String>,
    }
}

/// Declares [`BotdogEvent`] and its dispatch from one table: `"EVENT_TYPE" => Variant`, where the
/// variant's payload struct has the variant's name.
macro_rules! botdog_events {
    ($( $name:literal => $variant:ident, )*) => {
        /// A Botdog delivery, by `eventType`.
        ///
        /// Serializes as the sender's flat JSON object (untagged); an [`UnknownEvent`] serializes
        /// as `{"event_type", "raw"}`.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        pub enum BotdogEvent {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant($variant),
            )*
            /// An `eventType` this SDK does not know (for example a future `CAMPAIGN_*` event):
            /// its name and the whole body as JSON.
            Unknown(UnknownEvent),
        }

        impl BotdogEvent {
            /// The `eventType`s this SDK parses into typed variants.
            pub const KNOWN_EVENT_TYPES: &'static [&'static str] = &[$($name),*];

            /// Parses a (verified) Botdog body.
            ///
            /// Reads the body once, straight into the struct its `eventType` names. An unknown
            /// `eventType` gives [`BotdogEvent::Unknown`] for any JSON object.
            ///
            /// # Errors
            ///
            /// When the body is not a JSON object, `eventType` is missing or not a string, or a
            /// known event does not match its type (the error names the JSON path, e.g.
            /// `contactEmails`).
            pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
                parse_straight!(Self, body, Self::parse_in_two_passes, { $( [$name] => Self::$variant[$variant] ),* });
                parse_typed(body, Self::parse_in_two_passes)
            }

            /// [`BotdogEvent::parse`] reading `eventType` first, then the body into its type
            /// while tracking the JSON path: the errors of the one-pass parse.
            pub(crate) fn parse_in_two_passes(body: &[u8]) -> Result<Self, PayloadError> {
                let event_type = peek_type_field(body, TYPE_FIELD)?.ok_or_else(|| {
                    PayloadError::new("$", format!("missing field `{TYPE_FIELD}` at `$`"))
                })?;
                Ok(match event_type.as_ref() {
                    $( $name => Self::$variant(from_json(body)?), )*
                    other => Self::Unknown(UnknownEvent::parse_checked(other, TYPE_FIELD, body)?),
                })
            }

            /// The delivery id (top-level `id`), Botdog's documented deduplication key. For an
            /// unknown event, `id` if the body has it as a string.
            pub fn id(&self) -> Option<&str> {
                match self {
                    $( Self::$variant(event) => Some(&event.id), )*
                    Self::Unknown(event) => event.raw.get("id").and_then(serde_json::Value::as_str),
                }
            }
        }

        impl TypedEvent for BotdogEvent {
            const TYPE_FIELD: &'static str = TYPE_FIELD;

            fn is_typed(event_type: &str) -> bool {
                matches!(event_type, $($name)|*)
            }

            fn deserialize_as<'de, D: serde::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error> {
                Ok(match event_type {
                    $( $name => Self::$variant($variant::deserialize(object)?), )*
                    other => Self::Unknown(UnknownEvent::deserialize_as(other, object)?),
                })
            }
        }

        impl Event for BotdogEvent {
            fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(event) => &event.event_type, )*
                    Self::Unknown(event) => &event.event_type,
                }
            }
        }
    };
}

botdog_events! {
    "LEAD_PROFILE_VISITED" => LeadProfileVisited,
    "LEAD_INVITATION_SENT" => LeadInvitationSent,
    "LEAD_INVITATION_ACCEPTED" => LeadInvitationAccepted,
    "LEAD_MESSAGE_SENT" => LeadMessageSent,
    "LEAD_MESSAGE_REPLIED" => LeadMessageReplied,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// The type field is read without reading the rest of the body; the rest is still checked.
    #[test]
    fn what_the_type_peek_leaves_unread_is_checked() {
        let duplicate_known = r#"{"id":"e","eventType":"LEAD_MESSAGE_SENT","timestamp":"2026-11-20T10:15:30Z","eventType":"LEAD_MESSAGE_REPLIED"}"#;
        assert!(BotdogEvent::parse(duplicate_known.as_bytes()).is_err(), "a second eventType is refused");
        let duplicate_unknown = r#"{"eventType":"CAMPAIGN_X","id":"e","eventType":"CAMPAIGN_Y"}"#;
        let error = BotdogEvent::parse(duplicate_unknown.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "eventType", "{error:?}");
        for trailing in [
            r#"{"eventType":"LEAD_MESSAGE_SENT","id":"e","timestamp":"2026-11-20T10:15:30Z"} x"#,
            r#"{"eventType":"CAMPAIGN_X","id":"e"} x"#,
            r#"{"eventType":"LEAD_MESSAGE_SENT","id":"e","timestamp":"2026-11-20T10:15:30Z""#,
        ] {
            let error = BotdogEvent::parse(trailing.as_bytes()).unwrap_err();
            assert_eq!(error.path(), "$", "{trailing}: {error:?}");
        }
    }

    const REPLIED: &str = r#"{
        "id": "dlv_01", "timestamp": "2026-11-20T10:15:30.000Z",
        "eventType": "LEAD_MESSAGE_REPLIED", "humanReadableEventName": "Received a reply",
        "campaignId": "cmp_1", "contactName": "Ada Lovelace",
        "contactEmails": ["ada@example.com"], "repliedAt": "2026-11-20T10:15:00Z",
        "message": "Sounds good", "brandNewField": {"x": [1, 2]}
    }"#;

    #[test]
    fn known_event_parses_and_ignores_unknown_fields() {
        let event = BotdogEvent::parse(REPLIED.as_bytes()).unwrap();
        let BotdogEvent::LeadMessageReplied(replied) = &event else { panic!("{event:?}") };
        assert_eq!(replied.timestamp, datetime!(2026-11-20 10:15:30 UTC));
        assert_eq!(replied.replied_at, Some(datetime!(2026-11-20 10:15:00 UTC)));
        assert_eq!(replied.contact_emails, ["ada@example.com"]);
        assert!(replied.contact_phones.is_empty());
        assert_eq!(replied.message.as_deref(), Some("Sounds good"));
        assert_eq!(event.event_type(), "LEAD_MESSAGE_REPLIED");
        assert_eq!(event.id(), Some("dlv_01"));
    }

    #[test]
    fn null_message_and_missing_optionals_are_none() {
        let body = br#"{"id": "d", "timestamp": "2026-11-20T10:15:30Z",
            "eventType": "LEAD_INVITATION_SENT", "message": null}"#;
        let BotdogEvent::LeadInvitationSent(sent) = BotdogEvent::parse(body).unwrap() else { panic!() };
        assert_eq!(sent.message, None);
        assert_eq!(sent.sent_at, None);
        assert_eq!(sent.contact_name, None);
    }

    #[test]
    fn wrong_type_names_the_path() {
        let body = REPLIED.replace(r#"["ada@example.com"]"#, r#""ada@example.com""#);
        let error = BotdogEvent::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "contactEmails");
        assert!(!error.message().contains("ada@"), "{error}");

        let body = REPLIED.replace("\"2026-11-20T10:15:00Z\"", "\"yesterday\"");
        assert_eq!(BotdogEvent::parse(body.as_bytes()).unwrap_err().path(), "repliedAt");

        let error = BotdogEvent::parse(br#"{"eventType": "LEAD_MESSAGE_SENT", "id": "d"}"#).unwrap_err();
        assert_eq!(error.message(), "missing field `timestamp` at `$`");
    }

    #[test]
    fn unknown_type_keeps_name_and_json() {
        let body = br#"{"id": "d9", "eventType": "CAMPAIGN_FINISHED", "campaignId": 7}"#;
        let event = BotdogEvent::parse(body).unwrap();
        let BotdogEvent::Unknown(unknown) = &event else { panic!("{event:?}") };
        assert_eq!(unknown.event_type, "CAMPAIGN_FINISHED");
        assert_eq!(unknown.raw["campaignId"], 7);
        assert_eq!(event.event_type(), "CAMPAIGN_FINISHED");
        assert_eq!(event.id(), Some("d9"));
    }

    #[test]
    fn missing_or_non_string_type_is_an_error() {
        assert_eq!(BotdogEvent::parse(br#"{"id": "d"}"#).unwrap_err().path(), "$");
        assert_eq!(BotdogEvent::parse(br#"{"eventType": 3}"#).unwrap_err().path(), "eventType");
        assert!(BotdogEvent::parse(b"[]").is_err());
    }

    #[test]
    fn serializes_as_the_flat_object() {
        let json = serde_json::to_value(BotdogEvent::parse(REPLIED.as_bytes()).unwrap()).unwrap();
        assert_eq!(json["eventType"], "LEAD_MESSAGE_REPLIED");
        assert_eq!(json["timestamp"], "2026-11-20T10:15:30Z");
    }
}
