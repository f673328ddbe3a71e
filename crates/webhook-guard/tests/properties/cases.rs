//! The cases under test (each preset of `AnyProvider::NAMES`, Pollybot's body-only opt-in with
//! both kinds of signature, Standard Webhooks with Ed25519 keys), how each signs and verifies,
//! and what every property draws from: secrets, bodies, ids and timestamps within the tolerance.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use webhook_guard::Secret;
use webhook_guard::providers::{AnyProvider, Pollybot};
use webhook_guard::testing::{SignedRequest, Signer, SigningKey};
use webhook_guard::{DEFAULT_TOLERANCE, FixedClock, Verifier, VerifyError, VerifyErrorKind};
use webhook_guard::{Scheme, SignatureFormat};

/// The verifier's "now" (2025-11-20T10:15:30Z).
pub(crate) const NOW: i64 = 1_763_633_730;

pub(crate) fn tolerance() -> i64 {
    i64::try_from(DEFAULT_TOLERANCE.as_secs()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The providers under test
// ---------------------------------------------------------------------------------------------

/// One way of signing and verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
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
pub(crate) enum SecretKind {
    /// Any non-empty string, used as its UTF-8 bytes.
    Raw,
    /// `whsec_` + base64 of 24..=64 bytes.
    Whsec,
    /// `whsk_` + base64 of a 32-byte Ed25519 seed.
    Whsk,
}

pub(crate) const BREAKCOLD_LEGACY: Case = Case::Preset("breakcold-legacy");

impl Case {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Preset(name) => name,
            Self::PollybotBodyOnly => "pollybot(accepting_body_only, {body}{t} signature)",
            Self::PollybotBodyOnlyUnbound => "pollybot(accepting_body_only, {body} signature)",
            Self::StandardEd25519 => "standard(ed25519)",
        }
    }

    /// The preset's name, as `Verified::provider` reports it.
    pub(crate) fn preset(self) -> &'static str {
        match self {
            Self::Preset(name) => name,
            Self::PollybotBodyOnly | Self::PollybotBodyOnlyUnbound => "pollybot",
            Self::StandardEd25519 => "standard",
        }
    }

    pub(crate) fn provider(self) -> AnyProvider {
        match self {
            Self::PollybotBodyOnly | Self::PollybotBodyOnlyUnbound => {
                AnyProvider::Pollybot(Pollybot::accepting_body_only())
            }
            _ => AnyProvider::from_name(self.preset()).unwrap(),
        }
    }

    pub(crate) fn secret_kind(self) -> SecretKind {
        match self {
            Self::StandardEd25519 => SecretKind::Whsk,
            Self::Preset("standard") => SecretKind::Whsec,
            _ => SecretKind::Raw,
        }
    }

    pub(crate) fn is_legacy(self) -> bool {
        self == BREAKCOLD_LEGACY
    }
}

/// Every case, in the order the per-case test modules below are declared.
pub(crate) const ALL_CASES: &[Case] = &[
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
pub(crate) fn verifying_secret(case: Case, secret: &str) -> String {
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
pub(crate) fn signer_and_verifier(case: Case, secret: &str, now: i64) -> (Signer, Verifier<AnyProvider>) {
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

pub(crate) fn sign(signer: &Signer, body: &[u8], timestamp: i64, id: &str) -> SignedRequest {
    signer.sign_delivery(body, timestamp, id, None)
}

// ---------------------------------------------------------------------------------------------
// What every property draws from
// ---------------------------------------------------------------------------------------------

/// A secret the case's signer takes (see [`SecretKind`]).
pub(crate) fn secret_strategy(case: Case) -> BoxedStrategy<String> {
    match case.secret_kind() {
        // Printable: ASCII ones, and any non-control Unicode.
        SecretKind::Raw => prop_oneof!["[ -~]{1,64}", "\\PC{1,64}"].boxed(),
        SecretKind::Whsec => prop::collection::vec(any::<u8>(), 24..=64)
            .prop_map(|key| format!("whsec_{}", STANDARD.encode(key)))
            .boxed(),
        SecretKind::Whsk => any::<[u8; 32]>().prop_map(|seed| format!("whsk_{}", STANDARD.encode(seed))).boxed(),
    }
}

/// A body: any bytes of at least `min` bytes, or for Breakcold legacy (whose secret the signer
/// writes into the body) a JSON object of arbitrary string keys and values.
pub(crate) fn body_strategy(case: Case, min: usize) -> BoxedStrategy<Vec<u8>> {
    if case.is_legacy() {
        prop::collection::btree_map(any::<String>(), any::<String>(), 0..6)
            .prop_map(|object| serde_json::to_vec(&object).unwrap())
            .boxed()
    } else {
        prop::collection::vec(any::<u8>(), min..512).boxed()
    }
}

pub(crate) const ID: &str = "[A-Za-z0-9_]{1,40}";

/// A timestamp offset from now, within the tolerance (bounds included).
pub(crate) fn within_tolerance() -> impl Strategy<Value = i64> {
    let tolerance = tolerance();
    -tolerance..=tolerance
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

pub(crate) fn expect_kind(
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

/// The parsed top-level `secret` string of a body, if it is a JSON object with one.
pub(crate) fn body_secret(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(object) => object.get("secret")?.as_str().map(str::to_owned),
        _ => None,
    }
}
