//! [`Custom`]: any sender whose scheme the engine can describe.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::event::{Event, from_json, peek_str_field};
use crate::headers::{HeaderSource, text_value};
use crate::scheme::Scheme;
use crate::secret::{Key, Secret};
use crate::{ConfigError, PayloadError, Provider, Verified};

/// A sender described by hand: a [`Scheme`], an event type (`serde_json::Value` by default, or
/// any `DeserializeOwned` type implementing [`Event`]), where to find the delivery id, and how
/// long it retries.
///
/// The scheme must sign what it reads: a timestamp header (or `t=` part) that no signed layout
/// includes as `{t}` would be checked against the clock without being authenticated, so
/// [`VerifierBuilder::build`](crate::VerifierBuilder::build) refuses it with
/// [`ConfigError::InvalidScheme`]. The event type comes from the body, which the signature covers.
///
/// ```
/// use webhook_guard::providers::Custom;
/// use webhook_guard::scheme::{Encoding, Scheme, SignatureFormat};
///
/// let scheme = Scheme::hmac_sha256("X-Acme-Signature", SignatureFormat::Single { prefix: "sha256=".into() })
///     .encoding(Encoding::Hex)
///     .timestamp_header("X-Acme-Timestamp")
///     .signed_content("{t}.{body}")?
///     .build()?;
/// let acme = Custom::new("acme", scheme).id_field("eventId");
/// # let _ = acme;
/// # Ok::<(), webhook_guard::ConfigError>(())
/// ```
pub struct Custom<E = serde_json::Value> {
    name: &'static str,
    scheme: Scheme,
    retry_window: Duration,
    whsec_secrets: bool,
    id_header: Option<String>,
    id_field: Option<String>,
    parse: fn(&[u8]) -> Result<E, PayloadError>,
}

impl Custom {
    /// A sender called `name` signing with `scheme`, its events kept as JSON. Retry window
    /// 72 hours until told otherwise.
    pub fn new(name: &'static str, scheme: Scheme) -> Self {
        Self {
            name,
            scheme,
            retry_window: Duration::from_secs(72 * 3600),
            whsec_secrets: false,
            id_header: None,
            id_field: None,
            parse: from_json::<serde_json::Value>,
        }
    }
}

impl<E> Custom<E> {
    /// Parses events as `T`.
    pub fn event<T: DeserializeOwned + Event>(self) -> Custom<T> {
        self.parse_with(from_json::<T>)
    }

    /// Parses events with `parse`.
    pub fn parse_with<T: Event>(self, parse: fn(&[u8]) -> Result<T, PayloadError>) -> Custom<T> {
        Custom {
            name: self.name,
            scheme: self.scheme,
            retry_window: self.retry_window,
            whsec_secrets: self.whsec_secrets,
            id_header: self.id_header,
            id_field: self.id_field,
            parse,
        }
    }

    /// The delivery id is this header's value (when the scheme signs no id header).
    #[must_use]
    pub fn id_header(mut self, header: impl Into<String>) -> Self {
        self.id_header = Some(header.into());
        self
    }

    /// The delivery id is this top-level string field of the body.
    #[must_use]
    pub fn id_field(mut self, field: impl Into<String>) -> Self {
        self.id_field = Some(field.into());
        self
    }

    /// How long the sender retries one delivery.
    #[must_use]
    pub fn retry_window(mut self, window: Duration) -> Self {
        self.retry_window = window;
        self
    }

    /// Secrets are `whsec_<base64>` and the key is the decoded bytes (Standard Webhooks style),
    /// instead of raw UTF-8.
    #[must_use]
    pub fn whsec_secrets(mut self) -> Self {
        self.whsec_secrets = true;
        self
    }
}

impl<E> fmt::Debug for Custom<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom")
            .field("name", &self.name)
            .field("scheme", &self.scheme)
            .field("retry_window", &self.retry_window)
            .field("id_header", &self.id_header)
            .field("id_field", &self.id_field)
            .finish_non_exhaustive()
    }
}

impl<E> Clone for Custom<E> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            scheme: self.scheme.clone(),
            retry_window: self.retry_window,
            whsec_secrets: self.whsec_secrets,
            id_header: self.id_header.clone(),
            id_field: self.id_field.clone(),
            parse: self.parse,
        }
    }
}

impl<E: Event> Provider for Custom<E> {
    type Event = E;

    fn name(&self) -> &'static str {
        self.name
    }

    fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    fn retry_window(&self) -> Duration {
        self.retry_window
    }

    fn parse_key(&self, text: &str) -> Result<Key, ConfigError> {
        let secret = if self.whsec_secrets { Secret::from_whsec(text)? } else { Secret::from_utf8(text)? };
        Ok(secret.into())
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<E, PayloadError> {
        (self.parse)(body)
    }

    /// The signed id header, else the configured header, else the configured body field.
    fn delivery_id<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        verified: &Verified,
        _: &E,
        body: &[u8],
    ) -> Option<String> {
        if let Some(id) = verified.signed_id() {
            return Some(id.to_owned());
        }
        if let Some(id) = self.id_header.as_deref().and_then(|name| text_value(headers, name)) {
            return Some(id.to_owned());
        }
        let field = self.id_field.as_deref()?;
        peek_str_field(body, field).ok().flatten().map(|id| id.into_owned())
    }
}
