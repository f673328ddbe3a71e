//! Breakcold legacy webhooks: the shared secret travels inside the body.
//!
//! Wire facts (Breakcold legacy webhook docs): no signature header; the body is
//! `{"id_space", "event", "secret", "payload"}` and proving the delivery means comparing the body's
//! `secret` with the configured one, in constant time. This gives no integrity of the rest of the
//! body beyond TLS and no replay protection: migrate to [`super::breakcold`] where possible. The
//! typed event never keeps the `secret` field. No retries (the endpoint is paused after 10
//! failures); the id is derived as
//! `{event}:{payload.id}:{payload.updated_at or created_at}:{digest}`, the last part being 32 hex
//! digits of the body's SHA-256, so two different deliveries that share the lead and its timestamp
//! never share an id.
//!
//! Payload facts (Breakcold legacy webhook docs: the envelope, the event list and the lead fields):
//!
//! - The shared secret travels inside the body. It is checked by the verifier, and the typed
//!   event does not declare it: [`LegacyEnvelope`] has no `secret` field, and
//!   [`BreakcoldLegacyEvent::Unknown`] drops the top-level `secret` from its raw JSON, so neither
//!   `Debug` output nor the CLI's JSON can print it.
//! - `lead.list.update` is also seen spelled `lead.lists.update`; both parse into
//!   [`BreakcoldLegacyEvent::LeadListUpdate`], whose `event` keeps the spelling sent.
//! - Events about a lead carry a [`LegacyLead`] (snake_case, most fields nullable); the payloads of
//!   the other events are not documented and are kept as JSON.
//! - No deduplication key exists; the provider derives one from the raw body (event +
//!   `payload.id` + `payload.updated_at`, else `created_at`, as sent).

mod event;

use std::borrow::Cow;
use std::time::Duration;

pub use event::*;
use serde::Deserialize;

use crate::delivery_id::derived_id;
use crate::headers::HeaderSource;
use crate::scheme::Scheme;
use crate::{PayloadError, Provider, Verified};

/// The Breakcold legacy preset.
#[derive(Debug, Clone)]
pub struct BreakcoldLegacy {
    scheme: Scheme,
}

impl BreakcoldLegacy {
    /// The secret-in-body scheme, field `secret`.
    pub fn new() -> Self {
        Self { scheme: Scheme::secret_in_body("secret") }
    }
}

impl Default for BreakcoldLegacy {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for BreakcoldLegacy {
    type Event = BreakcoldLegacyEvent;

    fn name(&self) -> &'static str {
        "breakcold-legacy"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// Legacy webhooks are not retried.
    fn retry_window(&self) -> Duration {
        Duration::ZERO
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<BreakcoldLegacyEvent, PayloadError> {
        BreakcoldLegacyEvent::parse(body)
    }

    /// `{event}:{payload.id}:{payload.updated_at, else created_at}:{body digest}`, each exactly as sent: read
    /// from the raw body, because the typed lead keeps its dates as instants and re-rendering one
    /// could change the text (and so the id) between two deliveries of the same event.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        _: &Verified,
        _: &BreakcoldLegacyEvent,
        body: &[u8],
    ) -> Option<String> {
        let parts: IdParts<'_> = serde_json::from_slice(body).ok()?;
        let payload = parts.payload?;
        let id = match payload.id? {
            serde_json::Value::String(id) => id,
            serde_json::Value::Number(id) => id.to_string(),
            _ => return None,
        };
        let at = payload.updated_at.or(payload.created_at)?;
        Some(derived_id(format_args!("{}:{id}:{at}", parts.event), body))
    }
}

/// The fields the derived id is made of, borrowed from the body where possible.
#[derive(Deserialize)]
struct IdParts<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    payload: Option<PayloadIdParts<'a>>,
}

#[derive(Deserialize)]
struct PayloadIdParts<'a> {
    id: Option<serde_json::Value>,
    #[serde(borrow, default)]
    updated_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    created_at: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Signer, fixture};
    use crate::{FixedClock, Verifier};

    /// The id of `body` once the signer has put the secret in it, and the digest part it must end
    /// with (of the body as sent, secret included).
    fn id_and_digest_of(body: &str) -> (String, String) {
        let provider = crate::providers::AnyProvider::BreakcoldLegacy(BreakcoldLegacy::new());
        let signed = Signer::for_provider(&provider, &["wh_s"]).unwrap().sign(body.as_bytes(), 0, "");
        let verifier = Verifier::builder(BreakcoldLegacy::new()).secret("wh_s").clock(FixedClock(0)).build().unwrap();
        let sent = signed.body.clone();
        let id = verifier.verify(&[("Content-Type", "application/json")][..], signed.body).unwrap().id().to_owned();
        let digest = derived_id(format_args!(""), &sent);
        (id, digest)
    }

    fn id_of(body: &str) -> String {
        id_and_digest_of(body).0
    }

    #[test]
    fn derived_ids_keep_dates_exactly_as_sent() {
        let body = r#"{"event": "lead.update", "payload": {"id": "ld_1", "updated_at": "2026-11-20T11:15:30.5+01:00", "created_at": "2026-11-19T08:00:00.000Z"}}"#;
        let (id, digest) = id_and_digest_of(body);
        assert_eq!(id, format!("lead.update:ld_1:2026-11-20T11:15:30.5+01:00{digest}"));
        let body = r#"{"event": "campaign.email.open", "payload": {"id": 42, "updated_at": null, "created_at": "2026-11-19T08:00:00.000Z"}}"#;
        let (id, digest) = id_and_digest_of(body);
        assert_eq!(id, format!("campaign.email.open:42:2026-11-19T08:00:00.000Z{digest}"));
    }

    #[test]
    fn two_deliveries_sharing_lead_and_timestamp_get_distinct_ids() {
        let tags = r#"{"event": "lead.tags.update", "payload": {"id": "ld_1", "updated_at": "2026-11-20T10:15:30.000Z", "tags": ["a"]}}"#;
        let status = r#"{"event": "lead.tags.update", "payload": {"id": "ld_1", "updated_at": "2026-11-20T10:15:30.000Z", "tags": ["a", "b"]}}"#;
        let (first, second) = (id_of(tags), id_of(status));
        assert!(first.starts_with("lead.tags.update:ld_1:2026-11-20T10:15:30.000Z:"), "{first}");
        assert_ne!(first, second);
        assert_eq!(id_of(tags), first, "a retry of the same bytes keeps its id");
    }

    #[test]
    fn ambiguous_bodies_are_malformed_even_with_the_right_secret() {
        let verifier = Verifier::builder(BreakcoldLegacy::new()).secret("wh_s").build().unwrap();
        let no_headers: [(&str, &str); 0] = [];
        for body in [
            &br#"{"event": "lead.create", "secret": "wh_s", "secret": "other", "payload": {}}"#[..],
            br#"{"event": "lead.create", "secret": "wh_s", "payload": {}} trailing"#,
            br#"{"event": "lead.create", "secret": null, "payload": {}}"#,
        ] {
            let error = verifier.verify_signature(&no_headers[..], body).unwrap_err();
            assert_eq!(error.kind(), crate::VerifyErrorKind::MalformedSignature, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn without_id_or_dates_the_body_digest_is_the_id() {
        let body = r#"{"event": "tag.delete", "payload": {"id": "t1"}}"#;
        let signed = id_of(body);
        assert!(signed.starts_with("sha256:"), "{signed}");
        assert!(fixture("breakcold-legacy", "lead.create").is_some());
    }
}
