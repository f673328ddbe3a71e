//! Each sender's typed events mapped to an [`Effect`]. The field facts come from the providers'
//! typed events in `webhook_guard::providers` (and /work/shared/VENDORS.md behind them).
//!
//! | sender | creates or updates a contact | refers to a lead (linked when known) | activity only |
//! |---|---|---|---|
//! | Botdog | the five `LEAD_*` events (matched by LinkedIn URL, emails, phones: Botdog sends no lead id) | | unknown types |
//! | Pollybot | `LEAD_CREATED` (lead id `data.id`) | | unknown types |
//! | Breakcold | `record.created`/`record.updated` of a person record | `record.deleted`, `note.*`, `task.*`, `call.*`, `file.*`; company and deal records | `relation.*`, unknown types |
//! | Breakcold legacy | `lead.create`/`update`/`status.update`/`list.update`/`tags.update`/`track` | `lead.delete`, `lead.task.*`, `lead.note.*`, `lead.*.new`, `campaign.email.*` (`id_lead`) | `campaign.*`, `list.*`, `status.*`, `tag.*`, unknown types |
//! | Standard (Arbol) | `contact.created`/`contact.updated`, `call.*` (contact id and phone) | `contact.deleted`, any event whose `data.contactId` is a string | the rest |

use serde_json::Value;
use time::OffsetDateTime;
use webhook_guard::providers::breakcold::{BreakcoldEnvelope, RecordData};
use webhook_guard::providers::breakcold_legacy::{LegacyEnvelope, LegacyLead};
use webhook_guard::providers::{BotdogEvent, BreakcoldEvent, BreakcoldLegacyEvent, PollybotEvent, StandardEvent};

use crate::effect::{Effect, full_name, non_empty};

/// A sender's typed event, as crm-sync reads it.
pub(crate) trait Describe {
    /// What the event does to the contacts.
    fn effect(&self) -> Effect;
}

/// The string at `key` of a JSON object.
fn string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

impl Describe for BotdogEvent {
    fn effect(&self) -> Effect {
        /// The fields every lead event shares, whatever its variant.
        macro_rules! lead {
            ($event:expr) => {{
                let event = $event;
                let mut effect = Effect { occurred_at: Some(event.timestamp), create: true, ..Effect::default() };
                effect.fields.name = non_empty(event.contact_name.as_deref());
                effect.fields.company = non_empty(event.contact_company_name.as_deref());
                effect.add_linkedin(event.contact_linkedin_url.as_deref());
                for email in &event.contact_emails {
                    effect.add_email(Some(email));
                }
                for phone in &event.contact_phones {
                    effect.add_phone(Some(phone));
                }
                effect
            }};
        }
        match self {
            Self::LeadProfileVisited(event) => lead!(event),
            Self::LeadInvitationSent(event) => lead!(event),
            Self::LeadInvitationAccepted(event) => lead!(event),
            Self::LeadMessageSent(event) => lead!(event),
            Self::LeadMessageReplied(event) => lead!(event),
            Self::Unknown(event) => Effect::activity_only(rfc3339(event.raw.get("timestamp"))),
            // A variant added to the SDK later: recorded, as an unknown type is.
            _ => Effect::activity_only(None),
        }
    }
}

impl Describe for PollybotEvent {
    fn effect(&self) -> Effect {
        match self {
            Self::LeadCreated(envelope) => {
                let lead = &envelope.data;
                let mut effect = Effect {
                    occurred_at: Some(envelope.timestamp),
                    lead_id: Some(lead.id.clone()),
                    create: true,
                    ..Effect::default()
                };
                effect.fields.name = non_empty(lead.name.as_deref());
                effect.fields.company = non_empty(lead.company.as_deref());
                effect.add_email(lead.email.as_deref());
                effect.add_phone(lead.phone.as_deref());
                effect
            }
            // Pollybot's timestamp is Unix seconds.
            Self::Unknown(event) => Effect::activity_only(
                event
                    .raw
                    .get("timestamp")
                    .and_then(Value::as_i64)
                    .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok()),
            ),
            _ => Effect::activity_only(None),
        }
    }
}

/// Whether a Breakcold record is a person: its object type's name (or id) says person, people,
/// contact or lead. Company and deal records are not contacts.
fn is_person(record: &RecordData) -> bool {
    [record.object_type_name.as_deref(), record.object_type.as_deref()].into_iter().flatten().any(|name| {
        let name = name.to_lowercase();
        ["person", "people", "contact", "lead"].iter().any(|word| name.contains(word))
    })
}

/// A record field's text: a string, or the first string of a list.
fn field<'a>(fields: &'a serde_json::Map<String, Value>, slugs: &[&str]) -> Option<&'a str> {
    slugs.iter().filter_map(|slug| fields.get(*slug)).find_map(|value| match value {
        Value::String(text) => Some(text.as_str()),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    })
}

fn breakcold_record(envelope: &BreakcoldEnvelope<RecordData>) -> Effect {
    let record = &envelope.data;
    if !is_person(record) {
        return Effect::about(Some(envelope.timestamp), Some(&record.id));
    }
    let fields = &record.fields;
    let mut effect = Effect {
        occurred_at: Some(envelope.timestamp),
        lead_id: Some(record.id.clone()),
        create: true,
        ..Effect::default()
    };
    // `record.updated` carries only the changed fields; the name is the record's display name.
    effect.fields.name = non_empty(record.name.as_deref())
        .or_else(|| full_name(field(fields, &["first_name"]), field(fields, &["last_name"])));
    effect.fields.company = non_empty(field(fields, &["company", "company_name"]));
    effect.fields.title = non_empty(field(fields, &["job_title", "title", "role"]));
    effect.add_email(field(fields, &["email", "emails"]));
    effect.add_phone(field(fields, &["phone", "phones", "phone_number"]));
    effect.add_linkedin(field(fields, &["linkedin_url", "linkedin"]));
    effect
}

impl Describe for BreakcoldEvent {
    fn effect(&self) -> Effect {
        match self {
            Self::RecordCreated(envelope) | Self::RecordUpdated(envelope) => breakcold_record(envelope),
            Self::RecordDeleted(envelope) => Effect::about(Some(envelope.timestamp), Some(&envelope.data.id)),
            Self::NoteCreated(envelope) | Self::NoteUpdated(envelope) => {
                Effect::about(Some(envelope.timestamp), Some(&envelope.data.record_id))
            }
            Self::NoteDeleted(envelope) => Effect::about(Some(envelope.timestamp), Some(&envelope.data.record_id)),
            Self::TaskCreated(envelope) | Self::TaskCompleted(envelope) => {
                Effect::about(Some(envelope.timestamp), Some(&envelope.data.record_id))
            }
            Self::CallLinked(envelope) | Self::CallUnlinked(envelope) => {
                Effect::about(Some(envelope.timestamp), Some(&envelope.data.record_id))
            }
            Self::FileUploaded(envelope) | Self::FileDeleted(envelope) => {
                Effect::about(Some(envelope.timestamp), Some(&envelope.data.record_id))
            }
            Self::RelationAdded(envelope) | Self::RelationRemoved(envelope) => {
                Effect::activity_only(Some(envelope.timestamp))
            }
            Self::Unknown(event) => Effect::activity_only(rfc3339(event.raw.get("timestamp"))),
            _ => Effect::activity_only(None),
        }
    }
}

/// The time a legacy lead event happened: the lead's `updated_at`, else `created_at` (the
/// envelope has no timestamp).
fn legacy_time(lead: &LegacyLead) -> Option<OffsetDateTime> {
    lead.updated_at.or(lead.created_at)
}

fn legacy_lead(envelope: &LegacyEnvelope<LegacyLead>) -> Effect {
    let lead = &envelope.payload;
    let mut effect =
        Effect { occurred_at: legacy_time(lead), lead_id: Some(lead.id.clone()), create: true, ..Effect::default() };
    effect.fields.name = full_name(lead.first_name.as_deref(), lead.last_name.as_deref());
    effect.fields.company = non_empty(lead.company.as_deref());
    effect.fields.title = non_empty(lead.company_role.as_deref());
    effect.add_email(lead.email.as_deref());
    effect.add_phone(lead.phone.as_deref());
    effect.add_linkedin(lead.linkedin_url.as_deref());
    effect
}

/// A legacy event about a lead without being one (a task, a note, an email, a campaign email):
/// its payload's `id_lead`, and the time in `updated_at`, `created_at` or `sent_at`.
fn legacy_about(payload: &Value) -> Effect {
    let occurred_at = ["updated_at", "created_at", "sent_at"].into_iter().find_map(|key| rfc3339(payload.get(key)));
    Effect::about(occurred_at, string(payload, "id_lead"))
}

impl Describe for BreakcoldLegacyEvent {
    fn effect(&self) -> Effect {
        use BreakcoldLegacyEvent as E;
        match self {
            E::LeadCreate(envelope)
            | E::LeadUpdate(envelope)
            | E::LeadStatusUpdate(envelope)
            | E::LeadListUpdate(envelope)
            | E::LeadTagsUpdate(envelope)
            | E::LeadTrack(envelope) => legacy_lead(envelope),
            E::LeadDelete(envelope) => {
                let lead = &envelope.payload;
                Effect::about(lead.is_deleted_at.or_else(|| legacy_time(lead)), Some(&lead.id))
            }
            E::LeadTaskCreate(envelope)
            | E::LeadTaskUpdate(envelope)
            | E::LeadTaskDelete(envelope)
            | E::LeadNoteCreate(envelope)
            | E::LeadNoteUpdate(envelope)
            | E::LeadNoteDelete(envelope)
            | E::LeadLinkedinNew(envelope)
            | E::LeadTwitterNew(envelope)
            | E::LeadEmailNew(envelope)
            | E::CampaignEmailSent(envelope)
            | E::CampaignEmailReply(envelope)
            | E::CampaignEmailOpen(envelope)
            | E::CampaignEmailClick(envelope)
            | E::CampaignEmailBounce(envelope)
            | E::CampaignEmailUnsubscribe(envelope) => legacy_about(&envelope.payload),
            E::CampaignCreate(envelope)
            | E::CampaignUpdate(envelope)
            | E::CampaignDelete(envelope)
            | E::ListCreate(envelope)
            | E::ListUpdate(envelope)
            | E::ListDelete(envelope)
            | E::StatusCreate(envelope)
            | E::StatusUpdate(envelope)
            | E::StatusDelete(envelope)
            | E::TagCreate(envelope)
            | E::TagUpdate(envelope)
            | E::TagDelete(envelope) => {
                let payload = &envelope.payload;
                Effect::activity_only(
                    ["updated_at", "created_at"].into_iter().find_map(|key| rfc3339(payload.get(key))),
                )
            }
            E::Unknown(event) => {
                let payload = event.raw.get("payload").unwrap_or(&Value::Null);
                Effect { lead_id: None, ..legacy_about(payload) }
            }
            _ => Effect::activity_only(None),
        }
    }
}

impl Describe for StandardEvent<Value> {
    fn effect(&self) -> Effect {
        let data = &self.data;
        let contact_id = string(data, "contactId");
        let event_type = self.event_type.as_str();
        if event_type == "contact.created" || event_type == "contact.updated" {
            let mut effect = Effect {
                occurred_at: self.timestamp,
                lead_id: contact_id.map(str::to_owned),
                create: true,
                ..Effect::default()
            };
            effect.fields.name = full_name(string(data, "firstName"), string(data, "lastName"))
                .or_else(|| non_empty(string(data, "name")));
            effect.fields.company = non_empty(string(data, "company"));
            effect.add_email(string(data, "email"));
            effect.add_phone(string(data, "phoneNumber"));
            return effect;
        }
        if event_type.starts_with("call.") && contact_id.is_some() {
            // A call is with a contact, at its number (`phoneNumber`: the contact's side).
            let mut effect = Effect {
                occurred_at: self.timestamp,
                lead_id: contact_id.map(str::to_owned),
                create: true,
                ..Effect::default()
            };
            effect.add_phone(string(data, "phoneNumber"));
            return effect;
        }
        Effect::about(self.timestamp, contact_id)
    }
}

/// An RFC 3339 string as a time.
fn rfc3339(value: Option<&Value>) -> Option<OffsetDateTime> {
    let text = value?.as_str()?;
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;
    use webhook_guard::testing::fixtures;

    use super::*;
    use crate::effect::Identity;

    fn identity(kind: &str, value: &str) -> Identity {
        Identity { kind: kind.into(), value: value.into() }
    }

    #[test]
    fn every_fixture_maps_to_an_effect_with_its_time() {
        for provider in ["botdog", "pollybot", "breakcold", "breakcold-legacy", "standard"] {
            for fixture in fixtures(provider) {
                let body = fixture.body.as_bytes();
                let effect = match provider {
                    "botdog" => BotdogEvent::parse(body).unwrap().effect(),
                    "pollybot" => PollybotEvent::parse(body).unwrap().effect(),
                    "breakcold" => BreakcoldEvent::parse(body).unwrap().effect(),
                    "breakcold-legacy" => BreakcoldLegacyEvent::parse(body).unwrap().effect(),
                    _ => StandardEvent::<Value>::parse(body).unwrap().effect(),
                };
                let name = fixture.relative_path();
                // Every fixture says when it happened, in its body.
                assert!(effect.occurred_at.is_some(), "{name}: {effect:?}");
                if effect.create {
                    assert!(effect.lead_id.is_some() || !effect.identities.is_empty(), "{name}");
                }
            }
        }
    }

    #[test]
    fn botdog_lead_matches_by_linkedin_emails_and_phones() {
        let fixture = webhook_guard::testing::fixture("botdog", "LEAD_MESSAGE_REPLIED").unwrap();
        let effect = BotdogEvent::parse(fixture.body.as_bytes()).unwrap().effect();
        assert_eq!(effect.occurred_at, Some(datetime!(2026-11-22 14:05:41 UTC)));
        assert!(effect.create);
        assert_eq!(effect.lead_id, None);
        assert_eq!(
            effect.identities,
            [
                identity("linkedin", "linkedin.com/in/sofiamarques"),
                identity("email", "sofia@tidelane.pt"),
                identity("email", "s.marques@gmail.com"),
                identity("phone", "+351912345678"),
            ]
        );
        assert_eq!(effect.fields.name.as_deref(), Some("Sofia Marques"));
        assert_eq!(effect.fields.email.as_deref(), Some("sofia@tidelane.pt"));
        assert_eq!(effect.fields.company.as_deref(), Some("Tidelane"));
    }

    #[test]
    fn breakcold_people_are_contacts_and_other_records_are_referred_to() {
        let fixture = webhook_guard::testing::fixture("breakcold", "record.created").unwrap();
        let effect = BreakcoldEvent::parse(fixture.body.as_bytes()).unwrap().effect();
        assert!(effect.create);
        assert_eq!(effect.lead_id.as_deref(), Some("rec_01JD6A1B2C3D4E"));
        assert_eq!(effect.fields.title.as_deref(), Some("Head of Revenue Operations"));
        assert_eq!(effect.fields.email.as_deref(), Some("lena.fischer@brightpeak.de"));
        let company = fixture.body.replace("\"Person\"", "\"Company\"").replace("obj_people", "obj_companies");
        let effect = BreakcoldEvent::parse(company.as_bytes()).unwrap().effect();
        assert!(!effect.create);
        assert!(effect.identities.is_empty());
        let note = webhook_guard::testing::fixture("breakcold", "note.created").unwrap();
        let effect = BreakcoldEvent::parse(note.body.as_bytes()).unwrap().effect();
        assert_eq!((effect.create, effect.lead_id.as_deref()), (false, Some("rec_01JD6A1B2C3D4E")));
    }

    #[test]
    fn legacy_and_standard_leads() {
        let fixture = webhook_guard::testing::fixture("breakcold-legacy", "lead.update").unwrap();
        let effect = BreakcoldLegacyEvent::parse(fixture.body.as_bytes()).unwrap().effect();
        assert_eq!(effect.occurred_at, Some(datetime!(2026-11-20 10:15:30 UTC)));
        assert_eq!(effect.fields.name.as_deref(), Some("Tomáš Novák"));
        assert_eq!(effect.fields.title.as_deref(), Some("Co-founder & CEO"));
        let task = webhook_guard::testing::fixture("breakcold-legacy", "lead.task.create").unwrap();
        let effect = BreakcoldLegacyEvent::parse(task.body.as_bytes()).unwrap().effect();
        assert_eq!(effect.lead_id.as_deref(), Some("b3d9a6f4-2c71-4e8b-9f05-6a1e7c2d8b40"));
        assert!(!effect.create);

        let call = webhook_guard::testing::fixture("standard", "call.completed").unwrap();
        let effect = StandardEvent::<Value>::parse(call.body.as_bytes()).unwrap().effect();
        assert_eq!(effect.lead_id.as_deref(), Some("cnt_01JD0K3M5P7R9"));
        assert_eq!(effect.identities, [identity("phone", "+14155550187")]);
        assert_eq!(effect.fields.name, None);
        let campaign = webhook_guard::testing::fixture("standard", "campaign.paused").unwrap();
        let effect = StandardEvent::<Value>::parse(campaign.body.as_bytes()).unwrap().effect();
        assert!(!effect.create && effect.identities.is_empty());
    }
}
