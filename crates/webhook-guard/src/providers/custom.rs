//! [`Custom`]: any sender whose scheme the engine can describe.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::event::{Event, from_json, peek_str_field};
use crate::headers::HeaderSource;
use crate::scheme::Scheme;
use crate::secret::SecretFormat;
use crate::{PayloadError, Provider, Verified};

/// A sender described by hand: a [`Scheme`], an event type (`serde_json::Value` by default, or
/// any `DeserializeOwned` type implementing [`Event`]), where to find the delivery id, and how
/// long it retries.
///
/// Everything a `Custom` provider does comes from this description; its name only labels dedup
/// keys and logs. One called "github" gets none of the GitHub preset's headers, key format or
/// rules.
///
/// The scheme must sign what it reads: a timestamp header (or `t=` part) that no signed layout
/// includes as `{t}` would be checked against the clock without being authenticated, so
/// [`VerifierBuilder::build`](crate::VerifierBuilder::build) refuses it with
/// [`ConfigError::InvalidScheme`](crate::ConfigError::InvalidScheme). The event type comes from
/// the body, which the signature covers.
///
/// ```
/// use webhook_guard::providers::Custom;
/// use webhook_guard::{Encoding, Scheme, SignatureFormat};
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
    secret_format: SecretFormat,
    unsigned_id_headers: Vec<Cow<'static, str>>,
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
            secret_format: SecretFormat::Utf8,
            unsigned_id_headers: Vec::new(),
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
            secret_format: self.secret_format,
            unsigned_id_headers: self.unsigned_id_headers,
            id_field: self.id_field,
            parse,
        }
    }

    /// The delivery id is this header's value, which the sender does not sign (when the scheme
    /// signs no id header). Call again to add a header read when the earlier ones are absent.
    ///
    /// As for the presets' unsigned id headers, two different values of the header make a
    /// request malformed (400): the id decides deduplication, and which copy the sender meant
    /// cannot be known. An id the sender signs belongs in the scheme instead
    /// ([`SchemeBuilder::id_header`](crate::scheme::SchemeBuilder::id_header)).
    #[must_use]
    pub fn id_header(mut self, header: impl Into<String>) -> Self {
        self.unsigned_id_headers.push(Cow::Owned(header.into()));
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
        self.secret_format = SecretFormat::Whsec;
        self
    }
}

impl<E> fmt::Debug for Custom<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom")
            .field("name", &self.name)
            .field("scheme", &self.scheme)
            .field("retry_window", &self.retry_window)
            .field("unsigned_id_headers", &self.unsigned_id_headers)
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
            secret_format: self.secret_format,
            unsigned_id_headers: self.unsigned_id_headers.clone(),
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

    fn unsigned_id_headers(&self) -> &[Cow<'static, str>] {
        &self.unsigned_id_headers
    }

    fn secret_format(&self) -> SecretFormat {
        self.secret_format
    }

    fn parse_event<H: HeaderSource + ?Sized>(&self, _: &H, body: &[u8]) -> Result<E, PayloadError> {
        (self.parse)(body)
    }

    /// The signed id header, else the first configured unsigned header present, else the
    /// configured body field.
    /// The id header, when present, read from [`Verified`].
    fn delivery_id_in_headers(&self) -> bool {
        true
    }

    fn delivery_id<H: HeaderSource + ?Sized>(&self, _: &H, verified: &Verified, _: &E, body: &[u8]) -> Option<String> {
        if let Some(id) = verified.header_id() {
            return Some(id.to_owned());
        }
        let field = self.id_field.as_deref()?;
        peek_str_field(body, field).ok().flatten().map(|id| id.into_owned())
    }
}
