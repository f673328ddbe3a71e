//! Signing deliveries the way each sender does, from the same scheme data the verifier reads.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;

use crate::provider::SentValue;
use crate::scheme::{Encoding, Scheme, SchemeKind, SignatureFormat, SignedScheme};
use crate::secret::{HmacSha256, Secret, SecretFormat};
use crate::{ConfigError, Provider};

/// A key to sign with: a shared secret, or (Standard Webhooks `v1a`) an Ed25519 signing key.
#[derive(Clone)]
#[non_exhaustive]
pub enum SigningKey {
    /// HMAC-SHA256 (or the secret-in-body scheme).
    Secret(Secret),
    /// Ed25519 for Standard Webhooks `v1a`.
    #[cfg(feature = "standard")]
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Parses a Standard Webhooks signing key `whsk_<base64>`: the 32-byte seed, or the 64-byte
    /// seed followed by its public key.
    ///
    /// # Errors
    ///
    /// When the prefix, base64 or length is wrong, or the public half does not match the seed.
    #[cfg(feature = "standard")]
    pub fn from_whsk(text: &str) -> Result<Self, ConfigError> {
        let bad = ConfigError::BadKeyEncoding { expected: "whsk_" };
        let encoded = text.strip_prefix("whsk_").ok_or(bad.clone())?;
        let decoded = zeroize::Zeroizing::new(STANDARD.decode(encoded).map_err(|_| bad)?);
        let seed: [u8; 32] = decoded
            .get(..32)
            .and_then(|seed| seed.try_into().ok())
            .ok_or(ConfigError::BadKeyLength { what: "Ed25519 signing key", len: decoded.len(), min: 32, max: 64 })?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        match decoded.len() {
            32 => {}
            64 if decoded[32..] == key.verifying_key().as_bytes()[..] => {}
            64 => return Err(ConfigError::BadPublicKey),
            len => return Err(ConfigError::BadKeyLength { what: "Ed25519 signing key", len, min: 32, max: 64 }),
        }
        Ok(Self::Ed25519(key))
    }
}

/// A delivery as the sender would send it.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// Header names and values, in the order the sender sends them.
    pub headers: Vec<(String, String)>,
    /// The body (for secret-in-body schemes, with the secret written into it).
    pub body: Vec<u8>,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SignedRequest").field("headers", &names).field("body_len", &self.body.len()).finish()
    }
}

impl SignedRequest {
    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Signs bodies with a [`Scheme`], producing its signature, timestamp and id headers.
///
/// A signer made with [`Signer::for_provider`] also sends the other headers that provider's
/// sender sends (`User-Agent`, `X-GitHub-Event`, …) through [`Signer::sign_delivery`];
/// [`Signer::sign`] covers what the scheme describes.
#[derive(Debug, Clone)]
pub struct Signer {
    scheme: Scheme,
    keys: Vec<SigningKey>,
    /// What the imitated sender sends beside the scheme's headers, in its order.
    sent_headers: Vec<(String, SentValue)>,
}

impl Signer {
    /// A signer for `scheme` with one or more keys (each produces one signature entry where the
    /// scheme's header can hold several, else the first is used).
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoUsableKey`] without keys.
    pub fn new(scheme: Scheme, keys: Vec<SigningKey>) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::NoUsableKey { provider: "signer" });
        }
        Ok(Self { scheme, keys, sent_headers: Vec::new() })
    }

    /// A signer that sends exactly what `provider`'s sender sends: its scheme's headers, plus
    /// `Content-Type`, the provider's [extra headers](Provider::extra_headers) (`User-Agent`, …),
    /// its [event-type header](Provider::event_type_header) and its
    /// [unsigned id headers](Provider::unsigned_id_headers). `secrets` are read in the provider's
    /// [secret format](Provider::secret_format), as the sender's dashboard shows them: raw
    /// strings, or for Standard Webhooks `whsec_…` secrets and `whsk_…` Ed25519 signing keys.
    ///
    /// Works for any provider, a preset (`&Github::new()`), a run-time choice (`&AnyProvider`) or
    /// a [`Custom`](crate::providers::Custom) sender; everything comes from the provider's own
    /// methods, never from its name.
    ///
    /// # Errors
    ///
    /// A secret the provider cannot use, or no secret.
    pub fn for_provider<P: Provider>(provider: &P, secrets: &[&str]) -> Result<Self, ConfigError> {
        let format = provider.secret_format();
        let keys = secrets.iter().map(|text| signing_key(format, text)).collect::<Result<Vec<_>, _>>()?;
        let mut signer = Self::new(provider.scheme().clone(), keys)?;
        let extra = provider.extra_headers().iter().map(|(name, value)| ((*name).to_owned(), *value));
        let event_type = provider.event_type_header().map(|name| (name.to_owned(), SentValue::EventType));
        let ids = provider.unsigned_id_headers().iter().map(|name| (name.clone().into_owned(), SentValue::DeliveryId));
        signer.sent_headers = extra.chain(event_type).chain(ids).collect();
        Ok(signer)
    }

    /// Signs `body` like [`Signer::sign`], then adds the sender's other headers (see
    /// [`Signer::for_provider`]). `event_type` names the event for senders that put it in a
    /// header (GitHub, Shopify, Breakcold); when `None` it is read from the body's `type`, `event`
    /// or `eventType`.
    pub fn sign_delivery(&self, body: &[u8], timestamp: i64, id: &str, event_type: Option<&str>) -> SignedRequest {
        let mut request = self.sign(body, timestamp, id);
        let event_type = event_type.map(str::to_owned).unwrap_or_else(|| {
            serde_json::from_slice::<serde_json::Value>(body)
                .map(|value| crate::Event::event_type(&value).to_owned())
                .unwrap_or_default()
        });
        // Every sender here posts JSON.
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(self.sent_headers.iter().map(|(name, value)| {
            let value = match value {
                SentValue::Fixed(text) => (*text).to_owned(),
                SentValue::EventType => event_type.clone(),
                SentValue::DeliveryId => id.to_owned(),
            };
            (name.clone(), value)
        }));
        headers.append(&mut request.headers);
        request.headers = headers;
        request
    }

    /// Signs `body` as sent at `timestamp` (unix seconds) with delivery id `id` (used only by
    /// schemes that sign an id header).
    pub fn sign(&self, body: &[u8], timestamp: i64, id: &str) -> SignedRequest {
        match &self.scheme.kind {
            SchemeKind::Signed(signed) => {
                SignedRequest { headers: self.sign_headers(signed, body, timestamp, id), body: body.to_vec() }
            }
            SchemeKind::SecretInBody { field } => {
                SignedRequest { headers: Vec::new(), body: self.write_secret(field, body) }
            }
        }
    }

    fn sign_headers(&self, scheme: &SignedScheme, body: &[u8], timestamp: i64, id: &str) -> Vec<(String, String)> {
        let t = timestamp.to_string();
        let content = &scheme.contents[0];
        let mut signatures = Vec::new();
        for key in &self.keys {
            match key {
                SigningKey::Secret(secret) => {
                    let Ok(mut mac) = <HmacSha256 as hmac::KeyInit>::new_from_slice(secret.expose()) else { continue };
                    content.feed(t.as_bytes(), id.as_bytes(), body, |chunk| mac.update(chunk));
                    let tag = mac.finalize().into_bytes();
                    let encoded = match (&scheme.format, scheme.encoding) {
                        (SignatureFormat::Versioned { .. }, _) | (_, Encoding::Base64) => STANDARD.encode(tag),
                        (_, Encoding::Hex) => hex::encode(tag),
                    };
                    signatures.push((false, encoded));
                }
                #[cfg(feature = "standard")]
                SigningKey::Ed25519(key) => {
                    use ed25519_dalek::Signer as _;
                    let mut message = Vec::new();
                    content.feed(t.as_bytes(), id.as_bytes(), body, |chunk| message.extend_from_slice(chunk));
                    signatures.push((true, STANDARD.encode(key.sign(&message).to_bytes())));
                }
            }
        }
        let value = match &scheme.format {
            SignatureFormat::Single { prefix } => {
                format!("{prefix}{}", signatures.first().map_or("", |(_, s)| s.as_str()))
            }
            SignatureFormat::KeyValue { signature_key, timestamp_key } => {
                let mut parts: Vec<String> = timestamp_key.iter().map(|key| format!("{key}={t}")).collect();
                parts.extend(signatures.iter().map(|(_, s)| format!("{signature_key}={s}")));
                parts.join(",")
            }
            SignatureFormat::Versioned { hmac_version, ed25519_version } => signatures
                .iter()
                .map(|(ed, s)| {
                    let version = if *ed { ed25519_version.as_deref().unwrap_or("v1a") } else { hmac_version };
                    format!("{version},{s}")
                })
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut headers = Vec::new();
        if let Some(name) = scheme.id_headers.first() {
            headers.push((name.clone(), id.to_owned()));
        }
        if let Some(name) = scheme.timestamp_headers.first() {
            headers.push((name.clone(), t));
        }
        if let Some(name) = scheme.signature_headers.first() {
            headers.push((name.clone(), value));
        }
        headers
    }

    /// Secret-in-body: set the top-level `field` of a JSON object body to the first secret. A body
    /// that is not a JSON object is returned unchanged.
    fn write_secret(&self, field: &str, body: &[u8]) -> Vec<u8> {
        let secret = self.keys.iter().find_map(|key| match key {
            SigningKey::Secret(secret) => std::str::from_utf8(secret.expose()).ok(),
            #[cfg(feature = "standard")]
            SigningKey::Ed25519(_) => None,
        });
        match (serde_json::from_slice::<serde_json::Value>(body), secret) {
            (Ok(serde_json::Value::Object(mut object)), Some(secret)) => {
                object.insert(field.to_owned(), serde_json::Value::String(secret.to_owned()));
                serde_json::to_vec(&object).unwrap_or_else(|_| body.to_vec())
            }
            _ => body.to_vec(),
        }
    }
}

/// Reads a secret, to sign with, as a sender with `format` shows it: the signing side of
/// [`SecretFormat::parse_key`].
fn signing_key(format: SecretFormat, text: &str) -> Result<SigningKey, ConfigError> {
    match format {
        SecretFormat::Utf8 => Ok(SigningKey::Secret(Secret::from_utf8(text)?)),
        #[cfg(feature = "standard")]
        SecretFormat::Whsec if text.starts_with("whsk_") => SigningKey::from_whsk(text),
        SecretFormat::Whsec => Ok(SigningKey::Secret(Secret::from_whsec(text)?)),
    }
}
