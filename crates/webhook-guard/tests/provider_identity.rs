//! A provider is what its type and its data say, never its name (issue 9, item 5): a `Custom`
//! provider called "github" or "standard" gets nothing of those presets; an unsigned id header it
//! reads is checked like the presets' (two different values are refused with 400), and a scheme
//! cannot pass an unsigned id header off as signed; the signer works from any provider's own data.

// Test helpers panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

use http::StatusCode;
use webhook_guard::providers::{AnyProvider, Custom, Github, Shopify, Slack, Standard, Stripe};
use webhook_guard::testing::{Signer, fixtures};
use webhook_guard::{ConfigError, FixedClock, Provider, Verifier, VerifyErrorKind};
use webhook_guard::{Scheme, SignatureFormat};

const NOW: i64 = 1_763_633_730;
const BODY: &[u8] = br#"{"eventId":"evt_body","type":"thing.created"}"#;

/// `sha256=<hex>` over `{t}.{body}` with the timestamp in `X-Acme-Timestamp`.
fn acme_scheme() -> Scheme {
    Scheme::hmac_sha256("X-Acme-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .timestamp_header("X-Acme-Timestamp")
        .signed_content("{t}.{body}")
        .unwrap()
        .build()
        .unwrap()
}

fn verifier(provider: Custom, secret: &str) -> Verifier<Custom> {
    Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap()
}

/// The headers `provider`'s signer sends for `BODY`, as event `push` with id `delivery-1`.
fn signed_headers(provider: &Custom, secret: &str) -> Vec<(String, String)> {
    let signer = Signer::for_provider(provider, &[secret]).unwrap();
    signer.sign_delivery(BODY, NOW, "delivery-1", Some("push")).headers
}

#[test]
fn two_different_values_of_a_custom_unsigned_id_header_are_malformed() {
    let acme = Custom::new("acme", acme_scheme()).id_header("X-Acme-Delivery");
    let mut headers = signed_headers(&acme, "acme_secret");
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("X-Acme-Delivery"));
    headers.push(("X-Acme-Delivery".to_owned(), "delivery-1".to_owned()));
    headers.push(("x-acme-delivery".to_owned(), "delivery-2".to_owned()));
    let error = verifier(acme.clone(), "acme_secret").verify(&headers, BODY).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.message(), "header `X-Acme-Delivery` has two different values");
    // Refused before the body is looked at, by the verify-only call too.
    let error = verifier(acme, "acme_secret").verify_signature(&headers, BODY).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::MalformedSignature);
}

#[test]
fn a_custom_unsigned_id_header_is_the_id_and_a_repeated_identical_value_is_one_value() {
    let acme = Custom::new("acme", acme_scheme()).id_header("X-Acme-Delivery").id_field("eventId");
    let mut headers = signed_headers(&acme, "acme_secret");
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("X-Acme-Delivery"));
    headers.push(("X-Acme-Delivery".to_owned(), "delivery-1".to_owned()));
    headers.push(("X-Acme-Delivery".to_owned(), "delivery-1".to_owned()));
    let delivery = verifier(acme.clone(), "acme_secret").verify(&headers, BODY).unwrap();
    assert_eq!(delivery.id(), "delivery-1");
    // Without the header, the configured body field.
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("X-Acme-Delivery"));
    let delivery = verifier(acme, "acme_secret").verify(&headers, BODY).unwrap();
    assert_eq!(delivery.id(), "evt_body");
}

#[test]
fn a_custom_provider_called_github_sends_none_of_githubs_headers() {
    let named_github = Custom::new("github", acme_scheme());
    let headers = signed_headers(&named_github, "acme_secret");
    let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    for github_header in ["X-GitHub-Event", "X-GitHub-Delivery", "User-Agent"] {
        assert!(!names.iter().any(|name| name.eq_ignore_ascii_case(github_header)), "{github_header} in {names:?}");
    }
    assert_eq!(named_github.event_type_header(), None);
    let delivery = verifier(named_github, "acme_secret").verify(&headers, BODY).unwrap();
    assert!(delivery.event_type_authenticated());
    assert_eq!(delivery.provider(), "github");
}

#[test]
fn a_custom_provider_called_standard_signs_with_its_own_key_format() {
    // Raw UTF-8, as this Custom's verifier reads it: the name "standard" does not make the signer
    // decode a `whsec_` secret.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let named_standard = Custom::new("standard", acme_scheme());
    let headers = signed_headers(&named_standard, secret);
    assert!(verifier(named_standard, secret).verify(&headers, BODY).is_ok());
}

#[test]
fn a_custom_signer_sends_the_unsigned_id_header_it_reads() {
    let acme = Custom::new("acme", acme_scheme()).id_header("X-Acme-Delivery");
    let headers = signed_headers(&acme, "acme_secret");
    assert!(headers.contains(&("X-Acme-Delivery".to_owned(), "delivery-1".to_owned())), "{headers:?}");
    assert_eq!(verifier(acme, "acme_secret").verify(&headers, BODY).unwrap().id(), "delivery-1");
}

#[test]
fn a_scheme_id_header_must_be_signed() {
    // `webhook-id` style: the id is reported as signed, so a layout must cover it.
    let unsigned = Scheme::hmac_sha256("X-Acme-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .id_header("X-Acme-Delivery")
        .signed_content("{body}")
        .unwrap()
        .build();
    assert!(matches!(unsigned, Err(ConfigError::InvalidScheme(_))), "{unsigned:?}");
    let signed = Scheme::hmac_sha256("X-Acme-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .id_header("X-Acme-Delivery")
        .signed_content("{id}.{body}")
        .unwrap()
        .build();
    assert!(signed.is_ok());
}

/// `provider`'s signed fixture, by a signer made from the provider's type and from `AnyProvider`.
fn same_signature_by_type_and_at_run_time<P: Provider>(provider: P, secret: &str) {
    let name = provider.name();
    let fixture = fixtures(name)[0];
    let by_type = Signer::for_provider(&provider, &[secret]).unwrap();
    let at_run_time = Signer::for_provider(&AnyProvider::from_name(name).unwrap(), &[secret]).unwrap();
    let sign =
        |signer: &Signer| signer.sign_delivery(fixture.body.as_bytes(), NOW, "delivery-1", Some(fixture.event_type));
    assert_eq!(sign(&by_type), sign(&at_run_time), "{name}");
    let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
    let signed = sign(&by_type);
    assert_eq!(verifier.verify(&signed.headers, signed.body).unwrap().event_type(), fixture.event_type, "{name}");
}

#[test]
fn a_preset_signs_the_same_by_type_and_at_run_time() {
    same_signature_by_type_and_at_run_time(Github::new(), "gh_secret");
    same_signature_by_type_and_at_run_time(Shopify::new(), "shopify_secret");
    same_signature_by_type_and_at_run_time(Slack::new(), "slack_secret");
    same_signature_by_type_and_at_run_time(Stripe::new(), "whsec_stripe_is_raw_utf8");
    same_signature_by_type_and_at_run_time(Standard::new(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

#[test]
fn presets_keep_their_names_and_facts() {
    assert_eq!(Github::new().name(), "github");
    assert_eq!(Github::new().event_type_header(), Some("X-GitHub-Event"));
    assert_eq!(Github::new().unsigned_id_headers(), ["X-GitHub-Delivery"]);
    assert_eq!(Shopify::new().unsigned_id_headers(), ["X-Shopify-Event-Id", "X-Shopify-Webhook-Id"]);
    assert!(Stripe::new().unsigned_id_headers().is_empty());
    assert_eq!(Slack::new().event_type_header(), None);
    assert_eq!(Stripe::default().retry_window(), std::time::Duration::from_secs(72 * 3600));
}
