//! Event types that travel in a header the signature does not cover (issue 8, item 6).
//!
//! GitHub names the event in `X-GitHub-Event` and Shopify in `X-Shopify-Topic`; both sign the
//! body alone (GitHub: "Validating webhook deliveries"; Shopify: "Deliver webhooks through HTTPS").
//! Two different values of such a header are refused like two values of a signature or id
//! header, and the API says whether a delivery's type is covered by the signature.

// Test helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use http::StatusCode;
use webhook_guard::providers::{AnyProvider, Github, Shopify};
use webhook_guard::testing::Signer;
use webhook_guard::{FixedClock, Provider, Verifier, VerifyErrorKind};

const NOW: i64 = 1_763_633_730;
const SECRET: &str = "unsigned_event_type_secret";
const ORDER: &[u8] = br#"{"id":820982911946154508,"financial_status":"pending","total_price":"199.00"}"#;
const PUSH: &[u8] = br#"{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}"#;

/// The headers `provider` sends for `body` as event `event_type`, with `extra` appended.
fn signed_headers(provider: &str, body: &[u8], event_type: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let provider = AnyProvider::from_name(provider).unwrap();
    let signer = Signer::for_provider(&provider, &[SECRET]).unwrap();
    let mut request = signer.sign_delivery(body, NOW, "delivery-1", Some(event_type));
    request.headers.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    request.headers
}

fn verifier<P: Provider>(provider: P) -> Verifier<P> {
    Verifier::builder(provider).secret(SECRET).clock(FixedClock(NOW)).build().unwrap()
}

#[test]
fn two_different_github_event_headers_are_malformed() {
    let headers = signed_headers("github", PUSH, "push", &[("X-GitHub-Event", "release")]);
    let error = verifier(Github::new()).verify(&headers, PUSH).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.message(), "header `X-GitHub-Event` has two different values");
    // Refused before the body is looked at, by the verify-only call too.
    let error = verifier(Github::new()).verify_signature(&headers, PUSH).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
}

#[test]
fn two_different_shopify_topics_are_malformed() {
    let headers = signed_headers("shopify", ORDER, "orders/create", &[("x-shopify-topic", "orders/paid")]);
    let error = verifier(Shopify::new()).verify(&headers, ORDER).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.message(), "header `X-Shopify-Topic` has two different values");
    // The same through the run-time provider, as the CLI and the adapters use it.
    let any = verifier(AnyProvider::from_name("shopify").unwrap());
    assert_eq!(any.verify(&headers, ORDER).unwrap_err().kind(), VerifyErrorKind::MalformedSignature);
}

#[test]
fn a_repeated_identical_event_header_is_one_value() {
    let headers = signed_headers("shopify", ORDER, "orders/create", &[("X-Shopify-Topic", "orders/create")]);
    let delivery = verifier(Shopify::new()).verify(&headers, ORDER).unwrap();
    assert_eq!(delivery.event_type(), "orders/create");
}

#[test]
fn a_captured_shopify_body_re_sent_under_another_topic_verifies_as_that_topic() {
    // The documented limitation: the topic is not signed, and the API says so.
    let headers = signed_headers("shopify", ORDER, "orders/paid", &[]);
    let delivery = verifier(Shopify::new()).verify(&headers, ORDER).unwrap();
    assert_eq!(delivery.event_type(), "orders/paid");
    assert!(!delivery.event_type_authenticated());
    assert!(!delivery.verified().event_type_authenticated());
}

#[test]
fn only_types_read_from_the_signed_body_are_authenticated() {
    let expected = [
        ("botdog", true),
        ("pollybot", true),
        ("breakcold", true),
        ("breakcold-legacy", false),
        ("standard", true),
        ("github", false),
        ("stripe", true),
        ("slack", true),
        ("shopify", false),
    ];
    assert_eq!(expected.len(), AnyProvider::NAMES.len(), "a new provider needs a row here");
    for (name, authenticated) in expected {
        let provider = AnyProvider::from_name(name).unwrap();
        let fixture = webhook_guard::testing::fixtures(name).first().copied().unwrap();
        let secret = match name {
            "standard" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            _ => SECRET,
        };
        let signer = Signer::for_provider(&provider, &[secret]).unwrap();
        let request = signer.sign_delivery(fixture.body.as_bytes(), NOW, "delivery-1", Some(fixture.event_type));
        let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
        let delivery = verifier.verify(&request.headers, request.body).unwrap();
        assert_eq!(delivery.event_type_authenticated(), authenticated, "{name}");
        assert_eq!(delivery.event_type(), fixture.event_type, "{name}");
    }
}

#[test]
fn the_run_time_provider_names_the_unsigned_event_type_header() {
    let header = |name: &str| AnyProvider::from_name(name).unwrap().event_type_header();
    assert_eq!(header("github"), Some("X-GitHub-Event"));
    assert_eq!(header("shopify"), Some("X-Shopify-Topic"));
    for name in ["botdog", "pollybot", "breakcold", "breakcold-legacy", "standard", "stripe", "slack"] {
        assert_eq!(header(name), None, "{name}");
    }
    assert_eq!(Github::new().event_type_header(), Some("X-GitHub-Event"));
    assert_eq!(Shopify::new().event_type_header(), Some("X-Shopify-Topic"));
}
