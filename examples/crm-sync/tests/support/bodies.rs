//! The bodies the tests send beyond the fixtures: an unknown type per sender, and contact events
//! with the fields a test chooses.

use serde_json::{Value, json};

use super::fixture;

/// One delivery of a type the SDK does not know, per sender.
pub(crate) fn unknown_event(provider: &'static str) -> Value {
    match provider {
        "botdog" => {
            json!({"id": "x", "timestamp": "2026-11-26T09:00:00Z", "eventType": "CAMPAIGN_FINISHED", "campaignId": "cmp_1"})
        }
        "pollybot" => {
            json!({"event": "CONVERSATION_STARTED", "timestamp": 1_795_700_000, "data": {"id": "x"}, "chatbotId": "cb_1"})
        }
        "breakcold" => {
            json!({"eventId": "x", "timestamp": "2026-11-26T09:00:00Z", "event": "email.opened", "data": {"recordId": "rec_x"}})
        }
        "breakcold-legacy" => {
            json!({"id_space": "s", "event": "lead.sms.new", "secret": "", "payload": {"id": "x", "id_lead": "l"}})
        }
        _ => json!({"type": "campaign.archived", "timestamp": "2026-11-26T09:00:00Z", "data": {"campaignId": "cmp_1"}}),
    }
}

/// A contact event of `provider` for a person known only by `email`, named `name` at `company`,
/// happening at `day` (of November 2026, at noon). `lead` is the sender's lead id where it has one.
pub(crate) fn contact_event(
    provider: &'static str,
    email: &str,
    name: &str,
    company: &str,
    day: u8,
    lead: &str,
) -> Value {
    let rfc3339 = format!("2026-11-{day:02}T12:00:00Z");
    let unix = 1_795_996_800 + i64::from(day) * 86_400; // 2026-11-00 12:00 UTC + day days
    match provider {
        "botdog" => {
            let mut body =
                fixture("botdog", if day.is_multiple_of(2) { "LEAD_MESSAGE_SENT" } else { "LEAD_PROFILE_VISITED" });
            body["timestamp"] = json!(rfc3339);
            body["contactName"] = json!(name);
            body["contactCompanyName"] = json!(company);
            body["contactEmails"] = json!([email]);
            body["contactPhones"] = json!([]);
            body["contactLinkedinUrl"] = json!(format!("https://www.linkedin.com/in/{lead}/"));
            body
        }
        "pollybot" => {
            let mut body = fixture("pollybot", "LEAD_CREATED");
            body["timestamp"] = json!(unix);
            body["data"] = json!({"id": lead, "name": name, "email": email, "company": company});
            body
        }
        "breakcold" => {
            let mut body =
                fixture("breakcold", if day.is_multiple_of(2) { "record.updated" } else { "record.created" });
            body["timestamp"] = json!(rfc3339);
            body["data"]["id"] = json!(lead);
            body["data"]["name"] = json!(name);
            body["data"]["fields"] =
                json!({"email": email, "company": company, "job_title": format!("title of day {day}")});
            body
        }
        "breakcold-legacy" => {
            let mut body =
                fixture("breakcold-legacy", if day.is_multiple_of(2) { "lead.update" } else { "lead.create" });
            let payload = &mut body["payload"];
            payload["updated_at"] = json!(rfc3339);
            payload["first_name"] = json!(name);
            payload["last_name"] = Value::Null;
            payload["company"] = json!(company);
            payload["email"] = json!(email);
            payload["phone"] = Value::Null;
            payload["linkedin_url"] = Value::Null;
            body
        }
        _ => {
            let mut body =
                fixture("standard", if day.is_multiple_of(2) { "contact.updated" } else { "contact.created" });
            body["timestamp"] = json!(rfc3339);
            let data = &mut body["data"];
            data["contactId"] = json!(lead);
            data["firstName"] = json!(name);
            data["lastName"] = Value::Null;
            data["company"] = json!(company);
            data["email"] = json!(email);
            data["phoneNumber"] = Value::Null;
            body
        }
    }
}
