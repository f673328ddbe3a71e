//! Errors: [`VerifyError`] for problems with a request, [`ConfigError`] for builder mistakes.
//!
//! Both are opaque structs: the request-facing one exposes a [`VerifyErrorKind`] through
//! [`VerifyError::kind`], so new kinds and new context can be added without breaking callers
//! (the shape of tower-http's csrf error). Their `Display` and `Debug` output is built only from
//! header names, counts, our own schema's field names and numbers: never a secret, an expected MAC,
//! or bytes of the body.

use std::fmt;

use http::StatusCode;

/// What went wrong with a delivery, coarse enough to map onto one row of the status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// A header (or body field) that carries signature material is absent. 400.
    MissingSignature,
    /// Signature material is present but cannot be parsed, or a header holds two different
    /// values. 400.
    MalformedSignature,
    /// No provided signature matched any key of the keyring. 401.
    SignatureMismatch,
    /// The signature matched but the signed timestamp is outside the tolerance. 401.
    TimestampOutOfTolerance,
    /// The body is larger than the configured limit. 413.
    BodyTooLarge,
    /// The body could not be read to its end: the client stopped sending, the connection broke or
    /// the read timed out. 400 (the client rarely sees it; the sender retries).
    BodyUnreadable,
    /// The delivery is authentic, but its body is not JSON or a known event does not match its
    /// type. 422.
    InvalidPayload,
}

impl VerifyErrorKind {
    /// The stable snake_case name used in rejection bodies, logs and the CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MalformedSignature => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
            Self::BodyTooLarge => "body_too_large",
            Self::BodyUnreadable => "body_unreadable",
            Self::InvalidPayload => "invalid_payload",
        }
    }

    /// The HTTP status of this kind, from the status table (see [`Rejection`](crate::Rejection)).
    pub const fn status(self) -> StatusCode {
        match self {
            Self::MissingSignature | Self::MalformedSignature | Self::BodyUnreadable => StatusCode::BAD_REQUEST,
            Self::SignatureMismatch | Self::TimestampOutOfTolerance => StatusCode::UNAUTHORIZED,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidPayload => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl fmt::Display for VerifyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery was refused: see [`VerifyError::kind`] for why and [`VerifyError::status`] for the
/// HTTP status to answer with.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyError {
    kind: VerifyErrorKind,
    message: String,
    path: Option<String>,
}

impl VerifyError {
    /// `message` must never contain secrets, MACs or body bytes: every caller builds it from
    /// header names, counts and numbers.
    #[cold]
    pub(crate) fn new(kind: VerifyErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), path: None }
    }

    #[cold]
    pub(crate) fn missing(header: &str) -> Self {
        Self::new(VerifyErrorKind::MissingSignature, format!("header `{header}` is missing"))
    }

    #[cold]
    pub(crate) fn malformed(header: &str, why: &str) -> Self {
        Self::new(VerifyErrorKind::MalformedSignature, format!("header `{header}` {why}"))
    }

    #[cold]
    pub(crate) fn mismatch() -> Self {
        Self::new(VerifyErrorKind::SignatureMismatch, "no signature matched any configured secret")
    }

    #[cold]
    pub(crate) fn too_large(limit: usize) -> Self {
        Self::new(VerifyErrorKind::BodyTooLarge, format!("body is larger than the limit of {limit} bytes"))
    }

    #[cfg(feature = "guard")]
    #[cold]
    pub(crate) fn unreadable(why: &str) -> Self {
        Self::new(VerifyErrorKind::BodyUnreadable, format!("the body could not be read: {why}"))
    }

    #[cold]
    pub(crate) fn payload(error: PayloadError) -> Self {
        Self { kind: VerifyErrorKind::InvalidPayload, message: error.message, path: Some(error.path) }
    }

    /// Why the delivery was refused.
    pub fn kind(&self) -> VerifyErrorKind {
        self.kind
    }

    /// The HTTP status to answer with, from the status table.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// A human-readable explanation, safe to send to the caller and to log.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`VerifyErrorKind::InvalidPayload`]: the JSON path that failed (`$` for the whole
    /// body, `data.fields` for a nested one).
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }
}

impl fmt::Debug for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("path", &self.path)
            .finish()
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for VerifyError {}

/// A verified body could not be turned into its typed event.
///
/// Carries the JSON path that failed and a message built from our own schema (field names and
/// expected types), never from the body's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    path: String,
    message: String,
}

impl PayloadError {
    /// A payload error at `path` (dotted, `$` for the root).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }

    /// The JSON path that failed.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong there.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PayloadError {}

/// A mistake in how a [`crate::Verifier`], [`crate::Keyring`] or scheme was configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A secret was empty.
    #[error("a secret must not be empty")]
    EmptySecret,
    /// A `whsec_`/`whpk_`/`whsk_` key did not have its prefix or was not valid base64.
    #[error("a {expected} key must be `{expected}<base64>`")]
    BadKeyEncoding {
        /// The prefix that was expected, e.g. `whsec_`.
        expected: &'static str,
    },
    /// A decoded key had a length the scheme does not allow.
    #[error("a {what} must be {min}..={max} bytes long, this one is {len}")]
    BadKeyLength {
        /// What kind of key.
        what: &'static str,
        /// Its decoded length.
        len: usize,
        /// The shortest allowed.
        min: usize,
        /// The longest allowed.
        max: usize,
    },
    /// An Ed25519 public key is not a valid curve point.
    #[error("the Ed25519 public key is not a valid point")]
    BadPublicKey,
    /// The keyring has no key the provider can use.
    #[error("the keyring holds no key usable by provider `{provider}`")]
    NoUsableKey {
        /// The provider's name.
        provider: &'static str,
    },
    /// A provider does not accept this kind of key (for example an Ed25519 key for GitHub).
    #[error("provider `{provider}` cannot use a {key} key")]
    UnsupportedKey {
        /// The provider's name.
        provider: &'static str,
        /// The kind of key.
        key: &'static str,
    },
    /// A scheme description is inconsistent.
    #[error("invalid scheme: {0}")]
    InvalidScheme(&'static str),
    /// A dedup ttl shorter than the sender's retry window: a late retry would be processed again.
    #[error("dedup ttl of {ttl_secs} s is shorter than {provider}'s retry window of {window_secs} s")]
    TtlShorterThanRetryWindow {
        /// The provider's name.
        provider: &'static str,
        /// The configured ttl, in seconds.
        ttl_secs: u64,
        /// The provider's declared retry window, in seconds.
        window_secs: u64,
    },
    /// An unknown provider name.
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
}
