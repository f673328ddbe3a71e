//! Properties of tampered deliveries: one bit of the body flipped (2), one character of the
//! signature replaced by another of its alphabet (3); for Breakcold legacy, whose proof is the
//! secret in the body, the same changes made to that secret. Strategies: positions, bits and
//! replacement characters.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use webhook_guard::Provider;
use webhook_guard::VerifyErrorKind;
use webhook_guard::testing::SignedRequest;

use crate::cases::{Case, NOW, body_secret, expect_kind, sign, signer_and_verifier};

/// How a signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Hex,
    Base64,
}

impl Case {
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

/// A printable character, for replacing one of a secret's.
pub(crate) fn printable_char() -> impl Strategy<Value = char> {
    prop_oneof![prop::char::range(' ', '~'), "\\PC".prop_map(|s| s.chars().next().unwrap())]
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

/// Property 2: flipping one bit of one byte of the body is refused. For Breakcold legacy (whose body is not
/// authenticated beyond its `secret`): one character of the embedded secret changed, or one bit
/// flipped inside the embedded secret's JSON text.
pub(crate) fn body_tamper(
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
pub(crate) fn signature_tamper(
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
