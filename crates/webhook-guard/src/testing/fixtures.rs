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
