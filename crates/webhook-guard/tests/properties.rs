//! Property tests of the verifier, for every provider: a signed delivery verifies; changing its
//! body, its signature, the secret or its timestamp is refused with the right kind; and arbitrary
//! headers and bodies never panic and never put a secret into an error.
//!
//! Every property runs once per [`Case`] (each preset of [`AnyProvider::NAMES`], Pollybot's
//! body-only opt-in with both kinds of signature, and Standard Webhooks with Ed25519 keys), as a
//! test named `<case>::<property>`, so a failure names its provider.

#![allow(clippy::unwrap_used)]

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use webhook_guard::providers::{AnyProvider, Pollybot};
use webhook_guard::scheme::{Scheme, SignatureFormat};
use webhook_guard::secret::Secret;
use webhook_guard::testing::{SignedRequest, Signer, SigningKey};
use webhook_guard::{DEFAULT_TOLERANCE, FixedClock, Provider, Verifier, VerifyError, VerifyErrorKind};

/// The verifier's "now" (2025-11-20T10:15:30Z).
const NOW: i64 = 1_763_633_730;

/// Cases per property per provider.
const CASES: u32 = 64;

fn config() -> ProptestConfig {
    // No regression files: this suite writes nothing next to itself; a failure prints its input.
    ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() }
}

fn tolerance() -> i64 {
    i64::try_from(DEFAULT_TOLERANCE.as_secs()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The providers under test
// ---------------------------------------------------------------------------------------------

/// One way of signing and verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// `AnyProvider::from_name(name)`, signed by `Signer::for_provider`.
    Preset(&'static str),
    /// `Pollybot::accepting_body_only()`, signed the timestamp-bound way (`{body}{t}`).
    PollybotBodyOnly,
    /// `Pollybot::accepting_body_only()`, signed over the body alone (with the timestamp header
    /// still sent, as Pollybot does).
    PollybotBodyOnlyUnbound,
    /// Standard Webhooks with an Ed25519 key pair: `whsk_` signs, `whpk_` verifies.
    StandardEd25519,
}

/// How a case's secrets look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretKind {
    /// Any non-empty string, used as its UTF-8 bytes.
    Raw,
    /// `whsec_` + base64 of 24..=64 bytes.
    Whsec,
    /// `whsk_` + base64 of a 32-byte Ed25519 seed.
    Whsk,
}

/// How a signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Hex,
    Base64,
}

const BREAKCOLD_LEGACY: Case = Case::Preset("breakcold-legacy");

impl Case {
    fn label(self) -> &'static str {
        match self {
            Self::Preset(name) => name,
            Self::PollybotBodyOnly => "pollybot(accepting_body_only, {body}{t} signature)",
            Self::PollybotBodyOnlyUnbound => "pollybot(accepting_body_only, {body} signature)",
            Self::StandardEd25519 => "standard(ed25519)",
        }
    }

    /// The preset's name, as `Verified::provider` reports it.
    fn preset(self) -> &'static str {
        match self {
            Self::Preset(name) => name,
            Self::PollybotBodyOnly | Self::PollybotBodyOnlyUnbound => "pollybot",
            Self::StandardEd25519 => "standard",
        }
    }

    fn provider(self) -> AnyProvider {
        match self {
            Self::PollybotBodyOnly | Self::PollybotBodyOnlyUnbound => {
                AnyProvider::Pollybot(Pollybot::accepting_body_only())
            }
            _ => AnyProvider::from_name(self.preset()).unwrap(),
        }
    }

    fn secret_kind(self) -> SecretKind {
        match self {
            Self::StandardEd25519 => SecretKind::Whsk,
            Self::Preset("standard") => SecretKind::Whsec,
            _ => SecretKind::Raw,
        }
    }

    fn is_legacy(self) -> bool {
        self == BREAKCOLD_LEGACY
    }

    /// Whether the scheme carries a timestamp that the verifier checks.
    fn has_timestamp(self) -> bool {
        !matches!(self.preset(), "github" | "shopify" | "breakcold-legacy")
    }

    /// Whether a verified delivery's signature covers its timestamp.
    fn timestamp_bound(self) -> bool {
        self.has_timestamp() && self != Self::PollybotBodyOnlyUnbound
    }

    /// Where the signature sits in its header: the text right before it (at the start of the
    /// value, or after a `,` for key=value headers), and its alphabet. `None` for secret-in-body.
    fn signature_marker(self) -> Option<(&'static str, Alphabet)> {
        Some(match self {
            Self::StandardEd25519 => ("v1a,", Alphabet::Base64),
            Self::PollybotBodyOnly | Self::PollybotBodyOnlyUnbound => ("sha256=", Alphabet::Hex),
            Self::Preset("botdog") => (",s=", Alphabet::Hex),
            Self::Preset("stripe") => (",v1=", Alphabet::Hex),
            Self::Preset("pollybot" | "breakcold" | "github") => ("sha256=", Alphabet::Hex),
            Self::Preset("slack") => ("v0=", Alphabet::Hex),
            Self::Preset("standard") => ("v1,", Alphabet::Base64),
            Self::Preset("shopify") => ("", Alphabet::Base64),
            Self::Preset("breakcold-legacy") => return None,
            Self::Preset(other) => panic!("no signature marker for new provider `{other}`: add one"),
        })
    }
}

/// Every case, in the order the per-case test modules below are declared.
const ALL_CASES: &[Case] = &[
    Case::Preset("botdog"),
    Case::Preset("pollybot"),
    Case::Preset("breakcold"),
    BREAKCOLD_LEGACY,
    Case::Preset("standard"),
    Case::Preset("github"),
    Case::Preset("stripe"),
    Case::Preset("slack"),
    Case::Preset("shopify"),
    Case::PollybotBodyOnly,
    Case::PollybotBodyOnlyUnbound,
    Case::StandardEd25519,
];

/// What the verifier is configured with for the signer's `secret`: the secret itself, or for an
/// Ed25519 `whsk_` signing key its `whpk_` public key.
fn verifying_secret(case: Case, secret: &str) -> String {
    match case.secret_kind() {
        SecretKind::Whsk => {
            let seed = STANDARD.decode(secret.strip_prefix("whsk_").unwrap()).unwrap();
            let seed: [u8; 32] = seed.as_slice().try_into().unwrap();
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            format!("whpk_{}", STANDARD.encode(public.as_bytes()))
        }
        SecretKind::Raw | SecretKind::Whsec => secret.to_owned(),
    }
}

/// A Pollybot sender that signs the body alone (the overview page's reading) and still sends
/// `X-Webhook-Timestamp`.
fn body_only_signer(secret: &str) -> Signer {
    let scheme = Scheme::hmac_sha256("X-Webhook-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .timestamp_header("X-Webhook-Timestamp")
        .signed_content("{body}")
        .unwrap()
        .build()
        .unwrap();
    Signer::new(scheme, vec![SigningKey::Secret(Secret::from_utf8(secret).unwrap())]).unwrap()
}

/// A signer holding `secret` and a verifier holding the matching key, with the clock at `now`.
fn signer_and_verifier(case: Case, secret: &str, now: i64) -> (Signer, Verifier<AnyProvider>) {
    let label = case.label();
    let provider = case.provider();
    let signer = match case {
        Case::PollybotBodyOnlyUnbound => body_only_signer(secret),
        _ => Signer::for_provider(&provider, &[secret]).unwrap_or_else(|error| panic!("{label}: signer: {error}")),
    };
    let verifier = Verifier::builder(provider)
        .secret(&verifying_secret(case, secret))
        .clock(FixedClock(now))
        .build()
        .unwrap_or_else(|error| panic!("{label}: verifier: {error}"));
    (signer, verifier)
}

fn sign(signer: &Signer, body: &[u8], timestamp: i64, id: &str) -> SignedRequest {
    signer.sign_delivery(body, timestamp, id, None)
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// A secret the case's signer takes (see [`SecretKind`]).
fn secret_strategy(case: Case) -> BoxedStrategy<String> {
    match case.secret_kind() {
        // Printable: ASCII ones, and any non-control Unicode.
        SecretKind::Raw => prop_oneof!["[ -~]{1,64}", "\\PC{1,64}"].boxed(),
        SecretKind::Whsec => prop::collection::vec(any::<u8>(), 24..=64)
            .prop_map(|key| format!("whsec_{}", STANDARD.encode(key)))
            .boxed(),
        SecretKind::Whsk => any::<[u8; 32]>().prop_map(|seed| format!("whsk_{}", STANDARD.encode(seed))).boxed(),
    }
}

/// Two secrets that are different keys.
fn two_secrets(case: Case) -> impl Strategy<Value = (String, String)> {
    (secret_strategy(case), secret_strategy(case)).prop_filter("the same key twice", move |(a, b)| {
        match case.secret_kind() {
            // HMAC pads keys shorter than a block with zeros: `k` and `k\0` are the same key.
            SecretKind::Whsec => {
                let key = |s: &str| STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
                let (a, b) = (key(a), key(b));
                let trim = |k: &[u8]| k.iter().rposition(|byte| *byte != 0).map_or(0, |last| last + 1);
                a[..trim(&a)] != b[..trim(&b)]
            }
            // Raw secrets have no NUL (printable only).
            SecretKind::Raw | SecretKind::Whsk => a != b,
        }
    })
}

/// A body: any bytes of at least `min` bytes, or for Breakcold legacy (whose secret the signer
/// writes into the body) a JSON object of arbitrary string keys and values.
fn body_strategy(case: Case, min: usize) -> BoxedStrategy<Vec<u8>> {
    if case.is_legacy() {
        prop::collection::btree_map(any::<String>(), any::<String>(), 0..6)
            .prop_map(|object| serde_json::to_vec(&object).unwrap())
            .boxed()
    } else {
        prop::collection::vec(any::<u8>(), min..512).boxed()
    }
}

const ID: &str = "[A-Za-z0-9_]{1,40}";

/// A timestamp offset from now, within the tolerance (bounds included).
fn within_tolerance() -> impl Strategy<Value = i64> {
    let tolerance = tolerance();
    -tolerance..=tolerance
}

/// A timestamp offset from now, 1..=10 000 s beyond the tolerance, either way.
fn beyond_tolerance() -> impl Strategy<Value = i64> {
    let tolerance = tolerance();
    (any::<bool>(), 1..=10_000i64).prop_map(move |(past, excess)| {
        let offset = tolerance + excess;
        if past { -offset } else { offset }
    })
}

/// A printable character, for replacing one of a secret's.
fn printable_char() -> impl Strategy<Value = char> {
    prop_oneof![prop::char::range(' ', '~'), "\\PC".prop_map(|s| s.chars().next().unwrap())]
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn expect_kind(
    case: Case,
    what: &str,
    result: Result<webhook_guard::Verified, VerifyError>,
    accepted: &[VerifyErrorKind],
) -> Result<(), TestCaseError> {
    let label = case.label();
    match result {
        Ok(verified) => {
            Err(TestCaseError::fail(format!("{label}: {what}: accepted ({verified:?}), expected {accepted:?}")))
        }
        Err(error) => {
            prop_assert!(
                accepted.contains(&error.kind()),
                "{}: {}: got {:?}, expected one of {:?}",
                label,
                what,
                error,
                accepted
            );
            Ok(())
        }
    }
}

/// The signature header's index in `request.headers` and the byte range of the encoded signature
/// in its value.
fn signature_span(case: Case, request: &SignedRequest) -> (usize, Range<usize>, Alphabet) {
    let (marker, alphabet) = case.signature_marker().unwrap();
    let provider = case.provider();
    let name = provider.scheme().signature_header().unwrap();
    let index = request.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)).unwrap();
    let value = &request.headers[index].1;
    let start = if marker.starts_with(',') {
        value.find(marker).unwrap() + marker.len()
    } else {
        assert!(value.starts_with(marker), "{}: {value:?} does not start with {marker:?}", case.label());
        marker.len()
    };
    let end = value[start..].find([',', ' ']).map_or(value.len(), |at| start + at);
    (index, start..end, alphabet)
}

fn decode(alphabet: Alphabet, encoded: &str) -> Option<Vec<u8>> {
    match alphabet {
        Alphabet::Hex => hex::decode(encoded).ok(),
        Alphabet::Base64 => STANDARD.decode(encoded).ok(),
    }
}

/// `encoded` with one character (not padding) replaced by another of its alphabet, chosen so that
/// the result still decodes to as many bytes, and to different ones (for hex: not a case change;
/// for base64: not a change of the unused low bits of the last character).
fn replace_signature_char(encoded: &str, alphabet: Alphabet, position: Index, choice: Index) -> String {
    let symbols: &[u8] = match alphabet {
        Alphabet::Hex => b"0123456789abcdef",
        Alphabet::Base64 => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    };
    let original = decode(alphabet, encoded).unwrap();
    let bytes = encoded.as_bytes();
    let positions: Vec<usize> = (0..bytes.len()).filter(|at| bytes[*at] != b'=').collect();
    let at = positions[position.index(positions.len())];
    let candidates: Vec<String> = symbols
        .iter()
        .filter(|symbol| !symbol.eq_ignore_ascii_case(&bytes[at]))
        .map(|symbol| {
            let mut changed = bytes.to_vec();
            changed[at] = *symbol;
            String::from_utf8(changed).unwrap()
        })
        .filter(|changed| decode(alphabet, changed).is_some_and(|d| d.len() == original.len() && d != original))
        .collect();
    candidates[choice.index(candidates.len())].clone()
}

/// The byte range of the JSON string content of the top-level `"secret"` field of a compact
/// serde_json body (between the quotes, escapes included).
fn legacy_secret_span(body: &[u8]) -> Range<usize> {
    const OPEN: &[u8] = br#""secret":""#;
    // Inside a JSON string every `"` is escaped, so this only matches the real key.
    let start = body.windows(OPEN.len()).position(|window| window == OPEN).unwrap() + OPEN.len();
    let mut at = start;
    while body[at] != b'"' {
        at += if body[at] == b'\\' { 2 } else { 1 };
    }
    start..at
}

/// The characters of a JSON string's content that are not part of an escape sequence, as byte
/// ranges.
fn unescaped_chars(content: &str) -> Vec<Range<usize>> {
    let mut chars = Vec::new();
    let mut iter = content.char_indices().peekable();
    while let Some((at, c)) = iter.next() {
        if c == '\\' {
            let escape = iter.next().map(|(_, e)| e);
            if escape == Some('u') {
                for _ in 0..4 {
                    iter.next();
                }
            }
        } else {
            chars.push(at..at + c.len_utf8());
        }
    }
    chars
}

/// `secret` with its character at `position` replaced by `replacement`, or by another character
/// when they are the same.
fn replace_secret_char(secret: &str, position: Index, replacement: char) -> String {
    let mut chars: Vec<char> = secret.chars().collect();
    let at = position.index(chars.len());
    chars[at] = if chars[at] == replacement { if replacement == 'x' { 'y' } else { 'x' } } else { replacement };
    chars.into_iter().collect()
}

/// The parsed top-level `secret` string of a body, if it is a JSON object with one.
fn body_secret(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(object) => object.get("secret")?.as_str().map(str::to_owned),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

/// Property 1: a delivery signed with the secret, within the tolerance, verifies.
fn round_trip(case: Case, secret: &str, body: &[u8], offset: i64, id: &str) -> Result<(), TestCaseError> {
    let label = case.label();
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    let timestamp = NOW + offset;
    let request = sign(&signer, body, timestamp, id);
    let verified = verifier.verify_signature(&request.headers, &request.body).map_err(|error| {
        TestCaseError::fail(format!("{label}: a signed delivery was refused: {error:?} ({request:?})"))
    })?;
    prop_assert_eq!(verified.provider(), case.preset(), "{}: provider", label);
    prop_assert_eq!(verified.key_index(), 0, "{}: key index", label);
    let expected_timestamp = case.has_timestamp().then_some(timestamp);
    prop_assert_eq!(verified.timestamp_unix(), expected_timestamp, "{}: timestamp", label);
    prop_assert_eq!(verified.timestamp_bound(), case.timestamp_bound(), "{}: timestamp_bound", label);
    if case.preset() == "standard" {
        prop_assert_eq!(verified.signed_id(), Some(id), "{}: signed id", label);
    }
    if case.is_legacy() {
        let embedded = body_secret(&request.body);
        prop_assert_eq!(embedded.as_deref(), Some(secret), "{}: the secret is in the body", label);
    }
    if case == Case::PollybotBodyOnlyUnbound {
        // A body-only signature needs no timestamp at all.
        let without: Vec<_> =
            request.headers.iter().filter(|(name, _)| !name.eq_ignore_ascii_case("X-Webhook-Timestamp")).collect();
        let without: Vec<(&str, &str)> = without.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let verified = verifier.verify_signature(&without, &request.body);
        prop_assert!(
            verified.as_ref().is_ok_and(|v| v.timestamp_unix().is_none() && !v.timestamp_bound()),
            "{}: without a timestamp header: {:?}",
            label,
            verified
        );
    }
    Ok(())
}

/// Property 2: flipping one bit of one byte of the body is refused. For Breakcold legacy (whose body is not
/// authenticated beyond its `secret`): one character of the embedded secret changed, or one bit
/// flipped inside the embedded secret's JSON text.
fn body_tamper(
    case: Case,
    secret: &str,
    body: &[u8],
    offset: i64,
    id: &str,
    (position, bit, replacement): (Index, u8, char),
) -> Result<(), TestCaseError> {
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    let request = sign(&signer, body, NOW + offset, id);
    let mask = 1u8 << bit;
    if case.is_legacy() {
        // (a) The body carries a secret differing in one character.
        let wrong = replace_secret_char(secret, position, replacement);
        let (wrong_signer, _) = signer_and_verifier(case, &wrong, NOW);
        let tampered = sign(&wrong_signer, body, NOW + offset, id);
        let result = verifier.verify_signature(&tampered.headers, &tampered.body);
        expect_kind(
            case,
            "one character of the embedded secret changed",
            result,
            &[VerifyErrorKind::SignatureMismatch],
        )?;

        // (b) One bit of the secret's JSON text flipped.
        let span = legacy_secret_span(&request.body);
        let mut flipped = request.body.clone();
        flipped[span.start + position.index(span.len())] ^= mask;
        if body_secret(&flipped).as_deref() == Some(secret) {
            // An escape that still decodes to the same text (`\u001f` → `\u001F`): not a change.
            return Ok(());
        }
        let result = verifier.verify_signature(&request.headers, &flipped);
        return expect_kind(
            case,
            "one bit of the embedded secret flipped",
            result,
            &[VerifyErrorKind::SignatureMismatch, VerifyErrorKind::MalformedSignature],
        );
    }
    let mut flipped = request.body.clone();
    let at = position.index(flipped.len());
    flipped[at] ^= mask;
    let result = verifier.verify_signature(&request.headers, &flipped);
    expect_kind(case, &format!("body byte {at} xor {mask:#04x}"), result, &[VerifyErrorKind::SignatureMismatch])
}

/// Property 3: replacing one character of the signature with another of its alphabet is refused. For
/// Breakcold legacy the "signature" is the secret in the body: one of its characters (outside an
/// escape) is replaced by a different ASCII letter or digit, keeping the JSON valid.
fn signature_tamper(
    case: Case,
    secret: &str,
    body: &[u8],
    offset: i64,
    id: &str,
    (position, choice): (Index, Index),
) -> Result<(), TestCaseError> {
    let label = case.label();
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    let request = sign(&signer, body, NOW + offset, id);
    if case.is_legacy() {
        let span = legacy_secret_span(&request.body);
        let content = std::str::from_utf8(&request.body[span.clone()]).unwrap();
        let chars = unescaped_chars(content);
        if chars.is_empty() {
            // A secret made only of escaped characters (`"`, `\`): nothing to replace in place.
            return Ok(());
        }
        let target = chars[position.index(chars.len())].clone();
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let candidates: Vec<u8> =
            ALNUM.iter().copied().filter(|c| content[target.clone()] != *std::str::from_utf8(&[*c]).unwrap()).collect();
        let replacement = candidates[choice.index(candidates.len())];
        let mut tampered = request.body[..span.start + target.start].to_vec();
        tampered.push(replacement);
        tampered.extend_from_slice(&request.body[span.start + target.end..]);
        prop_assert!(
            body_secret(&tampered).is_some_and(|changed| changed != secret),
            "{}: test bug: the tampered body is not valid JSON with a changed secret",
            label
        );
        let result = verifier.verify_signature(&request.headers, &tampered);
        return expect_kind(
            case,
            "one character of the embedded secret replaced",
            result,
            &[VerifyErrorKind::SignatureMismatch],
        );
    }
    let (index, span, alphabet) = signature_span(case, &request);
    let value = &request.headers[index].1;
    let encoded = &value[span.clone()];
    let expected_len = if case == Case::StandardEd25519 { 64 } else { 32 };
    prop_assert_eq!(
        decode(alphabet, encoded).map(|d| d.len()),
        Some(expected_len),
        "{}: signature {:?}",
        label,
        encoded
    );
    let changed = replace_signature_char(encoded, alphabet, position, choice);
    let mut headers = request.headers.clone();
    headers[index].1 = format!("{}{changed}{}", &value[..span.start], &value[span.end..]);
    let result = verifier.verify_signature(&headers, &request.body);
    expect_kind(
        case,
        &format!("signature {encoded:?} changed to {changed:?}"),
        result,
        &[VerifyErrorKind::SignatureMismatch],
    )
}

/// Property 4: a delivery signed with another secret is refused.
fn wrong_secret(
    case: Case,
    (right, wrong): (&str, &str),
    body: &[u8],
    offset: i64,
    id: &str,
) -> Result<(), TestCaseError> {
    let (signer, _) = signer_and_verifier(case, wrong, NOW);
    let (_, verifier) = signer_and_verifier(case, right, NOW);
    let request = sign(&signer, body, NOW + offset, id);
    let result = verifier.verify_signature(&request.headers, &request.body);
    expect_kind(case, "signed with another secret", result, &[VerifyErrorKind::SignatureMismatch])
}

/// Property 5: a correctly signed delivery whose timestamp is beyond the tolerance is refused, for schemes
/// with a timestamp; the others do not look at the time.
fn stale_timestamp(case: Case, secret: &str, body: &[u8], offset: i64, id: &str) -> Result<(), TestCaseError> {
    let label = case.label();
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    prop_assert_eq!(verifier.provider().scheme().has_timestamp(), case.has_timestamp(), "{}: has_timestamp", label);
    let request = sign(&signer, body, NOW + offset, id);
    let result = verifier.verify_signature(&request.headers, &request.body);
    if case.has_timestamp() {
        expect_kind(case, &format!("timestamp now{offset:+}"), result, &[VerifyErrorKind::TimestampOutOfTolerance])
    } else {
        prop_assert!(result.is_ok(), "{}: no timestamp, yet refused: {:?}", label, result);
        Ok(())
    }
}

// ---- 6. Arbitrary input ----------------------------------------------------------------------

/// Every header name some provider reads or sends.
const HEADER_NAMES: &[&str] = &[
    "X-Webhook-Signature",
    "X-Webhook-Timestamp",
    "X-Webhook-Delivery-Id",
    "X-Webhook-Event",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Topic",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "Content-Type",
    "User-Agent",
];

/// Field names the providers' events read.
const JSON_KEYS: &[&str] = &[
    "secret",
    "event",
    "type",
    "eventType",
    "id",
    "eventId",
    "id_space",
    "payload",
    "data",
    "object",
    "timestamp",
    "created",
    "created_at",
    "updated_at",
    "createdAt",
    "chatbotId",
    "topic",
    "api_version",
    "team_id",
];

/// A JSON value, where [`Json::Secret`] stands for the secret under test.
#[derive(Debug, Clone)]
enum Json {
    Secret,
    Text(String),
    Number(i64),
    Null,
    Object(Vec<(String, Json)>),
}

impl Json {
    fn build(&self, secret: &str) -> serde_json::Value {
        match self {
            Self::Secret => serde_json::Value::String(secret.to_owned()),
            Self::Text(text) => serde_json::Value::String(text.clone()),
            Self::Number(number) => serde_json::Value::from(*number),
            Self::Null => serde_json::Value::Null,
            Self::Object(fields) => serde_json::Value::Object(
                fields.iter().map(|(key, value)| (key.clone(), value.build(secret))).collect(),
            ),
        }
    }
}

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(JSON_KEYS).prop_map(str::to_owned), 1 => "[A-Za-z_]{1,12}"]
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Secret),
        any::<String>().prop_map(Json::Text),
        select(&["LEAD_CREATED", "lead.create", "record.created", "push", "orders/create"][..])
            .prop_map(|text| Json::Text(text.to_owned())),
        any::<i64>().prop_map(Json::Number),
        Just(Json::Null),
    ];
    leaf.prop_recursive(2, 16, 6, |inner| prop::collection::vec((json_key(), inner), 0..6).prop_map(Json::Object))
}

/// A body: arbitrary bytes, or a JSON object whose values may be the secret.
#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Json(Vec<(String, Json)>),
}

fn chaos_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Bytes),
        prop::collection::vec((json_key(), json_value()), 0..8).prop_map(Body::Json),
    ]
}

/// Header values with signature-like structure: `t=…`, `s=<hex>`, `v1,<base64>`, …
fn structured_value() -> impl Strategy<Value = Vec<u8>> {
    let hex = "[0-9a-fA-F]{60,68}";
    let b64_32 = prop::collection::vec(any::<u8>(), 30..34).prop_map(|bytes| STANDARD.encode(bytes));
    let b64_64 = prop::collection::vec(any::<u8>(), 62..66).prop_map(|bytes| STANDARD.encode(bytes));
    let part = prop_oneof![
        "[0-9]{0,21}".prop_map(|t| format!("t={t}")),
        hex.prop_map(|h| format!("s={h}")),
        hex.prop_map(|h| format!("v1={h}")),
        hex.prop_map(|h| format!("v0={h}")),
        hex.prop_map(|h| format!("sha256={h}")),
        b64_32.clone().prop_map(|b| format!("v1,{b}")),
        b64_64.prop_map(|b| format!("v1a,{b}")),
        b64_32,
        "[0-9]{0,21}",
        "[ -~]{0,12}",
    ];
    (prop::collection::vec(part, 0..6), select(&[",", " ", ", ", ",,", ""][..]))
        .prop_map(|(parts, separator)| parts.join(separator).into_bytes())
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => structured_value(),
        1 => prop::collection::vec(any::<u8>(), 0..128),
        1 => "[ -~]{0,40}".prop_map(String::into_bytes),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (select(HEADER_NAMES), any::<bool>())
            .prop_map(|(name, lower)| if lower { name.to_ascii_lowercase() } else { name.to_owned() }),
        1 => "[A-Za-z0-9-]{1,24}",
        1 => any::<String>(),
    ]
}

/// A change to the sender's headers.
#[derive(Debug, Clone)]
enum Edit {
    /// Remove one header.
    Remove(Index),
    /// Replace one header's value.
    Replace(Index, Vec<u8>),
    /// Send one header a second time with another value.
    Repeat(Index, Vec<u8>),
    /// Cut one header's value short.
    Truncate(Index, Index),
    /// Flip bits of one byte of one header's value.
    Flip(Index, Index, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Remove),
        (any::<Index>(), header_value()).prop_map(|(at, value)| Edit::Replace(at, value)),
        (any::<Index>(), header_value()).prop_map(|(at, value)| Edit::Repeat(at, value)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, len)| Edit::Truncate(at, len)),
        (any::<Index>(), any::<Index>(), 1..=255u8).prop_map(|(at, byte, mask)| Edit::Flip(at, byte, mask)),
    ]
}

fn apply(headers: &mut Vec<(String, Vec<u8>)>, edit: &Edit) {
    if headers.is_empty() {
        return;
    }
    let len = headers.len();
    match edit {
        Edit::Remove(at) => {
            headers.remove(at.index(len));
        }
        Edit::Replace(at, value) => headers[at.index(len)].1.clone_from(value),
        Edit::Repeat(at, value) => {
            let name = headers[at.index(len)].0.clone();
            headers.push((name, value.clone()));
        }
        Edit::Truncate(at, cut) => {
            let value = &mut headers[at.index(len)].1;
            let keep = cut.index(value.len() + 1);
            value.truncate(keep);
        }
        Edit::Flip(at, byte, mask) => {
            let value = &mut headers[at.index(len)].1;
            if !value.is_empty() {
                let at = byte.index(value.len());
                value[at] ^= mask;
            }
        }
    }
}

/// One arbitrary request.
#[derive(Debug, Clone)]
struct Chaos {
    body: Body,
    timestamp: i64,
    id: String,
    /// Start from the sender's signed headers (else from none).
    signed: bool,
    edits: Vec<Edit>,
    extra: Vec<(String, Vec<u8>)>,
}

fn chaos() -> impl Strategy<Value = Chaos> {
    let tolerance = tolerance();
    (
        chaos_body(),
        prop_oneof![3 => (NOW - tolerance - 50)..=(NOW + tolerance + 50), 1 => any::<i64>()],
        ID,
        prop::bool::weighted(0.75),
        prop::collection::vec(edit(), 0..3),
        prop::collection::vec((header_name(), header_value()), 0..5),
    )
        .prop_map(|(body, timestamp, id, signed, edits, extra)| Chaos {
            body,
            timestamp,
            id,
            signed,
            edits,
            extra,
        })
}

/// Secrets for the leak check: long enough that they cannot turn up in a message by chance.
fn leak_secret(case: Case) -> BoxedStrategy<String> {
    match case.secret_kind() {
        SecretKind::Raw => "[A-Za-z0-9]{16,48}".boxed(),
        SecretKind::Whsec | SecretKind::Whsk => secret_strategy(case),
    }
}

fn check_no_leak(case: Case, secrets: &[&str], source: &str, error: &VerifyError) -> Result<(), TestCaseError> {
    let display = error.to_string();
    let debug = format!("{error:?}");
    for secret in secrets {
        prop_assert!(
            !display.contains(secret),
            "{}: {}: Display of {:?} contains the secret",
            case.label(),
            source,
            error.kind()
        );
        prop_assert!(
            !debug.contains(secret),
            "{}: {}: Debug of {:?} contains the secret",
            case.label(),
            source,
            error.kind()
        );
    }
    Ok(())
}

/// Property 6: arbitrary headers and bodies: `verify` returns (never panics), agrees with
/// `verify_signature` and across header sources, and its error never contains the secret.
fn arbitrary_input(case: Case, secret: &str, chaos: &Chaos) -> Result<(), TestCaseError> {
    let label = case.label();
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    let body = match &chaos.body {
        Body::Bytes(bytes) => bytes.clone(),
        Body::Json(fields) => serde_json::to_vec(&Json::Object(fields.clone()).build(secret)).unwrap(),
    };
    let request = sign(&signer, &body, chaos.timestamp, &chaos.id);
    let mut headers: Vec<(String, Vec<u8>)> = if chaos.signed {
        request.headers.iter().map(|(name, value)| (name.clone(), value.clone().into_bytes())).collect()
    } else {
        Vec::new()
    };
    for edit in &chaos.edits {
        apply(&mut headers, edit);
    }
    headers.extend(chaos.extra.iter().cloned());
    let body = request.body;

    let verifying = verifying_secret(case, secret);
    let mut secrets = vec![secret];
    if let Some(encoded) = secret.strip_prefix("whsec_").or_else(|| secret.strip_prefix("whsk_")) {
        secrets.push(encoded);
    }
    if case.secret_kind() != SecretKind::Whsk {
        secrets.push(&verifying);
    }

    let checked = verifier.verify_signature(&headers, &body);
    let delivered = verifier.verify(&headers, body.clone());
    match (&checked, &delivered) {
        (Ok(_), Ok(_)) => {}
        (Ok(_), Err(error)) => prop_assert_eq!(
            error.kind(),
            VerifyErrorKind::InvalidPayload,
            "{}: verify_signature accepted, verify refused: {:?}",
            label,
            error
        ),
        (Err(error), Ok(_)) => {
            prop_assert!(false, "{}: verify_signature refused ({:?}), verify accepted", label, error)
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind(), "{}: verify_signature and verify disagree", label),
    }
    if let Err(error) = &checked {
        check_no_leak(case, &secrets, "verify_signature", error)?;
    }
    if let Err(error) = &delivered {
        check_no_leak(case, &secrets, "verify", error)?;
    }

    // The same request as an `http::HeaderMap`, when every header is valid there.
    let mut map = http::HeaderMap::new();
    for (name, value) in &headers {
        let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value))
        else {
            return Ok(());
        };
        map.append(name, value);
    }
    let from_map = verifier.verify(&map, body);
    prop_assert_eq!(
        from_map.as_ref().map(|_| ()).map_err(VerifyError::kind),
        delivered.as_ref().map(|_| ()).map_err(VerifyError::kind),
        "{}: HeaderMap and pairs disagree",
        label
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One module of tests per case
// ---------------------------------------------------------------------------------------------

macro_rules! properties {
    ($($module:ident => $case:expr;)*) => {
        /// The cases the modules below test, to check that none is missing.
        const TESTED: &[Case] = &[$($case),*];

        $(
            mod $module {
                use super::*;

                const CASE: Case = $case;

                proptest! {
                    #![proptest_config(config())]

                    #[test]
                    fn round_trip(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                    ) {
                        super::round_trip(CASE, &secret, &body, offset, &id)?;
                    }

                    #[test]
                    fn body_tamper(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 1),
                        offset in within_tolerance(),
                        id in ID,
                        change in (any::<Index>(), 0..8u8, printable_char()),
                    ) {
                        super::body_tamper(CASE, &secret, &body, offset, &id, change)?;
                    }

                    #[test]
                    fn signature_tamper(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                        change in (any::<Index>(), any::<Index>()),
                    ) {
                        super::signature_tamper(CASE, &secret, &body, offset, &id, change)?;
                    }

                    #[test]
                    fn wrong_secret(
                        (right, wrong) in two_secrets(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                    ) {
                        super::wrong_secret(CASE, (&right, &wrong), &body, offset, &id)?;
                    }

                    #[test]
                    fn stale_timestamp(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in beyond_tolerance(),
                        id in ID,
                    ) {
                        super::stale_timestamp(CASE, &secret, &body, offset, &id)?;
                    }

                    #[test]
                    fn arbitrary_input(secret in leak_secret(CASE), chaos in chaos()) {
                        super::arbitrary_input(CASE, &secret, &chaos)?;
                    }
                }
            }
        )*
    };
}

properties! {
    botdog => Case::Preset("botdog");
    pollybot => Case::Preset("pollybot");
    breakcold => Case::Preset("breakcold");
    breakcold_legacy => BREAKCOLD_LEGACY;
    standard => Case::Preset("standard");
    github => Case::Preset("github");
    stripe => Case::Preset("stripe");
    slack => Case::Preset("slack");
    shopify => Case::Preset("shopify");
    pollybot_body_only => Case::PollybotBodyOnly;
    pollybot_body_only_unbound => Case::PollybotBodyOnlyUnbound;
    standard_ed25519 => Case::StandardEd25519;
}

/// Every compiled-in preset has a module above (a new provider must be added to `properties!`).
#[test]
fn every_provider_is_covered() {
    assert_eq!(TESTED, ALL_CASES);
    let presets: Vec<&str> = TESTED
        .iter()
        .filter_map(|case| match case {
            Case::Preset(name) => Some(*name),
            _ => None,
        })
        .collect();
    assert_eq!(presets, AnyProvider::NAMES);
    assert_eq!(tolerance(), 300, "the ranges above assume the default tolerance");
}
