//! Payload fixtures: one realistic JSON body per documented event of each sender, compiled into
//! the crate from `fixtures/<provider>/<event type>.json`.
//!
//! The same files feed the unit and integration tests, the fuzz seeds and the CLI's
//! `sign --event`, so a fixture is written like a real delivery: every documented field of its
//! event, with varied values. Breakcold legacy fixtures carry the placeholder secret `wh_fixture_secret` in their
//! body, as the real envelope does.

/// One payload fixture: a documented event of one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixture {
    /// The sender, as in [`fixtures`]: `botdog`, `breakcold-legacy`, `shopify`, …
    pub provider: &'static str,
    /// The event type as the sender names it, e.g. `LEAD_CREATED` or `orders/create`.
    pub event_type: &'static str,
    /// The JSON body.
    pub body: &'static str,
}

impl Fixture {
    /// The fixture's file, relative to the crate's `fixtures/` directory:
    /// `<provider>/<event type>.json`, with `/` in the event type written `_`
    /// (`shopify/orders_create.json`).
    pub fn relative_path(&self) -> String {
        format!("{}/{}.json", self.provider, self.event_type.replace('/', "_"))
    }

    /// Where the sender writes the event's own id in the body, as a JSON pointer; `None` for
    /// senders that send the id in a header only (Standard Webhooks' `webhook-id`, GitHub's
    /// `X-GitHub-Delivery`, Shopify's `X-Shopify-Webhook-Id`).
    ///
    /// Botdog: "`id`: unique delivery id, use it to deduplicate retries". Breakcold: `eventId` in
    /// the envelope. Stripe: the event object's `id`. Slack: the Events API's `event_id`. Pollybot
    /// and Breakcold legacy send no id: receivers derive one from the lead (`data.id`,
    /// `payload.id`), so a new event gets a new lead id there.
    pub fn id_pointer(&self) -> Option<&'static str> {
        match self.provider {
            "botdog" | "stripe" => Some("/id"),
            "pollybot" => Some("/data/id"),
            "breakcold" => Some("/eventId"),
            "breakcold-legacy" => Some("/payload/id"),
            "slack" => Some("/event_id"),
            _ => None,
        }
    }

    /// The body as the sender would send it for a new event with id `id`: compact JSON (senders
    /// do not pretty-print), `id` written at [`id_pointer`](Self::id_pointer) (the body is
    /// unchanged but compacted for senders that carry the id in a header).
    ///
    /// # Errors
    ///
    /// When the fixture is not JSON (every fixture of this crate is; a test checks it).
    pub fn with_id(&self, id: &str) -> Result<Vec<u8>, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_str(self.body)?;
        if let Some(slot) = self.id_pointer().and_then(|pointer| value.pointer_mut(pointer)) {
            *slot = serde_json::Value::from(id);
        }
        serde_json::to_vec(&value)
    }
}

/// Builds one provider's `&[Fixture]` table; an entry is `"event type"`, or
/// `"event type" => "file.json"` when the file name differs from `<event type>.json`.
macro_rules! table {
    ($provider:literal: [$( $event:literal $(=> $file:literal)? ),* $(,)?]) => {
        &[$(
            Fixture {
                provider: $provider,
                event_type: $event,
                body: include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/fixtures/",
                    $provider,
                    "/",
                    table!(@file $event $(=> $file)?)
                )),
            },
        )*]
    };
    (@file $event:literal) => { concat!($event, ".json") };
    (@file $event:literal => $file:literal) => { $file };
}

const BOTDOG: &[Fixture] = table!("botdog": [
    "LEAD_PROFILE_VISITED",
    "LEAD_INVITATION_SENT",
    "LEAD_INVITATION_ACCEPTED",
    "LEAD_MESSAGE_SENT",
    "LEAD_MESSAGE_REPLIED",
]);

const POLLYBOT: &[Fixture] = table!("pollybot": ["LEAD_CREATED"]);

const BREAKCOLD: &[Fixture] = table!("breakcold": [
    "record.created",
    "record.updated",
    "record.deleted",
    "note.created",
    "note.updated",
    "note.deleted",
    "task.created",
    "task.completed",
    "relation.added",
    "relation.removed",
    "call.linked",
    "call.unlinked",
    "file.uploaded",
    "file.deleted",
]);

// The alias spelling `lead.lists.update` has no file of its own: it is the same event.
const BREAKCOLD_LEGACY: &[Fixture] = table!("breakcold-legacy": [
    "lead.create",
    "lead.update",
    "lead.delete",
    "lead.status.update",
    "lead.list.update",
    "lead.tags.update",
    "lead.track",
    "lead.task.create",
    "lead.task.update",
    "lead.task.delete",
    "lead.note.create",
    "lead.note.update",
    "lead.note.delete",
    "lead.linkedin.new",
    "lead.twitter.new",
    "lead.email.new",
    "campaign.create",
    "campaign.update",
    "campaign.delete",
    "campaign.email.sent",
    "campaign.email.reply",
    "campaign.email.open",
    "campaign.email.click",
    "campaign.email.bounce",
    "campaign.email.unsubscribe",
    "list.create",
    "list.update",
    "list.delete",
    "status.create",
    "status.update",
    "status.delete",
    "tag.create",
    "tag.update",
    "tag.delete",
]);

// A voice-AI calling platform on Svix: the event types Arbol's Svix portal lists.
const STANDARD: &[Fixture] = table!("standard": [
    "call.started",
    "call.completed",
    "call.failed",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "campaign.started",
    "campaign.completed",
    "campaign.paused",
    "campaign.resumed",
    "integration.connected",
    "integration.disconnected",
]);

const GITHUB: &[Fixture] = table!("github": ["push"]);

const STRIPE: &[Fixture] = table!("stripe": ["payment_intent.succeeded"]);

const SLACK: &[Fixture] = table!("slack": ["event_callback"]);

const SHOPIFY: &[Fixture] = table!("shopify": ["orders/create" => "orders_create.json"]);

/// Every provider's table, in a stable order.
const ALL: &[(&str, &[Fixture])] = &[
    ("botdog", BOTDOG),
    ("pollybot", POLLYBOT),
    ("breakcold", BREAKCOLD),
    ("breakcold-legacy", BREAKCOLD_LEGACY),
    ("standard", STANDARD),
    ("github", GITHUB),
    ("stripe", STRIPE),
    ("slack", SLACK),
    ("shopify", SHOPIFY),
];

/// The fixtures of `provider` (`botdog`, `pollybot`, `breakcold`, `breakcold-legacy`, `standard`,
/// `github`, `stripe`, `slack`, `shopify`); empty for any other name.
pub fn fixtures(provider: &str) -> &'static [Fixture] {
    ALL.iter().find(|(name, _)| *name == provider).map_or(&[], |(_, table)| table)
}

/// The fixture of `provider`'s event `event_type`, if there is one.
pub fn fixture(provider: &str, event_type: &str) -> Option<&'static Fixture> {
    fixtures(provider).iter().find(|fixture| fixture.event_type == event_type)
}

/// Every fixture of every provider.
pub fn all_fixtures() -> impl Iterator<Item = &'static Fixture> {
    ALL.iter().flat_map(|(_, table)| table.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_event_carries_its_id_where_the_sender_writes_it() {
        let mut with_pointer = 0;
        for fixture in all_fixtures() {
            let body: serde_json::Value = serde_json::from_slice(&fixture.with_id("evt_new_1").unwrap()).unwrap();
            let original: serde_json::Value = serde_json::from_str(fixture.body).unwrap();
            match fixture.id_pointer() {
                Some(pointer) => {
                    // The field exists in the fixture: a missing one would silently keep the old id.
                    assert!(original.pointer(pointer).is_some(), "{}: no {pointer}", fixture.relative_path());
                    assert_eq!(body.pointer(pointer), Some(&serde_json::Value::from("evt_new_1")));
                    with_pointer += 1;
                }
                None => assert_eq!(body, original, "{}", fixture.relative_path()),
            }
        }
        assert!(with_pointer >= 10, "{with_pointer} fixtures carry an id in the body");
    }
}
