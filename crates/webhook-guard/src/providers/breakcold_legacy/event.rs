//! Breakcold's legacy webhooks, typed: an envelope `{"id_space", "event", "secret", "payload"}`,
//! dispatched on `event`.
//!
//! The payload facts these types follow are in the [module docs](super).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PayloadError;
use crate::event::{Event, TypedEvent, UnknownEvent, from_json, parse_straight, parse_typed, peek_type_field};

/// The field the legacy webhooks name their event type in.
const TYPE_FIELD: &str = "event";

/// The envelope of a legacy delivery, without its `secret`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct LegacyEnvelope<P> {
    /// The Breakcold space (workspace) the webhook belongs to.
    pub id_space: Option<String>,
    /// The event name as sent, e.g. `lead.create` (or `lead.lists.update`).
    pub event: String,
    /// The event's payload.
    pub payload: P,
}

/// A lead, as the legacy webhooks send it in `payload`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct LegacyLead {
    /// The lead's id.
    pub id: String,
    /// Email address.
    pub email: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// Free-text notes.
    pub notes: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// LinkedIn profile URL.
    pub linkedin_url: Option<String>,
    /// When the lead was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the lead was last updated.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Personalised opening line.
    pub icebreaker: Option<String>,
    /// Second opening line.
    pub icebreaker_2: Option<String>,
    /// Third opening line.
    pub icebreaker_3: Option<String>,
    /// Fourth opening line.
    pub icebreaker_4: Option<String>,
    /// Website URL.
    pub website_url: Option<String>,
    /// Time zone, e.g. `Europe/Paris`.
    pub timezone: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Role at the company.
    pub company_role: Option<String>,
    /// Twitter handle.
    pub twitter_name: Option<String>,
    /// Avatar image URL.
    pub avatar_url: Option<String>,
    /// Email deliverability score.
    pub email_bounce_score: Option<f64>,
    /// Company name on Twitter.
    pub twitter_company_name: Option<String>,
    /// Whether the lead is deleted.
    pub is_deleted: Option<bool>,
    /// When the lead was deleted.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub is_deleted_at: Option<OffsetDateTime>,
    /// Custom field values, as sent.
    pub custom_fields: Option<serde_json::Value>,
    /// The custom fields' schema, as sent.
    pub custom_fields_schema: Option<serde_json::Value>,
    /// Position in the pipeline column.
    pub order: Option<f64>,
    /// Deal value.
    pub contract_value: Option<f64>,
    /// Whether the lead is tracked.
    pub is_tracked: Option<bool>,
    /// The import task that created the lead.
    pub id_import_task: Option<String>,
    /// The lead's company on LinkedIn.
    pub id_linkedin_company: Option<String>,
    /// The lead on LinkedIn.
    pub id_linkedin: Option<String>,
    /// The Breakcold space the lead belongs to.
    pub id_space: Option<String>,
    /// The lead's company on Twitter.
    pub id_twitter_company: Option<String>,
    /// The lead on Twitter.
    pub id_twitter: Option<String>,
}

/// Declares [`BreakcoldLegacyEvent`] and its dispatch from one table:
/// `"name" | "alias" => Variant(PayloadType)`.
macro_rules! legacy_events {
    ($( $($name:literal)|+ => $variant:ident($payload:ty), )*) => {
        /// A Breakcold legacy delivery, by `event`.
        ///
        /// Serializes as the sender's JSON object without its `secret` (untagged); an
        /// [`UnknownEvent`] serializes as `{"event_type", "raw"}`.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        pub enum BreakcoldLegacyEvent {
            $(
                #[doc = concat!($("`", $name, "` "),+)]
                $variant(LegacyEnvelope<$payload>),
            )*
            /// An event this SDK does not know: its name and the whole body as JSON, minus the
            /// top-level `secret`.
            Unknown(UnknownEvent),
        }

        impl BreakcoldLegacyEvent {
            /// Every `event` name (aliases included) this SDK parses into typed variants.
            pub const KNOWN_EVENT_TYPES: &'static [&'static str] = &[$($($name),+),*];

            /// Parses a legacy Breakcold body (whose `secret` the verifier has checked).
            ///
            /// Reads the body once, straight into the envelope its `event` names. An unknown
            /// `event` gives [`BreakcoldLegacyEvent::Unknown`] for any JSON object.
            ///
            /// # Errors
            ///
            /// When the body is not a JSON object, `event` is missing or not a string, or a known
            /// event does not match its type (the error names the JSON path, e.g. `payload.id`).
            pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
                parse_straight!(Self, body, Self::parse_in_two_passes, {
                    $( [$($name),+] => Self::$variant[LegacyEnvelope<$payload>] ),*
                });
                parse_typed(body, Self::parse_in_two_passes)
            }

            /// [`BreakcoldLegacyEvent::parse`] reading `event` first, then the body into its
            /// envelope while tracking the JSON path: the errors of the one-pass parse.
            pub(crate) fn parse_in_two_passes(body: &[u8]) -> Result<Self, PayloadError> {
                let event = peek_type_field(body, TYPE_FIELD)?.ok_or_else(|| {
                    PayloadError::new("$", format!("missing field `{TYPE_FIELD}` at `$`"))
                })?;
                Ok(match event.as_ref() {
                    $( $($name)|+ => Self::$variant(from_json(body)?), )*
                    other => Self::Unknown(unknown_without_secret(other, body)?),
                })
            }

        }

        impl TypedEvent for BreakcoldLegacyEvent {
            const TYPE_FIELD: &'static str = TYPE_FIELD;

            fn is_typed(event_type: &str) -> bool {
                matches!(event_type, $($($name)|+)|*)
            }

            fn deserialize_as<'de, D: serde::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error> {
                Ok(match event_type {
                    $( $($name)|+ => Self::$variant(LegacyEnvelope::<$payload>::deserialize(object)?), )*
                    other => {
                        let mut unknown = UnknownEvent::deserialize_as(other, object)?;
                        remove_secret(&mut unknown);
                        Self::Unknown(unknown)
                    }
                })
            }
        }

        impl Event for BreakcoldLegacyEvent {
            fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(envelope) => &envelope.event, )*
                    Self::Unknown(unknown) => &unknown.event_type,
                }
            }
        }
    };
}

legacy_events! {
    "lead.create" => LeadCreate(LegacyLead),
    "lead.update" => LeadUpdate(LegacyLead),
    "lead.delete" => LeadDelete(LegacyLead),
    "lead.status.update" => LeadStatusUpdate(LegacyLead),
    "lead.list.update" | "lead.lists.update" => LeadListUpdate(LegacyLead),
    "lead.tags.update" => LeadTagsUpdate(LegacyLead),
    "lead.track" => LeadTrack(LegacyLead),
    "lead.task.create" => LeadTaskCreate(serde_json::Value),
    "lead.task.update" => LeadTaskUpdate(serde_json::Value),
    "lead.task.delete" => LeadTaskDelete(serde_json::Value),
    "lead.note.create" => LeadNoteCreate(serde_json::Value),
    "lead.note.update" => LeadNoteUpdate(serde_json::Value),
    "lead.note.delete" => LeadNoteDelete(serde_json::Value),
    "lead.linkedin.new" => LeadLinkedinNew(serde_json::Value),
    "lead.twitter.new" => LeadTwitterNew(serde_json::Value),
    "lead.email.new" => LeadEmailNew(serde_json::Value),
    "campaign.create" => CampaignCreate(serde_json::Value),
    "campaign.update" => CampaignUpdate(serde_json::Value),
    "campaign.delete" => CampaignDelete(serde_json::Value),
    "campaign.email.sent" => CampaignEmailSent(serde_json::Value),
    "campaign.email.reply" => CampaignEmailReply(serde_json::Value),
    "campaign.email.open" => CampaignEmailOpen(serde_json::Value),
    "campaign.email.click" => CampaignEmailClick(serde_json::Value),
    "campaign.email.bounce" => CampaignEmailBounce(serde_json::Value),
    "campaign.email.unsubscribe" => CampaignEmailUnsubscribe(serde_json::Value),
    "list.create" => ListCreate(serde_json::Value),
    "list.update" => ListUpdate(serde_json::Value),
    "list.delete" => ListDelete(serde_json::Value),
    "status.create" => StatusCreate(serde_json::Value),
    "status.update" => StatusUpdate(serde_json::Value),
    "status.delete" => StatusDelete(serde_json::Value),
    "tag.create" => TagCreate(serde_json::Value),
    "tag.update" => TagUpdate(serde_json::Value),
    "tag.delete" => TagDelete(serde_json::Value),
}

/// An [`UnknownEvent`] whose raw JSON lacks the top-level `secret`.
fn unknown_without_secret(event: &str, body: &[u8]) -> Result<UnknownEvent, PayloadError> {
    let mut unknown = UnknownEvent::parse_checked(event, TYPE_FIELD, body)?;
    remove_secret(&mut unknown);
    Ok(unknown)
}

/// Drops the top-level `secret` from an unknown event's JSON: it authenticates the delivery and
/// must not reach handlers, logs or serialized events.
fn remove_secret(unknown: &mut UnknownEvent) {
    if let Some(object) = unknown.raw.as_object_mut() {
        object.remove("secret");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const SECRET: &str = "wh_do_not_print_me";

    fn lead_body(event: &str) -> String {
        format!(
            r#"{{"id_space": "sp_1", "event": "{event}", "secret": "{SECRET}",
                "payload": {{"id": "ld_1", "email": "max@example.com", "contract_value": 1200.5,
                             "is_tracked": true, "created_at": "2026-11-19T08:00:00.000Z",
                             "updated_at": "2026-11-20T10:15:30.000Z", "new_field": [1]}}}}"#
        )
    }

    #[test]
    fn lead_event_parses_without_the_secret() {
        let event = BreakcoldLegacyEvent::parse(lead_body("lead.update").as_bytes()).unwrap();
        let BreakcoldLegacyEvent::LeadUpdate(envelope) = &event else { panic!("{event:?}") };
        assert_eq!(envelope.id_space.as_deref(), Some("sp_1"));
        assert_eq!(envelope.payload.contract_value, Some(1200.5));
        assert_eq!(envelope.payload.updated_at, Some(datetime!(2026-11-20 10:15:30 UTC)));
        assert_eq!(envelope.payload.first_name, None);
        assert!(!format!("{event:?}").contains(SECRET));
        assert!(!serde_json::to_string(&event).unwrap().contains(SECRET));
    }

    #[test]
    fn alias_spelling_is_the_same_variant_and_keeps_its_name() {
        let event = BreakcoldLegacyEvent::parse(lead_body("lead.lists.update").as_bytes()).unwrap();
        assert!(matches!(event, BreakcoldLegacyEvent::LeadListUpdate(_)));
        assert_eq!(event.event_type(), "lead.lists.update");
        let event = BreakcoldLegacyEvent::parse(lead_body("lead.list.update").as_bytes()).unwrap();
        assert!(matches!(event, BreakcoldLegacyEvent::LeadListUpdate(_)));
        assert_eq!(event.event_type(), "lead.list.update");
    }

    #[test]
    fn wrong_type_names_the_path() {
        let body = lead_body("lead.create").replace("true", "\"yes\"");
        let error = BreakcoldLegacyEvent::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "payload.is_tracked");
        assert!(!error.message().contains("yes"), "{error}");
        let body = lead_body("lead.track").replace(r#""id": "ld_1", "#, "");
        let error = BreakcoldLegacyEvent::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.message(), "missing field `id` at `payload`");
        let error = BreakcoldLegacyEvent::parse(br#"{"event": "tag.create"}"#).unwrap_err();
        assert_eq!(error.message(), "missing field `payload` at `$`");
    }

    #[test]
    fn json_payload_events_keep_their_payload() {
        let body = br#"{"event": "campaign.email.open", "secret": "s",
            "payload": {"id": 42, "created_at": "2026-11-20T10:15:30+00:00"}}"#;
        let event = BreakcoldLegacyEvent::parse(body).unwrap();
        assert!(matches!(event, BreakcoldLegacyEvent::CampaignEmailOpen(_)));
        let BreakcoldLegacyEvent::CampaignEmailOpen(envelope) = &event else { panic!("{event:?}") };
        assert_eq!(envelope.payload["id"], 42);
    }

    #[test]
    fn unknown_type_keeps_name_and_json_but_not_the_secret() {
        let event = BreakcoldLegacyEvent::parse(lead_body("lead.merge").as_bytes()).unwrap();
        let BreakcoldLegacyEvent::Unknown(unknown) = &event else { panic!("{event:?}") };
        assert_eq!(unknown.event_type, "lead.merge");
        assert_eq!(unknown.raw["payload"]["id"], "ld_1");
        assert!(unknown.raw.get("secret").is_none());
        assert!(!format!("{event:?}").contains(SECRET));
    }

    #[test]
    fn missing_type_is_an_error() {
        assert_eq!(BreakcoldLegacyEvent::parse(br#"{"payload": {}}"#).unwrap_err().path(), "$");
    }
}
