//! The properties every verification target asserts, for one request and one verifier.
//!
//! 1. Nothing panics: `verify_signature`, `verify`, `explain`, and the `Debug`/`Display` of
//!    every outcome (libFuzzer reports a panic as a crash).
//! 2. Differential: an accepted request, or one refused only for its timestamp (which is checked
//!    after a MAC matched), has a signature that matches the [reference](crate::reference); a
//!    request refused as a signature mismatch has none.
//! 3. `verify` agrees with `verify_signature`, adding only `invalid_payload`.
//! 4. No output (errors, rejection bodies, `Debug` of deliveries, explanations) contains a
//!    secret of the keyring or an expected MAC (hex or base64), unless the request itself
//!    carried those bytes (an attacker may echo anything back to themselves).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use webhook_guard::{HeaderSource, Rejection, VerifyErrorKind};

use crate::{keyrings, reference};

/// Runs the verifier of `case` on one request and asserts the properties above. `headers` is
/// what the verifier reads; `pairs` is the same request as a list (for the reference and the
/// leak check).
pub fn verification<H>(case: &str, headers: &H, pairs: &[(&str, &[u8])], body: &[u8], explain: bool)
where
    H: HeaderSource + ?Sized,
{
    let verifier = keyrings::verifier(case);
    let checked = verifier.verify_signature(headers, body);
    let material = reference::material(case, pairs, body);
    match &checked {
        Ok(_) => assert!(material.matches(), "{case}: accepted, but no signature matches the reference"),
        Err(error) if error.kind() == VerifyErrorKind::TimestampOutOfTolerance => assert!(
            material.matches(),
            "{case}: refused for its timestamp (so a MAC matched), but no signature matches the reference"
        ),
        Err(error) if error.kind() == VerifyErrorKind::SignatureMismatch => {
            assert!(!material.matches(), "{case}: refused as a mismatch, but a signature matches the reference")
        }
        Err(_) => {}
    }

    let full = verifier.verify(headers, Bytes::copy_from_slice(body));
    let mut output = String::new();
    match (&checked, &full) {
        (Ok(verified), Ok(delivery)) => {
            assert_eq!(delivery.verified(), verified, "{case}: verify and verify_signature disagree");
            let _ = write!(output, "{verified:?} {delivery:?} {}", delivery.event_type());
        }
        (Ok(_), Err(error)) => {
            assert_eq!(error.kind(), VerifyErrorKind::InvalidPayload, "{case}: verify refused a verified delivery");
            describe_error(&mut output, error);
        }
        (Err(first), Err(second)) => {
            assert_eq!(first.kind(), second.kind(), "{case}: verify and verify_signature disagree");
            describe_error(&mut output, second);
        }
        (Err(_), Ok(_)) => panic!("{case}: verify accepted what verify_signature refused"),
    }
    if explain {
        let _ = write!(output, "{}", verifier.explain(headers, body));
    }
    assert_no_key_material(case, &output, pairs, body, &material.expected);
}

fn describe_error(output: &mut String, error: &webhook_guard::VerifyError) {
    let rejection = Rejection::from(error.clone());
    let _ =
        write!(output, "{error} {error:?} {rejection} {rejection:?} {}", String::from_utf8_lossy(&rejection.body()));
}

/// Asserts that `output` shows no secret of `case` and none of the `expected` MACs, except what
/// the request itself carried.
pub fn assert_no_key_material(case: &str, output: &str, pairs: &[(&str, &[u8])], body: &[u8], expected: &[[u8; 32]]) {
    let carried = |needle: &[u8]| {
        let within = |haystack: &[u8]| haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle));
        within(body) || pairs.iter().any(|(_, value)| within(value))
    };
    // The output is short; the request may be long: look in the output first.
    let lowercase = output.to_ascii_lowercase();
    for secret in keyrings::secrets(case) {
        if output.contains(secret) {
            assert!(carried(secret.as_bytes()), "{case}: a secret appears in the output:\n{output}");
        }
    }
    for mac in expected {
        for encoded in [hex::encode(mac), STANDARD.encode(mac).to_ascii_lowercase()] {
            if lowercase.contains(&encoded) {
                assert!(carried(encoded.as_bytes()), "{case}: an expected MAC appears in the output:\n{output}");
            }
        }
    }
}
