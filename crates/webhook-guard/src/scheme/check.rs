//! The engine: one HMAC-SHA256 check that serves every [`Scheme`], plus the Ed25519 and
//! secret-in-body checks.
//!
//! Order matters: everything that can be said about a request without the secrets (missing or
//! malformed headers) is decided first; then the MACs; the timestamp window only after a MAC
//! matched, so what an unauthenticated caller learns never depends on a secret.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use super::parse::{Provided, parse_signature_into, parse_timestamp};
use super::{Scheme, SchemeKind, SignedContent, SignedScheme};
use crate::error::VerifyError;
use crate::event::peek_str_field;
use crate::headers::{ConflictingValues, HeaderSource, single_value, single_value_by_name};
#[cfg(feature = "standard")]
use crate::secret::Ed25519PublicKey;
use crate::secret::{HmacKey, Keyring};

/// What a successful check established.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified<'a> {
    /// The signed timestamp (unix seconds), when the scheme has one and the delivery carried it.
    pub(crate) timestamp: Option<i64>,
    /// The signed id header's value.
    pub(crate) id: Option<&'a str>,
    /// The position in the keyring of the key that matched.
    pub(crate) key_index: usize,
    /// Whether the matching signature covered the timestamp (false for Pollybot's body-only
    /// reading, GitHub, Shopify and secret-in-body).
    pub(crate) timestamp_bound: bool,
}

/// The receiver's side of the replay check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) now: i64,
    pub(crate) tolerance_secs: u64,
}

/// Verifies a delivery against `scheme` with the keys of `keyring`.
pub(crate) fn verify<'a, H>(
    scheme: &Scheme,
    keyring: &Keyring,
    headers: &'a H,
    body: &'a [u8],
    window: Window,
) -> Result<Verified<'a>, VerifyError>
where
    H: HeaderSource + ?Sized,
{
    match &scheme.kind {
        SchemeKind::Signed(signed) => {
            let mut material = Material::default();
            read_material_into(signed, headers, &mut material)?;
            let matched = match_signatures(signed, keyring, &material, body).ok_or_else(VerifyError::mismatch)?;
            if let Some((_, timestamp)) = material.timestamp {
                check_window(timestamp, window)?;
            }
            Ok(Verified {
                timestamp: material.timestamp.map(|(_, parsed)| parsed),
                id: material.id,
                key_index: matched.key_index,
                timestamp_bound: matched.timestamp_bound,
            })
        }
        SchemeKind::SecretInBody { field } => verify_secret_in_body(field, keyring, body),
    }
}

/// The header material of a signed delivery, parsed but not yet checked.
#[derive(Default)]
pub(crate) struct Material<'a> {
    pub(crate) provided: Provided<'a>,
    pub(crate) timestamp: Option<(&'a [u8], i64)>,
    pub(crate) id: Option<&'a str>,
}

/// Reads the signature, timestamp and id headers: every 400-class decision.
pub(crate) fn read_material<'a, H>(scheme: &SignedScheme, headers: &'a H) -> Result<Material<'a>, VerifyError>
where
    H: HeaderSource + ?Sized,
{
    let mut material = Material::default();
    read_material_into(scheme, headers, &mut material)?;
    Ok(material)
}

/// [`read_material`] into `material`, which must be empty (its `Default`): the engine's path.
/// The material is a few hundred bytes (two inline MACs); filled in place, it is not copied out
/// of a `Result` and into the caller on every delivery.
pub(crate) fn read_material_into<'a, H>(
    scheme: &SignedScheme,
    headers: &'a H,
    material: &mut Material<'a>,
) -> Result<(), VerifyError>
where
    H: HeaderSource + ?Sized,
{
    let signature_name = scheme.signature_headers.first().map_or("signature", String::as_str);
    let mut values = SchemeHeaderValues {
        headers,
        parsed: &scheme.parsed_names.all,
        visited: false,
        values: [None; NAMES_READ_AT_ONCE],
        conflicting: 0,
    };
    values.read();
    let value = values
        .one_of(0, &scheme.signature_headers, signature_name)?
        .ok_or_else(|| VerifyError::missing(signature_name))?;
    parse_signature_into(value, &scheme.format, scheme.encoding, scheme.key_value_plan, &mut material.provided)
        .map_err(|problem| VerifyError::malformed(signature_name, &problem.describe(&scheme.format)))?;

    let timestamp_at = scheme.signature_headers.len();
    let (timestamp_bytes, timestamp_name) = if scheme.timestamp_in_signature() {
        (material.provided.timestamp, signature_name)
    } else if let Some(first) = scheme.timestamp_headers.first() {
        (values.one_of(timestamp_at, &scheme.timestamp_headers, first)?, first.as_str())
    } else {
        (None, "")
    };
    material.timestamp = match timestamp_bytes {
        Some(bytes) => {
            let parsed = parse_timestamp(bytes).ok_or_else(|| {
                VerifyError::malformed(timestamp_name, "does not hold a timestamp in whole seconds since 1970")
            })?;
            Some((bytes, parsed))
        }
        None if scheme.timestamp_required && !scheme.timestamp_headers.is_empty() => {
            return Err(VerifyError::missing(timestamp_name));
        }
        None => None,
    };

    material.id = match scheme.id_headers.first() {
        Some(first) => {
            let id_at = timestamp_at + scheme.timestamp_headers.len();
            let bytes = values.one_of(id_at, &scheme.id_headers, first)?.ok_or_else(|| VerifyError::missing(first))?;
            let id = std::str::from_utf8(bytes)
                .ok()
                .filter(|id| !id.is_empty())
                .ok_or_else(|| VerifyError::malformed(first, "is empty or not UTF-8"))?;
            Some(id)
        }
        None => None,
    };
    Ok(())
}

/// At most this many header names are read in one visit of a request's headers: a scheme names
/// one to six (Standard Webhooks' three headers and their `svix-` aliases). A scheme with more,
/// or with one, looks each name up in turn.
const NAMES_READ_AT_ONCE: usize = 6;

/// A request's values of a scheme's header names (its signature, timestamp and id names, in
/// that order, as in [`ParsedNames`](super::ParsedNames)).
struct SchemeHeaderValues<'s, 'a, H: ?Sized> {
    headers: &'a H,
    parsed: &'s [http::HeaderName],
    /// Whether every name's values were read in one visit, into `values` and `conflicting`.
    visited: bool,
    /// Per name, the first value seen, trimmed.
    values: [Option<&'a [u8]>; NAMES_READ_AT_ONCE],
    /// Bit `i` set: name `i` came with two different values.
    conflicting: u32,
}

impl<'s, 'a, H: HeaderSource + ?Sized> SchemeHeaderValues<'s, 'a, H> {
    /// Reads every name's values in one visit of `headers` when the scheme's names were parsed
    /// and are few enough; otherwise leaves each name to be looked up when it is asked for.
    /// (Filled in place: returned, its array would be copied on every delivery.)
    fn read(&mut self) {
        let parsed = self.parsed;
        // One name (Botdog, GitHub, Stripe, Shopify) is looked up as before: a walk gains nothing
        // over one lookup.
        self.visited = (2..=NAMES_READ_AT_ONCE).contains(&parsed.len());
        if !self.visited {
            return;
        }
        let (values, conflicting) = (&mut self.values, &mut self.conflicting);
        self.headers.for_each_value_of(parsed, |index, value| {
            // What `single_value` decides, one value at a time in any order: trimmed values
            // (RFC 9110 §5.5: whitespace around a field value is not part of it), repeats of
            // one value are that value, two different values a conflict.
            let value = value.trim_ascii();
            match values.get_mut(index) {
                Some(slot @ None) => *slot = Some(value),
                Some(Some(previous)) => *conflicting |= u32::from(*previous != value) << index,
                None => {}
            }
        });
    }

    /// The one value of the name at `position`, whose text is `name`.
    #[inline]
    fn value(&self, position: usize, name: &str) -> Result<Option<&'a [u8]>, ConflictingValues> {
        if self.visited {
            return if self.conflicting & (1 << position) != 0 {
                Err(ConflictingValues)
            } else {
                Ok(self.values.get(position).copied().flatten())
            };
        }
        match self.parsed.get(position) {
            Some(parsed) => single_value_by_name(self.headers, parsed),
            None => single_value(self.headers, &[name]),
        }
    }

    /// The one value of a header known under `names` (aliases), the first of which is at
    /// `position`. Two different values under one name, or under two of the aliases, are
    /// refused: which one the sender meant cannot be known.
    #[inline(always)]
    fn one_of(&self, position: usize, names: &[String], label: &str) -> Result<Option<&'a [u8]>, VerifyError> {
        let mut found: Option<&[u8]> = None;
        for (index, name) in names.iter().enumerate() {
            match self.value(position + index, name) {
                Ok(Some(value)) => match found {
                    Some(previous) if previous != value => {
                        return Err(VerifyError::malformed(label, "has two different values"));
                    }
                    _ => found = Some(value),
                },
                Ok(None) => {}
                Err(ConflictingValues) => return Err(VerifyError::malformed(name, "has two different values")),
            }
        }
        Ok(found)
    }
}

/// Which key matched, and through which layout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match {
    pub(crate) key_index: usize,
    pub(crate) timestamp_bound: bool,
}

/// Compares every provided signature with every key's expected MAC, over every accepted layout.
///
/// The comparisons are constant-time and none of them returns early; which key matched is not
/// secret (it reveals nothing about any MAC's bytes).
#[inline]
pub(crate) fn match_signatures(
    scheme: &SignedScheme,
    keyring: &Keyring,
    material: &Material<'_>,
    body: &[u8],
) -> Option<Match> {
    let mut found = None;
    for content in &scheme.contents {
        if content.uses_timestamp() && material.timestamp.is_none() {
            continue;
        }
        for (key_index, key) in keyring.hmac_keys() {
            if hmac_matches(content, key, material, body) && found.is_none() {
                found = Some(Match { key_index: *key_index, timestamp_bound: content.uses_timestamp() });
            }
        }
        #[cfg(feature = "standard")]
        for (key_index, key) in keyring.ed25519_keys() {
            if found.is_none() && ed25519_matches(content, key, material, body) {
                found = Some(Match { key_index: *key_index, timestamp_bound: content.uses_timestamp() });
            }
        }
    }
    found
}

/// Whether any provided HMAC signature equals `key`'s MAC over `content`. Constant-time in the
/// signatures' contents; no early return.
#[inline]
pub(crate) fn hmac_matches(content: &SignedContent, key: &HmacKey, material: &Material<'_>, body: &[u8]) -> bool {
    if material.provided.hmac.is_empty() {
        return false;
    }
    let timestamp = material.timestamp.map_or(&b""[..], |(bytes, _)| bytes);
    let id = material.id.unwrap_or("").as_bytes();
    let mut mac = key.mac.start();
    content.feed(timestamp, id, body, |chunk| mac.update(chunk));
    let expected = mac.finish();
    // Each comparison is `subtle`'s; their results are OR-ed as plain bytes, without an
    // optimization barrier per OR (`Choice`'s `|` has one), and nothing branches on them.
    let mut hit = 0u8;
    for provided in material.provided.hmac.iter() {
        hit |= equal_macs(&expected, provided).unwrap_u8();
    }
    hit != 0
}

/// Whether a MAC (as SHA-256's eight state words) equals a provided one (its 32 bytes, which
/// are those words big-endian), in constant time: the XOR of the words OR-ed together, then one
/// `subtle` comparison with zero. `subtle`'s slice comparison does the same byte by byte, with an
/// optimization barrier per byte; eight words need none of that.
fn equal_macs(expected: &[u32; 8], provided: &[u8; 32]) -> Choice {
    let mut difference = 0u32;
    for (word, bytes) in expected.iter().zip(provided.as_chunks::<4>().0) {
        difference |= word ^ u32::from_be_bytes(*bytes);
    }
    difference.ct_eq(&0)
}

/// Whether any provided Ed25519 signature verifies under `key` over `content`. Ed25519 needs the
/// message in one piece; only Standard Webhooks `v1a` gets here.
#[cfg(feature = "standard")]
pub(crate) fn ed25519_matches(
    content: &SignedContent,
    key: &Ed25519PublicKey,
    material: &Material<'_>,
    body: &[u8],
) -> bool {
    if material.provided.ed25519.is_empty() {
        return false;
    }
    let timestamp = material.timestamp.map_or(&b""[..], |(bytes, _)| bytes);
    let id = material.id.unwrap_or("").as_bytes();
    let mut message = Vec::with_capacity(body.len() + timestamp.len() + id.len() + 8);
    content.feed(timestamp, id, body, |chunk| message.extend_from_slice(chunk));
    material
        .provided
        .ed25519
        .iter()
        .any(|signature| key.0.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok())
}

#[inline]
pub(crate) fn check_window(timestamp: i64, window: Window) -> Result<(), VerifyError> {
    // `abs_diff` is exact over the whole `i64` range (a `u64`), without widening to `i128`.
    let distance = window.now.abs_diff(timestamp);
    if distance <= window.tolerance_secs {
        return Ok(());
    }
    outside_window(timestamp, window, distance)
}

/// The error of a timestamp outside the window: out of line, so that the check above inlines.
#[cold]
fn outside_window(timestamp: i64, window: Window, distance: u64) -> Result<(), VerifyError> {
    let direction = if window.now > timestamp { "in the past" } else { "in the future" };
    Err(VerifyError::new(
        crate::VerifyErrorKind::TimestampOutOfTolerance,
        format!("timestamp is {distance} s {direction}, outside the tolerance of {} s", window.tolerance_secs),
    ))
}

/// Breakcold legacy: the shared secret travels in the body. Compared as SHA-256 digests, so the
/// comparison's time depends on neither the provided nor the configured secret's length.
fn verify_secret_in_body<'a>(field: &str, keyring: &Keyring, body: &'a [u8]) -> Result<Verified<'a>, VerifyError> {
    let field_label = format!("body field `{field}`");
    // JSON is UTF-8 (RFC 8259 §8.1); the field scan skips string contents without checking them.
    let parsed = std::str::from_utf8(body).map_err(|_| ()).and_then(|_| peek_str_field(body, field).map_err(|_| ()));
    let provided = match parsed {
        Ok(Some(provided)) => provided,
        Ok(None) => {
            return Err(VerifyError::new(
                crate::VerifyErrorKind::MissingSignature,
                format!("{field_label} is missing"),
            ));
        }
        Err(_) => {
            return Err(VerifyError::new(
                crate::VerifyErrorKind::MalformedSignature,
                format!("the body is not a JSON object with a string {field_label}"),
            ));
        }
    };
    let digest = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(provided.as_bytes())));
    drop(Zeroizing::new(provided.into_owned()));
    let mut found = None;
    for (key_index, key) in keyring.hmac_keys() {
        if secret_digest_matches(&digest, key) && found.is_none() {
            found = Some(*key_index);
        }
    }
    let key_index = found.ok_or_else(VerifyError::mismatch)?;
    Ok(Verified { timestamp: None, id: None, key_index, timestamp_bound: false })
}

/// Constant-time comparison of a provided secret's digest with a key's.
pub(crate) fn secret_digest_matches(digest: &[u8; 32], key: &HmacKey) -> bool {
    bool::from(digest.ct_eq(&*key.digest))
}

#[cfg(all(test, feature = "standard", feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::providers::Standard;
    use crate::testing::Signer;
    use crate::{FixedClock, Verifier, VerifyErrorKind};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    /// The window is exact at its edges and over the whole `i64` range.
    #[test]
    fn window_edges_and_extremes() {
        use super::{Window, check_window};
        let window = |now, tolerance_secs| Window { now, tolerance_secs };
        assert!(check_window(700, window(1_000, 300)).is_ok());
        assert!(check_window(1_300, window(1_000, 300)).is_ok());
        let past = check_window(699, window(1_000, 300)).unwrap_err();
        assert_eq!(past.message(), "timestamp is 301 s in the past, outside the tolerance of 300 s");
        let future = check_window(1_301, window(1_000, 300)).unwrap_err();
        assert_eq!(future.message(), "timestamp is 301 s in the future, outside the tolerance of 300 s");
        assert!(check_window(i64::MIN, window(i64::MAX, u64::MAX)).is_ok());
        let far = check_window(i64::MIN, window(i64::MAX, 0)).unwrap_err();
        assert_eq!(far.message(), "timestamp is 18446744073709551615 s in the past, outside the tolerance of 0 s");
        let far = check_window(i64::MAX, window(i64::MIN, u64::MAX - 1)).unwrap_err();
        assert_eq!(
            far.message(),
            "timestamp is 18446744073709551615 s in the future, outside the tolerance of 18446744073709551614 s"
        );
    }

    /// Through an `http::HeaderMap`, headers are looked up by their parsed names: aliases are
    /// still one header, and two different values under them are still refused.
    #[test]
    fn header_map_lookups_by_parsed_name_keep_the_alias_and_duplicate_rules() {
        let body = br#"{"type":"contact.deleted","data":{}}"#;
        let signed = Signer::for_provider(&Standard::new(), &[SECRET]).unwrap().sign(body, 1_000, "msg_1");
        let verifier = Verifier::builder(Standard::new()).secret(SECRET).clock(FixedClock(1_000)).build().unwrap();
        let map = |headers: &[(String, String)]| {
            let mut map = http::HeaderMap::new();
            for (name, value) in headers {
                map.append(http::HeaderName::try_from(name.as_str()).unwrap(), value.parse().unwrap());
            }
            map
        };
        let verified = verifier.verify_signature(&map(&signed.headers), body).unwrap();
        assert_eq!(verified.signed_id(), Some("msg_1"));

        // The same delivery under Svix's names only.
        let svix: Vec<_> =
            signed.headers.iter().map(|(name, value)| (name.replace("webhook-", "svix-"), value.clone())).collect();
        assert!(verifier.verify_signature(&map(&svix), body).is_ok());

        // `svix-id` beside `webhook-id` with another value: which one was signed cannot be known.
        let mut conflicting = signed.headers.clone();
        conflicting.push(("svix-id".to_owned(), "msg_2".to_owned()));
        let error = verifier.verify_signature(&map(&conflicting), body).unwrap_err();
        assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
        assert_eq!(error.message(), "header `webhook-id` has two different values");

        // Two values of one name.
        let mut repeated = signed.headers.clone();
        repeated.push(("webhook-timestamp".to_owned(), "1001".to_owned()));
        let error = verifier.verify_signature(&map(&repeated), body).unwrap_err();
        assert_eq!(error.message(), "header `webhook-timestamp` has two different values");
    }
}
