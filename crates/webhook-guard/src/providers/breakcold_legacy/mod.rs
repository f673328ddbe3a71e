//! Breakcold legacy webhooks: the shared secret travels inside the body.
//!
//! Wire facts (Breakcold legacy webhook docs): no signature header; the body is
//! `{"id_space", "event", "secret", "payload"}` and proving the delivery means comparing the body's
//! `secret` with the configured one, in constant time. This gives no integrity of the rest of the
//! body beyond TLS and no replay protection: migrate to [`super::breakcold`] where possible. The
//! typed event never keeps the `secret` field. No retries (the endpoint is paused after 10
//! failures); the id is derived as `{event}:{payload.id}:{payload.updated_at or created_at}`.

mod event;

use std::time::Duration;

pub use event::*;

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

    /// `{event}:{payload.id}:{payload.updated_at or created_at}`.
    fn delivery_id<H: HeaderSource + ?Sized>(&self, _: &H, _: &Verified, event: &BreakcoldLegacyEvent, _: &[u8]) -> Option<String> {
        let (name, id, at) = event.dedup_parts()?;
        Some(format!("{name}:{id}:{at}"))
    }
}
