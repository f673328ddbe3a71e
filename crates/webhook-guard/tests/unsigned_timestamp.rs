//! A `Custom` scheme cannot claim replay protection it lacks (issue 8, item 7).
//!
//! A timestamp that no signed layout includes is read and checked against the clock, but it is
//! not authenticated: anyone can put a fresh one beside a captured body. A verifier refuses such a
//! scheme, and `Scheme::has_timestamp` means "the timestamp is bound into the MAC".

// Test helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use webhook_guard::providers::{Custom, Pollybot};
use webhook_guard::{ConfigError, FixedClock, Provider, Verifier};
use webhook_guard::{Scheme, SchemeBuilder, SignatureFormat};

const UNSIGNED_TIMESTAMP: ConfigError = ConfigError::InvalidScheme(
    "a timestamp is read but no signed layout includes `{t}`: it would not be authenticated",
);

fn sha256_header() -> SchemeBuilder {
    Scheme::hmac_sha256("X-Acme-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
}

fn verifier_for(scheme: Scheme) -> Result<Verifier<Custom>, ConfigError> {
    Verifier::builder(Custom::new("acme", scheme)).secret("acme_secret").clock(FixedClock(1_763_633_730)).build()
}

#[test]
fn a_timestamp_header_no_layout_signs_is_a_config_error() {
    let scheme =
        sha256_header().timestamp_header("X-Acme-Timestamp").signed_content("{body}").unwrap().build().unwrap();
    assert!(!scheme.has_timestamp(), "the timestamp is not bound into the MAC");
    assert_eq!(verifier_for(scheme).unwrap_err(), UNSIGNED_TIMESTAMP);
}

#[test]
fn an_optional_timestamp_no_layout_signs_is_a_config_error() {
    let scheme = sha256_header()
        .timestamp_header("X-Acme-Timestamp")
        .signed_content("{body}")
        .unwrap()
        .timestamp_optional()
        .build()
        .unwrap();
    assert_eq!(verifier_for(scheme).unwrap_err(), UNSIGNED_TIMESTAMP);
}

#[test]
fn a_key_value_timestamp_no_layout_signs_is_a_config_error() {
    let format = SignatureFormat::KeyValue { signature_key: "v1".to_owned(), timestamp_key: Some("t".to_owned()) };
    let scheme = Scheme::hmac_sha256("Acme-Signature", format).signed_content("{body}").unwrap().build().unwrap();
    assert!(!scheme.has_timestamp());
    assert_eq!(verifier_for(scheme).unwrap_err(), UNSIGNED_TIMESTAMP);
}

#[test]
fn has_timestamp_means_bound_into_the_mac() {
    let signed = sha256_header().timestamp_header("X-Acme-Timestamp").signed_content("{t}.{body}").unwrap().build();
    assert!(signed.unwrap().has_timestamp());
    let body_only = sha256_header().signed_content("{body}").unwrap().build().unwrap();
    assert!(!body_only.has_timestamp());
    assert!(verifier_for(body_only).is_ok(), "no timestamp read, none claimed");
    // Pollybot's documented fallback: `{body}{t}` preferred, `{body}` accepted on request.
    assert!(Pollybot::new().scheme().has_timestamp());
    assert!(Pollybot::accepting_body_only().scheme().has_timestamp());
}

#[test]
fn an_alternative_body_only_layout_beside_a_signed_timestamp_builds() {
    // The public builder can describe Pollybot's fallback too: one layout binds the timestamp, and
    // each delivery says through `Verified::timestamp_bound` which layout it matched.
    let scheme = Scheme::hmac_sha256("X-Webhook-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .timestamp_header("X-Webhook-Timestamp")
        .signed_content("{body}{t}")
        .unwrap()
        .signed_content("{body}")
        .unwrap()
        .timestamp_optional()
        .build()
        .unwrap();
    assert!(scheme.has_timestamp());
    assert!(verifier_for(scheme).is_ok());
    let verifier = Verifier::builder(Pollybot::accepting_body_only()).secret("polly").build();
    assert!(verifier.is_ok());
}
