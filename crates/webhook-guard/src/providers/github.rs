//! GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body.
//!
//! No timestamp is signed, so GitHub deliveries have no replay protection beyond deduplication on
//! `X-GitHub-Delivery`. GitHub does not retry failed deliveries by itself (they can be redelivered
//! by hand from the settings page), hence a zero retry window.

use std::time::Duration;

use super::json_event::{JsonEvent, TypeSource};
use super::presets::BODY;
use crate::headers::HeaderSource;
use crate::scheme::{Encoding, Preset, Scheme, SignatureFormat};
use crate::{PayloadError, Provider, Verified};

/// The GitHub preset.
#[derive(Debug, Clone)]
pub struct Github {
    scheme: Scheme,
}

impl Github {
    /// GitHub's scheme.
    pub fn new() -> Self {
        let scheme = Preset {
            signature: &["X-Hub-Signature-256"],
            format: SignatureFormat::Single { prefix: "sha256=".to_owned() },
            encoding: Encoding::Hex,
            timestamp: &[],
            id: &[],
            contents: &[BODY],
        }
        .build();
        Self { scheme }
    }
}

impl Default for Github {
    fn default() -> Self {
        Self::new()
    }
}

impl Provider for Github {
    type Event = JsonEvent;

    fn name(&self) -> &'static str {
        "github"
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        Duration::ZERO
    }

    /// The type is the `X-GitHub-Event` header (`push`, `pull_request`, …).
    fn id_headers(&self) -> &'static [&'static str] {
        &["X-GitHub-Delivery"]
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<JsonEvent, PayloadError> {
        JsonEvent::parse(headers, body, TypeSource::Header("X-GitHub-Event"))
    }

    /// The `X-GitHub-Delivery` header (a GUID, kept on redelivery).
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        _: &H,
        verified: &Verified,
        _: &JsonEvent,
        _: &[u8],
    ) -> Option<String> {
        verified.header_id().map(str::to_owned)
    }
}
