//! Properties of honestly signed deliveries: one signed with the secret within the tolerance
//! verifies (1), one signed with another secret is refused (4), one whose timestamp is beyond the
//! tolerance is refused where the scheme has a timestamp (5). Strategies: pairs of different
//! secrets, timestamps beyond the tolerance.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use webhook_guard::{Provider, VerifyErrorKind};

use crate::cases::{
    Case, NOW, SecretKind, body_secret, expect_kind, secret_strategy, sign, signer_and_verifier, tolerance,
};

impl Case {
    /// Whether the scheme carries a timestamp that the verifier checks.
    fn has_timestamp(self) -> bool {
        !matches!(self.preset(), "github" | "shopify" | "breakcold-legacy")
    }

    /// Whether a verified delivery's signature covers its timestamp.
    fn timestamp_bound(self) -> bool {
        self.has_timestamp() && self != Self::PollybotBodyOnlyUnbound
    }
}

/// Two secrets that are different keys.
pub(crate) fn two_secrets(case: Case) -> impl Strategy<Value = (String, String)> {
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

/// A timestamp offset from now, 1..=10 000 s beyond the tolerance, either way.
pub(crate) fn beyond_tolerance() -> impl Strategy<Value = i64> {
    let tolerance = tolerance();
    (any::<bool>(), 1..=10_000i64).prop_map(move |(past, excess)| {
        let offset = tolerance + excess;
        if past { -offset } else { offset }
    })
}

/// Property 1: a delivery signed with the secret, within the tolerance, verifies.
pub(crate) fn round_trip(case: Case, secret: &str, body: &[u8], offset: i64, id: &str) -> Result<(), TestCaseError> {
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

/// Property 4: a delivery signed with another secret is refused.
pub(crate) fn wrong_secret(
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
pub(crate) fn stale_timestamp(
    case: Case,
    secret: &str,
    body: &[u8],
    offset: i64,
    id: &str,
) -> Result<(), TestCaseError> {
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
