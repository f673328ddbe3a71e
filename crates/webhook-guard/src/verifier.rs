//! [`Verifier`]: a provider, its keyring, the replay tolerance, a clock and a body limit.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::clock::{Clock, SystemClock};
use crate::delivery::{Delivery, DeliveryFields, DeliveryId, HeaderId, Verified};
use crate::delivery_id::body_digest_id;
use crate::error::{ConfigError, VerifyError};
use crate::headers::HeaderSource;
use crate::provider::Provider;
use crate::scheme;
#[cfg(feature = "standard")]
use crate::scheme::SchemeKind;
use crate::secret::{Key, Keyring};

/// The replay window used when none is configured: ±300 s, as Botdog's docs, Pollybot's security
/// page and the Standard Webhooks reference libraries use.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// How long a whole body may take to arrive, by default, in every adapter: 30 s. A client that
/// trickles bytes holds a connection and a buffer; the timeout frees both.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The body limit used when none is configured: 256 KiB. The largest documented event of any
/// supported sender is a few KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Verifies deliveries of one provider. Cheap to clone (shared).
///
/// ```
/// use webhook_guard::{FixedClock, Verifier, providers::Botdog};
///
/// let verifier = Verifier::builder(Botdog::new())
///     .secret("whsec_botdog_example")
///     .clock(FixedClock(1_763_633_730))
///     .build()?;
/// let body = br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}"#;
/// let signature = "t=1763633730,s=f4d0c32f1dc0325e0d04d7946b3a28dbd4b5c9c3a55d0e90e1e4c2f1bbf6c55c";
/// let error = verifier.verify(&[("X-Webhook-Signature", signature)][..], &body[..]).unwrap_err();
/// assert_eq!(error.kind(), webhook_guard::VerifyErrorKind::SignatureMismatch);
/// assert_eq!(error.status(), 401);
/// # Ok::<(), webhook_guard::ConfigError>(())
/// ```
pub struct Verifier<P: Provider> {
    inner: Arc<Inner<P>>,
}

struct Inner<P> {
    provider: P,
    keyring: Keyring,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    read_timeout: Duration,
    /// The provider's header names read on every delivery besides the scheme's, parsed once
    /// here (a lookup by text parses the name each time).
    names: ProviderHeaderNames,
}

/// [`Provider::unsigned_id_headers`] and [`Provider::event_type_header`], each parsed as an
/// [`http::HeaderName`] when the verifier is built; `None` for a text that is not a valid name,
/// which is then looked up by its text as before (and finds what such a lookup finds).
struct ProviderHeaderNames {
    unsigned_ids: Vec<Option<http::HeaderName>>,
    event_type: Option<http::HeaderName>,
}

impl ProviderHeaderNames {
    fn new<P: Provider>(provider: &P) -> Self {
        let parse = |name: &str| http::HeaderName::from_bytes(name.as_bytes()).ok();
        Self {
            unsigned_ids: provider.unsigned_id_headers().iter().map(|name| parse(name)).collect(),
            event_type: provider.event_type_header().and_then(parse),
        }
    }
}

/// The one value of the provider's header `name`, read by the name parsed beforehand when it
/// parsed: the same values (header lookups ignore case, and a parsed name is the text in
/// lowercase).
fn provider_header_value<'a, H: HeaderSource + ?Sized>(
    headers: &'a H,
    name: &str,
    parsed: Option<&http::HeaderName>,
) -> Result<Option<&'a [u8]>, crate::headers::ConflictingValues> {
    match parsed {
        Some(parsed) => crate::headers::single_value_by_name(headers, parsed),
        None => crate::headers::single_value(headers, &[name]),
    }
}

impl<P: Provider> Clone for Verifier<P> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<P: Provider> fmt::Debug for Verifier<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("provider", &self.inner.provider)
            .field("keyring", &self.inner.keyring)
            .field("tolerance", &self.inner.tolerance)
            .field("clock", &self.inner.clock)
            .field("body_limit", &self.inner.body_limit)
            .field("read_timeout", &self.inner.read_timeout)
            .finish()
    }
}

impl<P: Provider> Verifier<P> {
    /// Starts configuring a verifier for `provider`.
    pub fn builder(provider: P) -> VerifierBuilder<P> {
        VerifierBuilder {
            provider,
            keys: Vec::new(),
            tolerance: DEFAULT_TOLERANCE,
            clock: Arc::new(SystemClock),
            body_limit: DEFAULT_BODY_LIMIT,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }

    /// Checks the signature (and timestamp) of a delivery without parsing its body.
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] whose [`kind`](VerifyError::kind) says why: body too large, signature
    /// material missing or malformed, no signature matching, or timestamp outside the tolerance.
    pub fn verify_signature<H>(&self, headers: &H, body: &[u8]) -> Result<Verified, VerifyError>
    where
        H: HeaderSource + ?Sized,
    {
        let inner = &*self.inner;
        if body.len() > inner.body_limit {
            return Err(VerifyError::too_large(inner.body_limit));
        }
        let unsigned_id = unsigned_id(&inner.provider, &inner.names, headers)?;
        refuse_conflicting_event_type(&inner.provider, &inner.names, headers)?;
        let window = scheme::check::Window { now: inner.clock.now_unix(), tolerance_secs: inner.tolerance.as_secs() };
        let checked = scheme::verify(inner.provider.scheme(), &inner.keyring, headers, body, window)?;
        Ok(Verified {
            provider: inner.provider.name(),
            timestamp: checked.timestamp,
            signed_id: checked.id.map(HeaderId::new),
            unsigned_id,
            key_index: checked.key_index,
            timestamp_bound: checked.timestamp_bound,
            event_type_authenticated: inner.provider.event_type_header().is_none()
                && inner.provider.scheme().authenticates_body(),
        })
    }

    /// Verifies a delivery, then parses it into the provider's typed event.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_signature`], plus
    /// [`InvalidPayload`](crate::VerifyErrorKind::InvalidPayload) when the authentic body is not JSON or a known
    /// event does not match its type; the error names the failing JSON path.
    pub fn verify<H>(&self, headers: &H, body: impl Into<Bytes>) -> Result<Delivery<P::Event>, VerifyError>
    where
        H: HeaderSource + ?Sized,
    {
        let body = body.into();
        let verified = self.verify_signature(headers, &body)?;
        let provider = &self.inner.provider;
        let event = provider.parse_event(headers, &body).map_err(VerifyError::payload)?;
        // Boxed before its id is known (a placeholder that does not allocate), so that neither
        // setting it nor returning the delivery moves its fields again.
        let mut delivery = Box::new(DeliveryFields { id: DeliveryId::InHeaders, verified, event, body });
        // An empty id is no id: two different events sent with `"id": ""` must not share a key.
        // An id already in the event or the headers is read there, not copied.
        let present = |id: Option<&str>| id.is_some_and(|id| !id.is_empty());
        delivery.id = if present(P::delivery_id_in_event(&delivery.event)) {
            DeliveryId::InEvent(P::delivery_id_in_event)
        } else if provider.delivery_id_in_headers() && delivery.verified.has_header_id() {
            DeliveryId::InHeaders
        } else {
            DeliveryId::Own(
                provider
                    .delivery_id(headers, &delivery.verified, &delivery.event, &delivery.body)
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| body_digest_id(&delivery.body)),
            )
        };
        Ok(Delivery(delivery))
    }

    /// The provider.
    pub fn provider(&self) -> &P {
        &self.inner.provider
    }

    /// The keyring.
    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    /// The replay tolerance.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }

    /// The largest body accepted, in bytes. [`Guard`](crate::Guard) enforces it while reading.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// How long a whole body may take to arrive. [`Guard`](crate::Guard) enforces it while
    /// reading.
    pub fn read_timeout(&self) -> Duration {
        self.inner.read_timeout
    }

    /// The current time according to the verifier's clock.
    pub fn now_unix(&self) -> i64 {
        self.inner.clock.now_unix()
    }
}

/// The value of the first of the provider's unsigned id headers that is present, refusing
/// conflicting values. (A signed id is the scheme's, read with the signature.)
fn unsigned_id<P: Provider, H: HeaderSource + ?Sized>(
    provider: &P,
    names: &ProviderHeaderNames,
    headers: &H,
) -> Result<Option<HeaderId>, VerifyError> {
    let mut found = None;
    for (position, name) in provider.unsigned_id_headers().iter().enumerate() {
        let parsed = names.unsigned_ids.get(position).and_then(Option::as_ref);
        match provider_header_value(headers, name, parsed) {
            Err(_) => return Err(VerifyError::malformed(name, "has two different values")),
            Ok(Some(value)) if found.is_none() => {
                found = std::str::from_utf8(value).ok().filter(|id| !id.is_empty()).map(HeaderId::new);
            }
            Ok(_) => {}
        }
    }
    Ok(found)
}

/// Refuses two different values of the provider's unsigned event-type header. The type decides
/// what a handler does, and nothing says which copy the sender meant (the same rule as for
/// signature and id headers).
fn refuse_conflicting_event_type<P: Provider, H: HeaderSource + ?Sized>(
    provider: &P,
    names: &ProviderHeaderNames,
    headers: &H,
) -> Result<(), VerifyError> {
    match provider.event_type_header() {
        Some(name) if provider_header_value(headers, name, names.event_type.as_ref()).is_err() => {
            Err(VerifyError::malformed(name, "has two different values"))
        }
        _ => Ok(()),
    }
}

/// Configures a [`Verifier`]; see [`Verifier::builder`].
#[must_use]
pub struct VerifierBuilder<P> {
    provider: P,
    keys: Vec<Result<Key, ConfigError>>,
    tolerance: Duration,
    clock: Arc<dyn Clock>,
    body_limit: usize,
    read_timeout: Duration,
}

impl<P: Provider> fmt::Debug for VerifierBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("provider", &self.provider)
            .field("keys", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .field("body_limit", &self.body_limit)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl<P: Provider> VerifierBuilder<P> {
    /// Adds a secret as the provider means it ([`Provider::parse_key`]): raw UTF-8 for most
    /// senders, `whsec_`/`whpk_` for Standard Webhooks. Add several to accept each during a
    /// rotation. A bad secret is reported by [`build`](Self::build).
    pub fn secret(mut self, secret: &str) -> Self {
        let key = self.provider.parse_key(secret);
        self.keys.push(key);
        self
    }

    /// Adds a key.
    pub fn key(mut self, key: impl Into<Key>) -> Self {
        self.keys.push(Ok(key.into()));
        self
    }

    /// The replay tolerance: a signed timestamp further than this from now, in either direction, is
    /// refused. Default [`DEFAULT_TOLERANCE`].
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Where "now" comes from. Default [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The largest body accepted, in bytes. Default [`DEFAULT_BODY_LIMIT`].
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// How long a whole body may take to arrive, from the request's head to its last byte, in
    /// every adapter. Default [`DEFAULT_READ_TIMEOUT`]: a client that trickles bytes holds a
    /// connection and a buffer, and the timeout frees both (400 `body_unreadable`).
    pub fn read_timeout(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = read_timeout;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// The first bad secret's [`ConfigError`]; [`ConfigError::NoUsableKey`] without keys;
    /// [`ConfigError::UnsupportedKey`] for an Ed25519 key with a scheme that has no Ed25519
    /// signatures, or with secret-in-body; [`ConfigError::InvalidScheme`] for a scheme that reads
    /// a timestamp no signed layout includes (see
    /// [`SchemeBuilder::timestamp_header`](crate::scheme::SchemeBuilder::timestamp_header)).
    pub fn build(self) -> Result<Verifier<P>, ConfigError> {
        let keys = self.keys.into_iter().collect::<Result<Vec<_>, _>>()?;
        let name = self.provider.name();
        if keys.is_empty() {
            return Err(ConfigError::NoUsableKey { provider: name });
        }
        #[cfg(feature = "standard")]
        if keys.iter().any(|key| matches!(key, Key::Ed25519(_)))
            && (!self.provider.scheme().accepts_ed25519()
                || matches!(self.provider.scheme().kind, SchemeKind::SecretInBody { .. }))
        {
            return Err(ConfigError::UnsupportedKey { provider: name, key: "Ed25519 public" });
        }
        // A timestamp checked against the clock but not signed would let a captured body through
        // beside a fresh one: refuse it rather than claim replay protection.
        self.provider.scheme().check_verifiable()?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                names: ProviderHeaderNames::new(&self.provider),
                keyring: Keyring::new(keys),
                provider: self.provider,
                tolerance: self.tolerance,
                clock: self.clock,
                body_limit: self.body_limit,
                read_timeout: self.read_timeout,
            }),
        })
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::FixedClock;
    use crate::providers::AnyProvider;
    use crate::testing::{Signer, fixtures};

    const NOW: i64 = 1_763_633_730;

    /// The unsigned id and the event-type conflict as they were read before the names were
    /// parsed when the verifier is built: by their texts, one lookup each.
    fn by_text<P: Provider, H: HeaderSource + ?Sized>(provider: &P, headers: &H) -> Result<Option<String>, String> {
        let mut found = None;
        for name in provider.unsigned_id_headers() {
            match crate::headers::single_value(headers, &[name.as_ref()]) {
                Err(_) => return Err(format!("header `{name}` has two different values")),
                Ok(Some(value)) if found.is_none() => {
                    found = std::str::from_utf8(value).ok().filter(|id| !id.is_empty()).map(str::to_owned);
                }
                Ok(_) => {}
            }
        }
        if let Some(name) = provider.event_type_header()
            && crate::headers::single_value(headers, &[name]).is_err()
        {
            return Err(format!("header `{name}` has two different values"));
        }
        Ok(found)
    }

    /// Unsigned id and event-type headers read by the names parsed at build time answer as
    /// lookups by text: GitHub's (`X-GitHub-Delivery`, `X-GitHub-Event`) and a custom sender's
    /// (one name in mixed case, one that is not a valid header name), sent in any case,
    /// repeated with the same or another value, empty, padded or not UTF-8, through a slice of
    /// pairs and an `http::HeaderMap`.
    #[test]
    fn provider_headers_read_by_parsed_names_answer_as_by_text() {
        let scheme =
            crate::Scheme::hmac_sha256("X-Acme-Signature", crate::SignatureFormat::Single { prefix: String::new() })
                .signed_content("{body}")
                .unwrap()
                .build()
                .unwrap();
        let custom = crate::providers::Custom::new("acme", scheme).id_header("Bad Name").id_header("X-Acme-Delivery");
        let providers = [AnyProvider::from_name("github").unwrap(), AnyProvider::Custom(custom)];
        let secret = "test-secret-012345";
        let body = br#"{"action":"opened","zen":"x"}"#;
        let values: [&[u8]; 5] = [b"d-1", b"d-2", b"", b" d-1 ", b"\xff"];
        let mut checked = (0, 0);
        for provider in providers {
            let signed = Signer::for_provider(&provider, &[secret]).unwrap().sign(body, NOW, "");
            let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
            let names =
                ["x-github-delivery", "X-GITHUB-EVENT", "bad name", "Bad Name", "x-acme-delivery", "X-Acme-Delivery"];
            for first in 0..names.len() {
                for second in 0..names.len() {
                    for (a, b) in [(0, 0), (0, 1), (0, 2), (0, 3), (4, 0), (2, 1)] {
                        let mut pairs: Vec<(String, Vec<u8>)> =
                            signed.headers.iter().map(|(n, v)| (n.clone(), v.as_bytes().to_vec())).collect();
                        pairs.push((names[first].to_owned(), values[a].to_vec()));
                        pairs.push((names[second].to_owned(), values[b].to_vec()));
                        let expected = by_text(verifier.provider(), &pairs[..]);
                        let ours = verifier
                            .verify_signature(&pairs[..], body)
                            .map(|verified| verified.header_id().map(str::to_owned))
                            .map_err(|error| error.message().to_owned());
                        assert_eq!(ours, expected, "{pairs:?}");
                        checked.0 += 1;
                        checked.1 += usize::from(expected.is_err());
                        // A map cannot hold a name that is not a valid header name.
                        let mut map = http::HeaderMap::new();
                        let parsed = pairs.iter().map(|(n, v)| {
                            Some((
                                http::HeaderName::from_bytes(n.as_bytes()).ok()?,
                                http::HeaderValue::from_bytes(v).ok()?,
                            ))
                        });
                        let Some(parsed) = parsed.collect::<Option<Vec<_>>>() else { continue };
                        for (name, value) in parsed {
                            map.append(name, value);
                        }
                        let expected = by_text(verifier.provider(), &map);
                        let ours = verifier
                            .verify_signature(&map, body)
                            .map(|verified| verified.header_id().map(str::to_owned))
                            .map_err(|error| error.message().to_owned());
                        assert_eq!(ours, expected, "{map:?}");
                    }
                }
            }
        }
        assert!(checked.1 > 0 && checked.1 < checked.0, "{checked:?}");
    }

    /// A delivery's id, read from the event or the headers where the provider says it is
    /// there, is the one `Provider::delivery_id` gives, with an empty or missing id falling back
    /// to the body digest: for every preset and fixture, with the id header and the body's id
    /// fields present, empty or both.
    #[test]
    fn the_id_read_where_it_is_is_the_providers_id() {
        for name in AnyProvider::NAMES {
            let provider = AnyProvider::from_name(name).unwrap();
            let secret =
                if *name == "standard" { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } else { "test-secret-012345" };
            let signer = Signer::for_provider(&provider, &[secret]).unwrap();
            let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
            for fixture in fixtures(name) {
                let mut blanked: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(fixture.body).unwrap();
                for field in ["id", "eventId", "event_id"] {
                    if let Some(value @ serde_json::Value::String(_)) = blanked.get_mut(field) {
                        *value = serde_json::Value::String(String::new());
                    }
                }
                let blanked = serde_json::to_vec(&blanked).unwrap();
                for body in [fixture.body.as_bytes(), &blanked] {
                    for header_id in ["msg_2f9a", ""] {
                        let signed = signer.sign_delivery(body, NOW, header_id, Some(fixture.event_type));
                        let headers = signed.headers.as_slice();
                        let delivery = match verifier.verify(headers, signed.body.clone()) {
                            Ok(delivery) => delivery,
                            // A scheme that signs the id header refuses it empty (Standard).
                            Err(error) if header_id.is_empty() => {
                                assert_eq!(error.kind(), crate::VerifyErrorKind::MalformedSignature, "{name}");
                                continue;
                            }
                            Err(error) => panic!("{name}: {error:?}"),
                        };
                        let expected = verifier
                            .provider()
                            .delivery_id(headers, delivery.verified(), delivery.event(), delivery.body())
                            .filter(|id| !id.is_empty())
                            .unwrap_or_else(|| body_digest_id(delivery.body()));
                        let case = format!("{} with id header {header_id:?}", String::from_utf8_lossy(body));
                        assert_eq!(delivery.id(), expected, "{case}");
                        // Where it was read: no copy for the senders whose id is in the event or
                        // the headers.
                        let unchanged = body == fixture.body.as_bytes();
                        let kept = match &delivery.0.id {
                            DeliveryId::InEvent(_) => "event",
                            DeliveryId::InHeaders => "headers",
                            DeliveryId::Own(_) => "own",
                        };
                        match *name {
                            "botdog" | "breakcold" | "stripe" | "slack" if unchanged => assert_eq!(kept, "event"),
                            "standard" | "github" | "shopify" | "breakcold" if !header_id.is_empty() => {
                                assert_eq!(kept, "headers");
                            }
                            _ => assert_eq!(kept, "own", "{case}"),
                        }
                        assert_eq!(delivery.clone().id(), expected, "{case}");
                        assert!(format!("{delivery:?}").contains(&format!("id: {expected:?}")), "{case}");
                    }
                }
            }
        }
    }
}
