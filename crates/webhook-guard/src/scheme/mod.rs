//! How a sender signs, described as data.
//!
//! Every HMAC sender we know differs only in *where* the signature and timestamp travel, *how*
//! the signature is encoded, and *which bytes* are signed. A [`Scheme`] writes those three answers
//! down, and one engine ([`crate::Verifier`]) serves them all:
//!
//! | sender | signature | signed bytes |
//! |---|---|---|
//! | Botdog | `X-Webhook-Signature: t=<t>,s=<hex>` | `{t}.{body}` |
//! | Pollybot | `X-Webhook-Signature: sha256=<hex>` + `X-Webhook-Timestamp` | `{body}{t}` (or `{body}`, opt-in) |
//! | Breakcold | `X-Webhook-Signature: sha256=<hex>` + `X-Webhook-Timestamp` | `{t}.{body}` |
//! | Standard Webhooks / Svix | `webhook-signature: v1,<base64> …` + `webhook-id`, `webhook-timestamp` | `{id}.{t}.{body}` |
//! | GitHub | `X-Hub-Signature-256: sha256=<hex>` | `{body}` |
//! | Stripe | `Stripe-Signature: t=<t>,v1=<hex>,…` | `{t}.{body}` |
//! | Slack | `X-Slack-Signature: v0=<hex>` + `X-Slack-Request-Timestamp` | `v0:{t}:{body}` |
//! | Shopify | `X-Shopify-Hmac-Sha256: <base64>` | `{body}` |
//!
//! Two schemes are not HMAC: Breakcold's legacy webhooks carry the shared secret inside the body
//! ([`Scheme::secret_in_body`]), and Standard Webhooks `v1a` entries are Ed25519 signatures, checked
//! by the same [`SignatureFormat::Versioned`] layout when the keyring holds Ed25519 public keys.

pub(crate) mod check;
pub(crate) mod hmac_sha256;
pub(crate) mod parse;
mod template;

pub(crate) use check::verify;
// The parts of a preset's layouts: unused when only secret-in-body (Breakcold legacy) is built.
#[cfg(feature = "signed-preset")]
pub(crate) use template::Part;
pub use template::SignedContent;

use crate::error::ConfigError;

/// How a signature is encoded in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// Hexadecimal, either case.
    Hex,
    /// Standard base64 with padding (RFC 4648 §4).
    Base64,
}

/// The layout of a signature header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureFormat {
    /// The whole value is one signature after a fixed prefix: `sha256=<hex>`, `v0=<hex>`, or a bare
    /// `<base64>` with an empty prefix.
    Single {
        /// The prefix before the encoded signature (may be empty).
        prefix: String,
    },
    /// Comma-separated `key=value` parts: `t=<t>,s=<sig>` (Botdog) or `t=<t>,v1=<sig>,v1=<sig>`
    /// (Stripe). The signature key may repeat (rotation); other keys are ignored.
    KeyValue {
        /// The key of a signature part (`s`, `v1`).
        signature_key: String,
        /// The key of the timestamp part (`t`), if the timestamp travels here.
        timestamp_key: Option<String>,
    },
    /// Space-separated `version,<base64>` entries (Standard Webhooks). Entries of other versions
    /// are ignored.
    Versioned {
        /// The version tag of HMAC-SHA256 entries (`v1`).
        hmac_version: String,
        /// The version tag of Ed25519 entries (`v1a`), if supported.
        ed25519_version: Option<String>,
    },
}

/// A complete description of how a sender proves its deliveries.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub(crate) kind: SchemeKind,
}

#[derive(Debug, Clone)]
pub(crate) enum SchemeKind {
    Signed(SignedScheme),
    SecretInBody { field: String },
}

#[derive(Debug, Clone)]
pub(crate) struct SignedScheme {
    pub(crate) signature_headers: Vec<String>,
    pub(crate) format: SignatureFormat,
    pub(crate) encoding: Encoding,
    pub(crate) timestamp_headers: Vec<String>,
    pub(crate) timestamp_required: bool,
    pub(crate) id_headers: Vec<String>,
    /// Accepted layouts of the signed bytes; the first is what senders are expected to use.
    pub(crate) contents: Vec<SignedContent>,
    /// The three header lists' names parsed once, when the scheme is built (empty before).
    pub(crate) parsed_names: ParsedNames,
    /// What the key-value parser's fast paths may do with this format, decided when the scheme
    /// is built (none before).
    pub(crate) key_value_plan: parse::KeyValuePlan,
}

/// `signature_headers`, `timestamp_headers` and `id_headers`, in that order, as
/// [`http::HeaderName`]s, so that a request's headers are read without parsing a name per
/// request, in one visit of the request's headers
/// ([`HeaderSource::for_each_value_of`](crate::HeaderSource::for_each_value_of)). Empty when a
/// name does not parse (a built scheme has none; such a scheme's headers are looked up by text).
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedNames {
    pub(crate) all: Vec<http::HeaderName>,
}

impl ParsedNames {
    fn of(scheme: &SignedScheme) -> Self {
        let names = scheme.signature_headers.iter().chain(&scheme.timestamp_headers).chain(&scheme.id_headers);
        let all = names.map(|name| http::HeaderName::from_bytes(name.as_bytes()).ok()).collect::<Option<Vec<_>>>();
        Self { all: all.unwrap_or_default() }
    }
}

impl SignedScheme {
    pub(crate) fn timestamp_in_signature(&self) -> bool {
        matches!(&self.format, SignatureFormat::KeyValue { timestamp_key: Some(_), .. })
    }

    /// Whether a timestamp is read from the request at all (a header, or a part of the signature
    /// header), signed or not.
    pub(crate) fn has_timestamp_source(&self) -> bool {
        self.timestamp_in_signature() || !self.timestamp_headers.is_empty()
    }

    /// Whether the timestamp is bound into the MAC: some accepted layout includes `{t}`.
    /// [`SchemeBuilder::build`] makes sure such a layout has a timestamp source.
    pub(crate) fn has_timestamp(&self) -> bool {
        self.contents.iter().any(SignedContent::uses_timestamp)
    }
}

/// Why a [`crate::Verifier`] refuses a scheme that reads a timestamp no signed layout includes.
const UNSIGNED_TIMESTAMP: &str =
    "a timestamp is read but no signed layout includes `{t}`: it would not be authenticated";

impl Scheme {
    /// Starts describing an HMAC-SHA256 scheme whose signature travels in `header`.
    pub fn hmac_sha256(header: impl Into<String>, format: SignatureFormat) -> SchemeBuilder {
        SchemeBuilder {
            scheme: SignedScheme {
                signature_headers: vec![header.into()],
                format,
                encoding: Encoding::Hex,
                timestamp_headers: Vec::new(),
                timestamp_required: true,
                id_headers: Vec::new(),
                contents: Vec::new(),
                parsed_names: ParsedNames::default(),
                key_value_plan: parse::KeyValuePlan::default(),
            },
        }
    }

    /// A scheme whose proof is the shared secret itself, in the top-level string field `field` of
    /// a JSON body (Breakcold legacy webhooks). Compared in constant time; offers no replay
    /// protection and no integrity of the rest of the body: prefer a signed scheme where the
    /// sender offers one.
    pub fn secret_in_body(field: impl Into<String>) -> Self {
        Self { kind: SchemeKind::SecretInBody { field: field.into() } }
    }

    /// Whether the scheme binds a timestamp into the MAC (a signed layout includes `{t}`), and so
    /// has replay protection: a delivery is refused once its signed timestamp is outside the
    /// verifier's tolerance.
    ///
    /// `false` for GitHub, Shopify and secret-in-body, and for a scheme that reads a timestamp
    /// header but signs no layout with `{t}` (such a timestamp is not authenticated, and a
    /// [`Verifier`](crate::Verifier) refuses the scheme). `true` for Pollybot's
    /// `accepting_body_only()` reading, whose preferred layout is `{body}{t}`: a delivery that
    /// matched the alternative body-only layout says so through
    /// [`Verified::timestamp_bound`](crate::Verified::timestamp_bound).
    pub fn has_timestamp(&self) -> bool {
        match &self.kind {
            SchemeKind::Signed(signed) => signed.has_timestamp(),
            SchemeKind::SecretInBody { .. } => false,
        }
    }

    /// Refuses what a verifier must not use: a timestamp that is read and checked against the
    /// clock but that no signed layout covers. Anyone could put a fresh timestamp beside a captured
    /// body, so the check would promise replay protection it does not give. Pollybot's body-only
    /// fallback is allowed: its preferred layout signs the timestamp, and each delivery says which
    /// layout matched.
    ///
    /// A `testing::Signer` (feature `testing`) may still use such a scheme, to imitate a sender
    /// that sends an unsigned timestamp.
    pub(crate) fn check_verifiable(&self) -> Result<(), ConfigError> {
        match &self.kind {
            SchemeKind::Signed(signed) if signed.has_timestamp_source() && !signed.has_timestamp() => {
                Err(ConfigError::InvalidScheme(UNSIGNED_TIMESTAMP))
            }
            SchemeKind::Signed(_) | SchemeKind::SecretInBody { .. } => Ok(()),
        }
    }

    /// Whether the bytes a signature covers include the whole body. `false` for secret-in-body,
    /// where anyone who saw one delivery can change the rest of its body.
    pub(crate) fn authenticates_body(&self) -> bool {
        matches!(self.kind, SchemeKind::Signed(_))
    }

    /// Whether the scheme can use Ed25519 public keys.
    pub fn accepts_ed25519(&self) -> bool {
        matches!(
            &self.kind,
            SchemeKind::Signed(SignedScheme {
                format: SignatureFormat::Versioned { ed25519_version: Some(_), .. },
                ..
            })
        )
    }

    /// The name of the header that carries the signature, for messages (`None` for
    /// secret-in-body).
    pub fn signature_header(&self) -> Option<&str> {
        match &self.kind {
            SchemeKind::Signed(signed) => signed.signature_headers.first().map(String::as_str),
            SchemeKind::SecretInBody { .. } => None,
        }
    }
}

/// A preset: the description of a known sender, infallible because its parts are fixed, and a
/// constant (static strings only) so that a sender's facts can be written down as data.
#[cfg(feature = "signed-preset")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Preset {
    pub(crate) signature: &'static [&'static str],
    pub(crate) format: PresetFormat,
    pub(crate) encoding: Encoding,
    pub(crate) timestamp: &'static [&'static str],
    /// Signed id headers: each layout of `contents` that uses `{id}` reads the first present.
    pub(crate) id: &'static [&'static str],
    pub(crate) contents: &'static [&'static [template::Part]],
}

/// A [`SignatureFormat`] with static strings, for [`Preset`]. Each variant exists when a preset
/// that uses it is built.
#[cfg(feature = "signed-preset")]
#[derive(Debug, Clone, Copy)]
pub(crate) enum PresetFormat {
    /// Pollybot, Breakcold, GitHub, Slack, Shopify.
    #[cfg(any(
        feature = "pollybot",
        feature = "breakcold",
        feature = "github",
        feature = "slack",
        feature = "shopify"
    ))]
    Single { prefix: &'static str },
    /// Botdog, Stripe.
    #[cfg(any(feature = "botdog", feature = "stripe"))]
    KeyValue { signature_key: &'static str, timestamp_key: Option<&'static str> },
    /// Standard Webhooks.
    #[cfg(feature = "standard")]
    Versioned { hmac_version: &'static str, ed25519_version: Option<&'static str> },
}

#[cfg(feature = "signed-preset")]
impl PresetFormat {
    fn to_format(self) -> SignatureFormat {
        match self {
            #[cfg(any(
                feature = "pollybot",
                feature = "breakcold",
                feature = "github",
                feature = "slack",
                feature = "shopify"
            ))]
            Self::Single { prefix } => SignatureFormat::Single { prefix: prefix.to_owned() },
            #[cfg(any(feature = "botdog", feature = "stripe"))]
            Self::KeyValue { signature_key, timestamp_key } => SignatureFormat::KeyValue {
                signature_key: signature_key.to_owned(),
                timestamp_key: timestamp_key.map(str::to_owned),
            },
            #[cfg(feature = "standard")]
            Self::Versioned { hmac_version, ed25519_version } => SignatureFormat::Versioned {
                hmac_version: hmac_version.to_owned(),
                ed25519_version: ed25519_version.map(str::to_owned),
            },
        }
    }
}

#[cfg(feature = "signed-preset")]
impl Preset {
    pub(crate) fn build(&self) -> Scheme {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
        let mut scheme = SignedScheme {
            signature_headers: names(self.signature),
            format: self.format.to_format(),
            encoding: self.encoding,
            timestamp_headers: names(self.timestamp),
            timestamp_required: true,
            id_headers: names(self.id),
            contents: self.contents.iter().map(|parts| SignedContent::from_parts(parts)).collect(),
            parsed_names: ParsedNames::default(),
            key_value_plan: parse::KeyValuePlan::default(),
        };
        scheme.parsed_names = ParsedNames::of(&scheme);
        scheme.key_value_plan = parse::KeyValuePlan::of(&scheme.format, scheme.encoding);
        Scheme { kind: SchemeKind::Signed(scheme) }
    }
}

/// Builds a [`Scheme`]; see [`Scheme::hmac_sha256`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SchemeBuilder {
    scheme: SignedScheme,
}

impl SchemeBuilder {
    /// Another name the signature header may go by (`svix-signature` beside `webhook-signature`).
    pub fn signature_alias(mut self, header: impl Into<String>) -> Self {
        self.scheme.signature_headers.push(header.into());
        self
    }

    /// How the signature is encoded (default hex).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.scheme.encoding = encoding;
        self
    }

    /// The timestamp travels in this header (call again to add an alias). A signed layout must
    /// include it as `{t}`: a [`Verifier`](crate::Verifier) refuses a scheme whose timestamp is
    /// read but not signed ([`ConfigError::InvalidScheme`]), because the replay check would then
    /// accept a captured body beside a fresh timestamp.
    pub fn timestamp_header(mut self, header: impl Into<String>) -> Self {
        self.scheme.timestamp_headers.push(header.into());
        self
    }

    /// The delivery id travels in this header and is part of the signed bytes as `{id}` (call
    /// again to add an alias): the signed id, as Standard Webhooks' `webhook-id`. A signed layout
    /// must include `{id}`. An id header the sender does not sign belongs to the provider instead
    /// ([`Custom::id_header`](crate::providers::Custom::id_header)), which reports it as unsigned.
    pub fn id_header(mut self, header: impl Into<String>) -> Self {
        self.scheme.id_headers.push(header.into());
        self
    }

    /// The layout of the signed bytes, e.g. `"{t}.{body}"`; call again to accept an alternative
    /// layout too (the first is the one senders are expected to use).
    ///
    /// # Errors
    ///
    /// See [`SignedContent::parse`].
    pub fn signed_content(mut self, template: &str) -> Result<Self, ConfigError> {
        self.scheme.contents.push(SignedContent::parse(template)?);
        Ok(self)
    }

    /// Accept deliveries whose timestamp is absent. Only meaningful with an alternative signed
    /// layout that does not include `{t}`; such deliveries have no replay protection.
    pub fn timestamp_optional(mut self) -> Self {
        self.scheme.timestamp_required = false;
        self
    }

    /// Checks the description and finishes it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidScheme`] when no signed layout was given, a layout uses `{t}` or
    /// `{id}` with nowhere for it to come from, an id header is set that no layout signs, or a
    /// header name is empty.
    ///
    /// A timestamp source that no layout signs builds, so that a `testing::Signer` (feature
    /// `testing`) can imitate a sender that sends one; [`VerifierBuilder::build`] refuses it.
    ///
    /// [`VerifierBuilder::build`]: crate::VerifierBuilder::build
    pub fn build(self) -> Result<Scheme, ConfigError> {
        let mut scheme = self.scheme;
        if scheme.contents.is_empty() {
            return Err(ConfigError::InvalidScheme("no signed content layout given"));
        }
        let names = scheme.signature_headers.iter().chain(&scheme.timestamp_headers).chain(&scheme.id_headers);
        if names.clone().any(|name| http::HeaderName::from_bytes(name.as_bytes()).is_err()) {
            return Err(ConfigError::InvalidScheme("a header name is empty or not a valid header name"));
        }
        if scheme.has_timestamp() && !scheme.has_timestamp_source() {
            return Err(ConfigError::InvalidScheme("`{t}` is signed but no timestamp source is set"));
        }
        let signs_id = scheme.contents.iter().any(SignedContent::uses_id);
        if signs_id && scheme.id_headers.is_empty() {
            return Err(ConfigError::InvalidScheme("`{id}` is signed but no id header is set"));
        }
        // The scheme's id is reported as signed (`Verified::signed_id`) and preferred for
        // deduplication: an id header that no layout covers would be trusted without proof.
        if !signs_id && !scheme.id_headers.is_empty() {
            return Err(ConfigError::InvalidScheme(
                "an id header is set but no signed layout includes `{id}`: an unsigned id header belongs to \
                 the provider (`Custom::id_header`)",
            ));
        }
        if let SignatureFormat::KeyValue { signature_key, .. } = &scheme.format
            && signature_key.is_empty()
        {
            return Err(ConfigError::InvalidScheme("the signature key must not be empty"));
        }
        scheme.parsed_names = ParsedNames::of(&scheme);
        scheme.key_value_plan = parse::KeyValuePlan::of(&scheme.format, scheme.encoding);
        Ok(Scheme { kind: SchemeKind::Signed(scheme) })
    }
}
