//! What one delivery does to the CRM, independent of the sender: an [`Effect`] (a contact to find,
//! create or update, and the time the event happened), plus how identities are normalised and
//! times written.

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// The contact fields crm-sync keeps; `None` = the event does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    /// Full name.
    pub(crate) name: Option<String>,
    /// Primary email, normalised ([`email`]).
    pub(crate) email: Option<String>,
    /// Primary phone, normalised ([`phone`]).
    pub(crate) phone: Option<String>,
    /// LinkedIn profile URL, without query, fragment or trailing slash.
    pub(crate) linkedin_url: Option<String>,
    /// Company name.
    pub(crate) company: Option<String>,
    /// Job title or role.
    pub(crate) title: Option<String>,
}

impl Fields {
    /// The column names, in the order of [`Fields::values`].
    pub(crate) const COLUMNS: [&'static str; 6] = ["name", "email", "phone", "linkedin_url", "company", "title"];

    /// The values, in the order of [`Fields::COLUMNS`].
    pub(crate) fn values(&self) -> [Option<&str>; 6] {
        [&self.name, &self.email, &self.phone, &self.linkedin_url, &self.company, &self.title].map(Option::as_deref)
    }
}

/// An identity a contact is found by: `(kind, value)`, unique across contacts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Identity {
    /// `email`, `phone`, `linkedin`, or a sender's name for that sender's lead id.
    pub(crate) kind: String,
    /// The normalised value (or the lead id as sent).
    pub(crate) value: String,
}

impl Identity {
    fn new(kind: &str, value: String) -> Self {
        Self { kind: kind.to_owned(), value }
    }
}

/// What one event does to the contacts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Effect {
    /// When the event happened, if its body says.
    pub(crate) occurred_at: Option<OffsetDateTime>,
    /// The sender's own id of the lead (record, contact) the event is about.
    pub(crate) lead_id: Option<String>,
    /// Emails, phones and LinkedIn URL the event gives the contact, normalised.
    pub(crate) identities: Vec<Identity>,
    /// Field values the event gives the contact.
    pub(crate) fields: Fields,
    /// Whether a contact is created when none matches. `false` for events that only refer to a
    /// lead (notes, tasks, deletions): they are linked to the contact if it exists.
    pub(crate) create: bool,
}

impl Effect {
    /// An event that touches no contact: recorded as an activity only.
    pub(crate) fn activity_only(occurred_at: Option<OffsetDateTime>) -> Self {
        Self { occurred_at, ..Self::default() }
    }

    /// An event that refers to the lead `lead_id` without changing it.
    pub(crate) fn about(occurred_at: Option<OffsetDateTime>, lead_id: Option<&str>) -> Self {
        Self { occurred_at, lead_id: lead_id.map(str::to_owned), ..Self::default() }
    }

    /// Adds `email` as an identity, and as the primary email when the event names none yet.
    pub(crate) fn add_email(&mut self, email: Option<&str>) {
        if let Some(email) = email.and_then(self::email) {
            self.fields.email.get_or_insert_with(|| email.clone());
            self.push(Identity::new("email", email));
        }
    }

    /// Adds `phone` as an identity, and as the primary phone when the event names none yet.
    pub(crate) fn add_phone(&mut self, phone: Option<&str>) {
        if let Some(phone) = phone.and_then(self::phone) {
            self.fields.phone.get_or_insert_with(|| phone.clone());
            self.push(Identity::new("phone", phone));
        }
    }

    /// Adds a LinkedIn profile URL as an identity and as the contact's URL.
    pub(crate) fn add_linkedin(&mut self, url: Option<&str>) {
        if let Some((url, key)) = url.and_then(linkedin) {
            self.fields.linkedin_url.get_or_insert(url);
            self.push(Identity::new("linkedin", key));
        }
    }

    fn push(&mut self, identity: Identity) {
        if !self.identities.contains(&identity) {
            self.identities.push(identity);
        }
    }
}

/// `Some(text)` trimmed, `None` when empty.
pub(crate) fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned)
}

/// "First Last" from the parts that are present.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// An email address as an identity: trimmed and lowercased (the local part is case-sensitive in
/// theory, in no mail system a CRM meets); `None` without an `@`.
pub(crate) fn email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then_some(email)
}

/// A phone number as an identity: its digits, with a leading `+` when it has one
/// (`+351 912 345 678` → `+351912345678`); `None` with fewer than 5 digits. Numbers without a
/// country code are kept as their digits: crm-sync cannot know the country.
pub(crate) fn phone(text: &str) -> Option<String> {
    let text = text.trim();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return None;
    }
    Some(if text.starts_with('+') { format!("+{digits}") } else { digits })
}

/// A LinkedIn profile URL: `(url, key)`, the URL without query, fragment or trailing slash, and
/// the key it is matched by: lowercase, without scheme and `www.`
/// (`https://www.linkedin.com/in/Ada/?x=1` → `linkedin.com/in/ada`).
pub(crate) fn linkedin(text: &str) -> Option<(String, String)> {
    let url = text.trim();
    let url = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    if url.is_empty() {
        return None;
    }
    let lower = url.to_lowercase();
    let key = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower);
    let key = key.strip_prefix("www.").unwrap_or(key);
    Some((url.to_owned(), key.to_owned()))
}

/// Times are stored as RFC 3339 UTC text of one width (microseconds), so that text order is time
/// order on both databases.
const TIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// `time` as stored: `2026-11-20T10:15:30.000000Z`.
pub(crate) fn time_text(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    // Years past 9999 cannot be written in four digits: no sender sends them, clamp.
    let utc = if utc.year() > 9999 { time::macros::datetime!(9999-12-31 23:59:59.999999 UTC) } else { utc };
    utc.format(TIME_FORMAT).unwrap_or_else(|_| "0000-01-01T00:00:00.000000Z".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::datetime;

    use super::*;

    #[test]
    fn identities_are_normalised() {
        assert_eq!(email(" Ada@Example.COM ").as_deref(), Some("ada@example.com"));
        assert_eq!(email("no-at-sign"), None);
        assert_eq!(email("@example.com"), None);
        assert_eq!(phone("+351 912 345 678").as_deref(), Some("+351912345678"));
        assert_eq!(phone("(415) 555-0142").as_deref(), Some("4155550142"));
        assert_eq!(phone("12-34"), None);
        let (url, key) = linkedin(" https://www.linkedin.com/in/SofiaMarques/?utm=x#top ").unwrap();
        assert_eq!(url, "https://www.linkedin.com/in/SofiaMarques");
        assert_eq!(key, "linkedin.com/in/sofiamarques");
        assert_eq!(linkedin("http://linkedin.com/in/sofiamarques").unwrap().1, key);
        assert_eq!(linkedin(" / "), None);
    }

    #[test]
    fn the_first_email_and_phone_are_primary_and_identities_are_not_repeated() {
        let mut effect = Effect::default();
        effect.add_email(Some("A@x.io"));
        effect.add_email(Some("b@x.io"));
        effect.add_email(Some("a@x.io"));
        effect.add_phone(Some("+1 415 555 0100"));
        assert_eq!(effect.fields.email.as_deref(), Some("a@x.io"));
        assert_eq!(effect.fields.phone.as_deref(), Some("+14155550100"));
        let kinds: Vec<_> = effect.identities.iter().map(|i| (i.kind.as_str(), i.value.as_str())).collect();
        assert_eq!(kinds, [("email", "a@x.io"), ("email", "b@x.io"), ("phone", "+14155550100")]);
    }

    #[test]
    fn stored_times_sort_as_text_in_time_order() {
        let earlier = time_text(datetime!(2026-11-20 10:15:30.5 +02:00));
        let later = time_text(datetime!(2026-11-20 09:15:30.25 UTC));
        assert_eq!(earlier, "2026-11-20T08:15:30.500000Z");
        assert_eq!(later, "2026-11-20T09:15:30.250000Z");
        assert!(earlier < later);
        assert_eq!(full_name(Some(" Ada "), None).as_deref(), Some("Ada"));
        assert_eq!(full_name(Some("Ada"), Some("Lovelace")).as_deref(), Some("Ada Lovelace"));
        assert_eq!(full_name(None, Some(" ")), None);
    }
}
