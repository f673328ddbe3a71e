//! Breakcold's typed events (current webhooks): an envelope `{"eventId", "timestamp",
//! "workspaceId", "event", "data"}`, dispatched on `event`.
//!
//! The payload facts these types follow are in the [module docs](super).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PayloadError;
use crate::event::{Event, TypedEvent, UnknownEvent, from_json, parse_straight, parse_typed, peek_type_field};

/// The field Breakcold names its event type in.
const TYPE_FIELD: &str = "event";

/// The envelope of every Breakcold delivery, around the event's `data`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakcoldEnvelope<D> {
    /// The event's id (`evt_…`), the fallback deduplication key.
    pub event_id: String,
    /// The event type, e.g. `record.created`.
    pub event: String,
    /// When the event happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The workspace the event belongs to.
    pub workspace_id: Option<String>,
    /// The event's payload.
    pub data: D,
}

/// `data` of `record.created` and `record.updated`: a CRM record (person, company, deal…).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordData {
    /// The record's id.
    pub id: String,
    /// The record's object type id.
    pub object_type: Option<String>,
    /// The object type's display name, e.g. `Company`.
    pub object_type_name: Option<String>,
    /// The record's display name.
    pub name: Option<String>,
    /// Field values by field slug; on `record.updated` only the changed fields.
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// When the record was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the record was last updated.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// `data` of `record.deleted`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordDeletedData {
    /// The deleted record's id.
    pub id: String,
    /// Always `true` when sent.
    pub deleted: Option<bool>,
}

/// `data` of `note.created` and `note.updated`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteData {
    /// The record the note is attached to.
    pub record_id: String,
    /// The note's id.
    pub note_id: String,
    /// The note's title.
    pub title: Option<String>,
    /// The note's content as plain text.
    pub content_plain: Option<String>,
    /// Who wrote the note, as sent (its shape is not documented).
    pub author: Option<serde_json::Value>,
    /// When the note was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    /// When the note was last updated.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// `data` of `note.deleted`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteDeletedData {
    /// The record the note was attached to.
    pub record_id: String,
    /// The deleted note's id.
    pub note_id: String,
    /// The deleted note's title.
    pub title: Option<String>,
}

/// `data` of `task.created` and `task.completed`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskData {
    /// The record the task is attached to.
    pub record_id: String,
    /// The task's id.
    pub task_id: String,
    /// The task's title.
    pub title: Option<String>,
    /// The task's status.
    pub status: Option<TaskStatus>,
    /// When the task is due.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
}

/// A task's `status`: documented as `"todo"` or `"done"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStatus {
    /// `"todo"`.
    Todo,
    /// `"done"`.
    Done,
    /// Any other value, as sent: Breakcold may add statuses without notice.
    Other(String),
}

impl TaskStatus {
    /// The status as Breakcold spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Todo => "todo",
            Self::Done => "done",
            Self::Other(status) => status,
        }
    }
}

impl From<String> for TaskStatus {
    fn from(status: String) -> Self {
        match status.as_str() {
            "todo" => Self::Todo,
            "done" => Self::Done,
            _ => Self::Other(status),
        }
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `data` of `relation.added` and `relation.removed`: a link between two records.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationData {
    /// The record the relation starts from.
    pub source_record_id: String,
    /// The record the relation points to.
    pub target_record_id: String,
    /// The relation field's definition id.
    pub field_definition_id: Option<String>,
    /// The relation field's slug.
    pub field_slug: Option<String>,
}

/// `data` of `call.linked` and `call.unlinked`: a recorded call or meeting on a record.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallData {
    /// The record the call is linked to.
    pub record_id: String,
    /// The call's id.
    pub call_id: String,
    /// The record's display name.
    pub record_name: Option<String>,
    /// The meeting's title.
    pub meeting_title: Option<String>,
}

/// `data` of `file.uploaded` and `file.deleted`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData {
    /// The record the file is attached to.
    pub record_id: String,
    /// The file's name.
    pub file_name: String,
}

/// Declares [`BreakcoldEvent`] and its dispatch from one table: `"event" => Variant(DataType)`.
macro_rules! breakcold_events {
    ($( $name:literal => $variant:ident($data:ty), )*) => {
        /// A Breakcold delivery (current webhooks), by `event`.
        ///
        /// Serializes as the sender's JSON object (untagged); an [`UnknownEvent`] serializes as
        /// `{"event_type", "raw"}`.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        pub enum BreakcoldEvent {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant(BreakcoldEnvelope<$data>),
            )*
            /// An event this SDK does not know: its name and the whole body as JSON.
            Unknown(UnknownEvent),
        }

        impl BreakcoldEvent {
            /// The `event` names this SDK parses into typed variants.
            pub const KNOWN_EVENT_TYPES: &'static [&'static str] = &[$($name),*];

            /// Parses a (verified) Breakcold body.
            ///
            /// Reads the body once, straight into the envelope its `event` names. An unknown
            /// `event` gives [`BreakcoldEvent::Unknown`] for any JSON object.
            ///
            /// # Errors
            ///
            /// When the body is not a JSON object, `event` is missing or not a string, or a known
            /// event does not match its type (the error names the JSON path, e.g. `data.taskId`).
            pub fn parse(body: &[u8]) -> Result<Self, PayloadError> {
                parse_straight!(Self, body, Self::parse_in_two_passes, {
                    $( [$name] => Self::$variant[BreakcoldEnvelope<$data>] ),*
                });
                parse_typed(body, Self::parse_in_two_passes)
            }

            /// [`BreakcoldEvent::parse`] reading `event` first, then the body into its envelope
            /// while tracking the JSON path: the errors of the one-pass parse.
            pub(crate) fn parse_in_two_passes(body: &[u8]) -> Result<Self, PayloadError> {
                let event = peek_type_field(body, TYPE_FIELD)?.ok_or_else(|| {
                    PayloadError::new("$", format!("missing field `{TYPE_FIELD}` at `$`"))
                })?;
                Ok(match event.as_ref() {
                    $( $name => Self::$variant(from_json(body)?), )*
                    other => Self::Unknown(UnknownEvent::parse_checked(other, TYPE_FIELD, body)?),
                })
            }

            /// The body's `eventId`, the deduplication key when the `X-Webhook-Delivery-Id`
            /// header is absent. For an unknown event, `eventId` if the body has it as a string.
            pub fn event_id(&self) -> Option<&str> {
                match self {
                    $( Self::$variant(envelope) => Some(&envelope.event_id), )*
                    Self::Unknown(unknown) => {
                        unknown.raw.get("eventId").and_then(serde_json::Value::as_str)
                    }
                }
            }
        }

        impl TypedEvent for BreakcoldEvent {
            const TYPE_FIELD: &'static str = TYPE_FIELD;

            fn is_typed(event_type: &str) -> bool {
                matches!(event_type, $($name)|*)
            }

            fn deserialize_as<'de, D: serde::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error> {
                Ok(match event_type {
                    $( $name => Self::$variant(BreakcoldEnvelope::<$data>::deserialize(object)?), )*
                    other => Self::Unknown(UnknownEvent::deserialize_as(other, object)?),
                })
            }
        }

        impl Event for BreakcoldEvent {
            fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(envelope) => &envelope.event, )*
                    Self::Unknown(unknown) => &unknown.event_type,
                }
            }
        }
    };
}

breakcold_events! {
    "record.created" => RecordCreated(RecordData),
    "record.updated" => RecordUpdated(RecordData),
    "record.deleted" => RecordDeleted(RecordDeletedData),
    "note.created" => NoteCreated(NoteData),
    "note.updated" => NoteUpdated(NoteData),
    "note.deleted" => NoteDeleted(NoteDeletedData),
    "task.created" => TaskCreated(TaskData),
    "task.completed" => TaskCompleted(TaskData),
    "relation.added" => RelationAdded(RelationData),
    "relation.removed" => RelationRemoved(RelationData),
    "call.linked" => CallLinked(CallData),
    "call.unlinked" => CallUnlinked(CallData),
    "file.uploaded" => FileUploaded(FileData),
    "file.deleted" => FileDeleted(FileData),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const TASK: &str = r#"{
        "eventId": "evt_1", "timestamp": "2026-11-20T10:15:30.000Z", "workspaceId": "ws_1",
        "event": "task.completed", "extra": [1],
        "data": {"recordId": "rec_1", "taskId": "tsk_1", "title": "Send proposal",
                 "status": "done", "dueAt": "2026-11-21T09:00:00Z", "priority": "high"}
    }"#;

    #[test]
    fn task_parses_and_ignores_unknown_fields() {
        let event = BreakcoldEvent::parse(TASK.as_bytes()).unwrap();
        let BreakcoldEvent::TaskCompleted(envelope) = &event else { panic!("{event:?}") };
        assert_eq!(envelope.timestamp, datetime!(2026-11-20 10:15:30 UTC));
        assert_eq!(envelope.workspace_id.as_deref(), Some("ws_1"));
        assert_eq!(envelope.data.status, Some(TaskStatus::Done));
        assert_eq!(envelope.data.due_at, Some(datetime!(2026-11-21 09:00 UTC)));
        assert_eq!(event.event_type(), "task.completed");
        assert_eq!(event.event_id(), Some("evt_1"));
    }

    #[test]
    fn task_status_is_lenient_and_round_trips() {
        let body = TASK.replace(r#""done""#, r#""in_review""#);
        let BreakcoldEvent::TaskCompleted(envelope) = BreakcoldEvent::parse(body.as_bytes()).unwrap() else { panic!() };
        assert_eq!(envelope.data.status, Some(TaskStatus::Other("in_review".to_owned())));
        assert_eq!(serde_json::to_value(&envelope).unwrap()["data"]["status"], "in_review");
        assert_eq!(serde_json::to_value(TaskStatus::Todo).unwrap(), "todo");
    }

    #[test]
    fn wrong_type_names_the_path() {
        let body = TASK.replace(r#""taskId": "tsk_1""#, r#""taskId": 5"#);
        assert_eq!(BreakcoldEvent::parse(body.as_bytes()).unwrap_err().path(), "data.taskId");
        let body = TASK.replace(r#""taskId": "tsk_1", "#, "");
        let error = BreakcoldEvent::parse(body.as_bytes()).unwrap_err();
        assert_eq!(error.message(), "missing field `taskId` at `data`");
        let body = TASK.replace(r#""eventId": "evt_1", "#, "");
        assert_eq!(BreakcoldEvent::parse(body.as_bytes()).unwrap_err().path(), "$");
    }

    #[test]
    fn record_fields_default_to_empty() {
        let body = br#"{"eventId": "e", "timestamp": "2026-11-20T10:15:30Z",
            "event": "record.updated", "data": {"id": "rec_9"}}"#;
        let BreakcoldEvent::RecordUpdated(envelope) = BreakcoldEvent::parse(body).unwrap() else { panic!() };
        assert!(envelope.data.fields.is_empty());
        assert_eq!(envelope.workspace_id, None);
    }

    #[test]
    fn unknown_type_keeps_name_and_json() {
        let body = br#"{"eventId": "evt_9", "event": "email.opened", "data": {"x": 1}}"#;
        let event = BreakcoldEvent::parse(body).unwrap();
        let BreakcoldEvent::Unknown(unknown) = &event else { panic!("{event:?}") };
        assert_eq!(unknown.event_type, "email.opened");
        assert_eq!(unknown.raw["data"]["x"], 1);
        assert_eq!(event.event_id(), Some("evt_9"));
        assert_eq!(event.event_type(), "email.opened");
    }

    #[test]
    fn every_known_name_dispatches_to_a_typed_variant() {
        assert_eq!(BreakcoldEvent::KNOWN_EVENT_TYPES.len(), 14);
        for name in BreakcoldEvent::KNOWN_EVENT_TYPES {
            let body = format!(r#"{{"event": "{name}"}}"#);
            // A typed event without its envelope fields is an error, never Unknown.
            assert!(BreakcoldEvent::parse(body.as_bytes()).is_err(), "{name}");
        }
    }
}
