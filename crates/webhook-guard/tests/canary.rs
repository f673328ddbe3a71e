//! Secret hygiene, as a canary: every provider verifies accepted and refused deliveries signed
//! with a known secret (through the [`Guard`], with deduplication, so every rejection and store
//! problem is logged), `explain`s each, and turns each error into its rejection; every error,
//! config, secret, keyring, verifier, delivery and claim type is formatted with `Debug` and
//! `Display`; all `tracing` output is captured at TRACE. None of that text may contain a secret
//! (raw, hex or base64), an expected MAC (hex in either case, base64 padded, unpadded or
//! URL-safe, or the first 16 characters of any of those), or the body (a marker string each body
//! carries, the tampered marker, and the whole body).
//!
//! Zeroization is checked where a test can see it without `unsafe` (the workspace forbids it):
//! see [`key_material_is_zeroized_on_drop`] for what is and is not covered.

#![allow(clippy::unwrap_used)]

use http_body_util::Full;
use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use bytes::Bytes;
use http::StatusCode;
use webhook_guard::providers::{AnyProvider, Custom, Pollybot};
use webhook_guard::testing::{SignedRequest, Signer, SigningKey, fixtures};
use webhook_guard::{Claim, ClaimToken, DedupStore, OnStoreError, StoreError};
use webhook_guard::{
    ConfigError, Dedup, Ed25519PublicKey, FixedClock, Guard, Keyring, MemoryStore, Provider, Rejection, Secret,
    Verifier, VerifyError, VerifyErrorKind,
};
use webhook_guard::{Encoding, Scheme, SignatureFormat, SignedContent};
use webhook_guard_test_support::UnreachableStore;

/// The verifiers' clock.
const NOW: i64 = 1_763_633_730;
/// The delivery id signed by Standard Webhooks and sent by GitHub, Shopify and Breakcold.
const ID: &str = "msg_canary_2f1d";
/// A second, unrelated secret configured before the canary one (rotation).
const OTHER: &str = "other-secret-not-the-canary";
/// The Ed25519 seed of the Standard Webhooks signing canary (32 bytes of text).
const ED25519_SEED: &[u8; 32] = b"canary-ed25519-seed-7c2b94e1d05a";

/// Everything printed anywhere during the test, with where it came from.
#[derive(Default)]
struct Outputs(Vec<(String, String)>);

impl Outputs {
    fn debug(&mut self, label: impl Into<String>, value: &impl Debug) {
        self.0.push((label.into(), format!("{value:?} {value:#?}")));
    }

    fn text(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn error(&mut self, label: &str, error: &VerifyError) {
        self.text(format!("{label}: Display"), error.to_string());
        self.debug(format!("{label}: Debug"), error);
        self.debug(format!("{label}: kind"), &error.kind());
        let rejection = Rejection::from(error.clone());
        self.text(format!("{label}: rejection"), rejection.to_string());
        self.debug(format!("{label}: rejection"), &rejection);
        self.text(format!("{label}: rejection body"), String::from_utf8_lossy(&rejection.body()));
        let response = rejection.to_response(|body| body);
        self.debug(format!("{label}: response"), &response);
        self.text(format!("{label}: response body"), String::from_utf8_lossy(response.body()));
    }
}

/// What must never be printed.
#[derive(Default)]
struct Forbidden(Vec<(String, String)>);

impl Forbidden {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.0.push((what.into(), text.into()));
    }

    /// Raw bytes of key material: as text (when UTF-8), hex and base64.
    fn key(&mut self, what: &str, bytes: &[u8]) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            self.add(what, text);
        }
        self.add(format!("{what} (hex)"), hex::encode(bytes));
        self.add(format!("{what} (base64)"), STANDARD.encode(bytes));
    }

    /// An expected MAC in every encoding a leak could take, and the first 16 characters of each.
    fn mac(&mut self, what: &str, mac: &[u8]) {
        for encoded in [
            hex::encode(mac),
            hex::encode_upper(mac),
            STANDARD.encode(mac),
            STANDARD_NO_PAD.encode(mac),
            URL_SAFE.encode(mac),
        ] {
            self.add(format!("{what} prefix"), &encoded[..16]);
            self.add(what, encoded);
        }
    }
}

/// The decoded signature at the end of a signature header signed with one key (hex or base64).
fn decode_tail(value: &str) -> Vec<u8> {
    if let Some(tail) = value.get(value.len().saturating_sub(64)..)
        && let Ok(bytes) = hex::decode(tail)
    {
        return bytes;
    }
    STANDARD.decode(&value[value.len() - 44..]).unwrap()
}

/// The MAC `provider` expects over `body` sent at `timestamp`, computed by the test signer.
fn expected_mac(provider: &AnyProvider, secret: &str, body: &[u8], timestamp: i64) -> Vec<u8> {
    let signed = Signer::for_provider(provider, &[secret]).unwrap().sign(body, timestamp, ID);
    decode_tail(signed.header(provider.scheme().signature_header().unwrap()).unwrap())
}

/// One provider under test.
struct Case {
    label: &'static str,
    provider: AnyProvider,
    /// How the canary secret is configured (and given to the signer).
    secret: &'static str,
    /// The HMAC key it stands for (empty for an Ed25519 signing key).
    key: Vec<u8>,
}

/// The raw canary secret.
const CANARY: &str = "canary-secret-9e4f1a7c3b5d";
/// The key bytes of the Standard Webhooks canary secret.
const WHSEC_KEY: &[u8] = b"canary-standard-key-4b7e2a9d1c";

fn cases(whsec: &'static str, whsk: &'static str) -> Vec<Case> {
    let mut cases: Vec<Case> = AnyProvider::NAMES
        .iter()
        .map(|name| Case {
            label: name,
            provider: AnyProvider::from_name(name).unwrap(),
            secret: if *name == "standard" { whsec } else { CANARY },
            key: if *name == "standard" { WHSEC_KEY.to_vec() } else { CANARY.as_bytes().to_vec() },
        })
        .collect();
    cases.push(Case {
        label: "pollybot-body-only",
        provider: AnyProvider::Pollybot(Pollybot::accepting_body_only()),
        secret: CANARY,
        key: CANARY.as_bytes().to_vec(),
    });
    let standard = AnyProvider::from_name("standard").unwrap();
    cases.push(Case { label: "standard-ed25519", provider: standard, secret: whsk, key: Vec::new() });
    cases
}

/// HMAC-SHA256 of `body` alone under `key` (the layout `explain` also tries).
fn body_only_mac(key: &[u8], body: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// A fixture body of `case` with a marker string added at the top level (unknown fields are
/// ignored by every typed event).
fn marked_body(case: &str, marker: &str) -> Vec<u8> {
    let provider = match case {
        "pollybot-body-only" => "pollybot",
        "standard-ed25519" => "standard",
        other => other,
    };
    let mut value: serde_json::Value = serde_json::from_str(fixtures(provider)[0].body).unwrap();
    value["canaryNote"] = marker.into();
    serde_json::to_vec(&value).unwrap()
}

/// A body of `case` that is authentic but does not match its event type, the marker being the
/// offending value.
fn mistyped_body(case: &str, body: &[u8], marker: &str) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(body).unwrap();
    match case {
        "botdog" | "pollybot" | "pollybot-body-only" | "breakcold" | "standard" | "standard-ed25519" => {
            value["timestamp"] = marker.into();
        }
        "breakcold-legacy" => value["payload"]["created_at"] = marker.into(),
        // Senders whose events are kept as JSON: a body that is not JSON.
        _ => return format!("{{\"canaryNote\": \"{marker}\", ").into_bytes(),
    }
    serde_json::to_vec(&value).unwrap()
}

/// The headers of `signed` with the signature header's value replaced.
fn with_signature(provider: &AnyProvider, signed: &SignedRequest, value: &str) -> Vec<(String, String)> {
    let name = provider.scheme().signature_header().unwrap_or("X-None");
    signed.headers.iter().map(|(n, v)| (n.clone(), if n == name { value.to_owned() } else { v.clone() })).collect()
}

/// One request of a case.
struct Scenario {
    name: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The MACs the verifier expects for what it receives (none for Ed25519 and secret-in-body).
    macs: Vec<Vec<u8>>,
}

async fn run_case(case: &Case, outputs: &mut Outputs, forbidden: &mut Forbidden) {
    let label = case.label;
    let provider = &case.provider;
    let secret = case.secret;
    let marker = format!("body-canary-{label}-5d1e8b");
    let body = marked_body(label, &marker);
    let signer = Signer::for_provider(provider, &[secret]).unwrap();
    let signed = signer.sign_delivery(&body, NOW, ID, None);
    forbidden.add(format!("{label}: body marker"), &marker);
    forbidden.add(format!("{label}: body"), String::from_utf8(signed.body.clone()).unwrap());

    let key = if label == "standard-ed25519" {
        let public = ed25519_dalek::SigningKey::from_bytes(ED25519_SEED).verifying_key();
        format!("whpk_{}", STANDARD.encode(public.as_bytes()))
    } else {
        secret.to_owned()
    };
    let other = if label.starts_with("standard") { "whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtY2FuYXJ5LTAx" } else { OTHER };
    let verifier =
        Verifier::builder(provider.clone()).secret(other).secret(&key).clock(FixedClock(NOW)).build().unwrap();
    let guard = Guard::new(verifier.clone()).with_dedup(Dedup::new(MemoryStore::new(100))).unwrap();
    let hmac = !label.ends_with("ed25519") && label != "breakcold-legacy";
    let mac = |body: &[u8], timestamp: i64| hmac.then(|| expected_mac(provider, secret, body, timestamp));

    let tampered_marker = marker.replace("5d1e8b", "5d1e8c");
    forbidden.add(format!("{label}: tampered marker"), &tampered_marker);
    let tampered = String::from_utf8(signed.body.clone()).unwrap().replace(&marker, &tampered_marker).into_bytes();
    let stale = signer.sign_delivery(&body, NOW - 10_000, ID, None);
    let wrong_key = if label.starts_with("standard") {
        "whsec_d3Jvbmctc2VjcmV0LW5vdC10aGUtY2FuYXJ5LTAy"
    } else {
        "wrong-secret-but-not-canary"
    };
    let forged = Signer::for_provider(provider, &[wrong_key]).unwrap().sign_delivery(&body, NOW, ID, None);
    let mistyped = signer.sign_delivery(&mistyped_body(label, &body, &marker), NOW, ID, None);
    let garbage = with_signature(provider, &signed, "t=1,s=zz v1,%%% sha256=");
    let none: Vec<(String, String)> = vec![("Content-Type".into(), "application/json".into())];
    let scenario = |name, headers: &[(String, String)], body: &[u8], timestamp: Option<i64>| Scenario {
        name,
        headers: headers.to_vec(),
        body: body.to_vec(),
        macs: timestamp.and_then(|timestamp| mac(body, timestamp)).into_iter().collect(),
    };
    let scenarios = [
        scenario("accepted", &signed.headers, &signed.body, Some(NOW)),
        scenario("tampered body", &signed.headers, &tampered, Some(NOW)),
        scenario("stale timestamp", &stale.headers, &stale.body, Some(NOW - 10_000)),
        scenario("wrong secret", &forged.headers, &forged.body, Some(NOW)),
        scenario("invalid payload", &mistyped.headers, &mistyped.body, Some(NOW)),
        scenario("malformed header", &garbage, &signed.body, None),
        scenario("no signature", &none, &signed.body, None),
    ];
    let mut accepted = Vec::new();
    for Scenario { name: scenario, headers, body, macs } in &scenarios {
        let at = format!("{label} / {scenario}");
        for (index, mac) in macs.iter().enumerate() {
            forbidden.mac(&format!("{at}: expected MAC #{index}"), mac);
            // What `explain` also tries: the body with a trailing newline, and Pollybot's other
            // reading (the body alone), which GitHub's layout computes.
            let newline = [&body[..], b"\n"].concat();
            forbidden.mac(&format!("{at}: MAC with a newline"), &expected_mac(provider, secret, &newline, NOW));
            forbidden.mac(&format!("{at}: MAC of the body alone"), &body_only_mac(&case.key, body));
        }
        match verifier.verify_signature(headers, body) {
            Ok(verified) => outputs.debug(format!("{at}: Verified"), &verified),
            Err(error) => outputs.error(&format!("{at}: verify_signature"), &error),
        }
        outputs.text(format!("{at}: explain"), verifier.explain(headers, body).to_string());
        outputs.debug(format!("{at}: explain"), &verifier.explain(headers, body));
        match guard.admit_body(headers, Full::new(Bytes::from(body.clone()))).await {
            Ok(admitted) => {
                accepted.push(*scenario);
                outputs.debug(format!("{at}: Admitted"), &admitted);
                outputs.debug(format!("{at}: Delivery"), &admitted.delivery);
                outputs.debug(format!("{at}: Verified"), admitted.delivery.verified());
                if label == "breakcold-legacy" {
                    // The legacy body carries the secret; its typed event must not.
                    let event = admitted.delivery.event();
                    outputs.debug(format!("{at}: legacy event"), event);
                    outputs.text(format!("{at}: legacy event JSON"), serde_json::to_string(event).unwrap());
                }
                let claim = admitted.claim.unwrap();
                outputs.debug(format!("{at}: ClaimHandle"), &claim);
                // A failed handler releases the claim; the retry completes it; a third copy is a
                // duplicate (logged).
                claim.finish(StatusCode::INTERNAL_SERVER_ERROR).await;
                let retry = guard.admit_body(headers, Full::new(Bytes::from(body.clone()))).await.unwrap();
                let held = retry.claim.unwrap();
                let in_flight = guard.admit_body(headers, Full::new(Bytes::from(body.clone()))).await.unwrap_err();
                outputs.debug(format!("{at}: in flight"), &in_flight);
                held.finish(StatusCode::OK).await;
                let duplicate = guard.admit_body(headers, Full::new(Bytes::from(body.clone()))).await.unwrap_err();
                outputs.debug(format!("{at}: duplicate"), &duplicate);
                outputs.text(format!("{at}: duplicate body"), String::from_utf8_lossy(&duplicate.body()));
            }
            Err(rejection) => {
                outputs.debug(format!("{at}: rejection"), &rejection);
                outputs.text(format!("{at}: rejection body"), String::from_utf8_lossy(&rejection.body()));
            }
        }
    }
    // Only the signed delivery is admitted (its later copies are duplicates). Secret-in-body has
    // no integrity beyond the secret: the changed body verifies too, and, its derived id ending
    // with the body's digest, is another delivery.
    let legacy = label == "breakcold-legacy";
    let expected: &[&str] = if legacy { &["accepted", "tampered body"] } else { &["accepted"] };
    assert_eq!(accepted, expected, "{label}");
    assert_eq!(verifier.verify_signature(&scenarios[1].headers, &scenarios[1].body).is_ok(), legacy, "{label}");
    let error = verifier.verify(&scenarios[4].headers, scenarios[4].body.clone()).unwrap_err();
    assert_eq!(error.kind(), VerifyErrorKind::InvalidPayload, "{label}: {error}");

    // A body over the limit. (The body collector's `Debug` is checked in its own unit test.)
    let small = Verifier::builder(provider.clone()).secret(&key).body_limit(8).build().unwrap();
    outputs.error(&format!("{label}: too large"), &small.verify_signature(&signed.headers, &signed.body).unwrap_err());

    // Config and secret types holding the canary.
    outputs.debug(format!("{label}: Verifier"), &verifier);
    outputs.debug(format!("{label}: Keyring"), verifier.keyring());
    outputs.debug(format!("{label}: VerifierBuilder"), &Verifier::builder(provider.clone()).secret(&key));
    outputs.debug(format!("{label}: Guard"), &guard);
    outputs.debug(format!("{label}: Key"), &provider.parse_key(&key));
    outputs.debug(format!("{label}: Signer"), &signer);
    outputs.debug(format!("{label}: SignedRequest"), &signed);
    outputs.debug(format!("{label}: provider"), provider);
}

/// A writer shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every event at every level, as text, into `captured`.
fn subscriber(captured: &Captured) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish()
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_mac_or_body_is_ever_printed_or_logged() {
    let captured = Captured::default();
    let _logging = tracing::subscriber::set_default(subscriber(&captured));

    let mut outputs = Outputs::default();
    let mut forbidden = Forbidden::default();
    let whsec: &'static str = format!("whsec_{}", STANDARD.encode(WHSEC_KEY)).leak();
    let whsk: &'static str = format!("whsk_{}", STANDARD.encode(ED25519_SEED)).leak();
    forbidden.key("raw secret", CANARY.as_bytes());
    forbidden.key("Standard Webhooks key", WHSEC_KEY);
    forbidden.add("whsec_ secret", whsec);
    forbidden.key("Ed25519 seed", ED25519_SEED);
    forbidden.add("whsk_ key", whsk);

    for case in cases(whsec, whsk) {
        run_case(&case, &mut outputs, &mut forbidden).await;
    }
    store_failures(&mut outputs, &captured).await;
    config_errors(&mut outputs, whsec);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "webhook delivery rejected",
        "in_flight",
        "duplicate",
        "store_unavailable",
        "dedup store failed",
        "claim dropped outside a tokio runtime",
    ] {
        assert!(logs.contains(expected), "the capture misses {expected:?}: is logging captured?\n{logs}");
    }
    outputs.text("tracing output", logs);

    let mut leaks = Vec::new();
    for (what, needle) in &forbidden.0 {
        for (label, text) in &outputs.0 {
            if text.contains(needle.as_str()) {
                leaks.push(format!("{what} ({needle}) appears in {label}:\n{text}\n"));
            }
        }
    }
    assert!(leaks.is_empty(), "{} leak(s):\n{}", leaks.len(), leaks.join("\n"));
    assert!(forbidden.0.len() > 500 && outputs.0.len() > 400, "{} forbidden, {}", forbidden.0.len(), outputs.0.len());
}

/// A store that fails: closed (503) and open (handled without dedup); completing and releasing
/// fail too. All of it is logged.
async fn store_failures(outputs: &mut Outputs, captured: &Captured) {
    let provider = AnyProvider::from_name("botdog").unwrap();
    let secret = CANARY;
    let body = marked_body("botdog", "body-canary-botdog-5d1e8b");
    let signed = Signer::for_provider(&provider, &[secret]).unwrap().sign_delivery(&body, NOW, ID, None);
    let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
    let closed = Guard::new(verifier.clone()).with_dedup(Dedup::new(UnreachableStore)).unwrap();
    let rejection = closed.admit_body(&signed.headers, Full::new(Bytes::from(signed.body.clone()))).await.unwrap_err();
    outputs.debug("store down: rejection", &rejection);
    outputs.text("store down: rejection body", String::from_utf8_lossy(&rejection.body()));
    let open = Dedup::new(UnreachableStore).on_store_error(OnStoreError::FailOpen);
    outputs.debug("store down: Dedup", &open);
    let open = Guard::new(verifier.clone()).with_dedup(open).unwrap();
    let admitted = open.admit_body(&signed.headers, Full::new(Bytes::from(signed.body.clone()))).await.unwrap();
    outputs.debug("store down: fail open", &admitted);

    // A claim dropped unfinished outside a runtime, by a store that is not answered inline
    // (`MemoryStore` releases such a claim at once, without logging).
    let memory = MemoryStore::new(10);
    outputs.debug("MemoryStore", &memory);
    let guard = Guard::new(verifier).with_dedup(Dedup::new(NotInline(memory))).unwrap();
    let admitted = guard.admit_body(&signed.headers, Full::new(Bytes::from(signed.body.clone()))).await.unwrap();
    let claim = admitted.claim.unwrap();
    let captured = captured.clone();
    std::thread::spawn(move || {
        let _logging = tracing::subscriber::set_default(subscriber(&captured));
        drop(claim);
    })
    .join()
    .unwrap();
    let store = MemoryStore::new(10);
    let token = match store.claim("k", Duration::from_secs(1)).await.unwrap() {
        Claim::Acquired(token) => token,
        other => panic!("{other:?}"),
    };
    outputs.debug("Claim", &Claim::Acquired(token));
    outputs.debug("ClaimToken", &token);
    outputs.text("StoreError", StoreError::new("connection refused").to_string());
}

/// A `MemoryStore` behind the trait only, as a store across a network is: the guard cannot
/// answer it inline.
struct NotInline(MemoryStore);

impl DedupStore for NotInline {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.0.claim(key, lease).await
    }

    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        self.0.complete(key, token, ttl).await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        self.0.release(key, token).await
    }
}

/// Every `ConfigError`, several made from the canary secret itself.
fn config_errors(outputs: &mut Outputs, whsec: &str) {
    let canary = CANARY;
    let mut errors: Vec<(&str, ConfigError)> = vec![
        ("empty", Secret::from_utf8("").unwrap_err()),
        ("raw canary as whsec", Secret::from_whsec(canary).unwrap_err()),
        ("short whsec", Secret::from_whsec(&format!("whsec_{}", STANDARD.encode(&canary[..12]))).unwrap_err()),
        ("canary as whpk", Ed25519PublicKey::from_whpk(whsec).unwrap_err()),
        ("canary as whsk", SigningKey::from_whsk(whsec).unwrap_err()),
        ("unknown provider", AnyProvider::from_name("canary-provider").unwrap_err()),
        ("bad template", SignedContent::parse("{t}.").unwrap_err()),
    ];
    let standard = AnyProvider::from_name("standard").unwrap();
    errors.push(("raw canary for standard", Verifier::builder(standard).secret(canary).build().unwrap_err()));
    let github = AnyProvider::from_name("github").unwrap();
    errors.push(("no key", Verifier::builder(github.clone()).build().unwrap_err()));
    let public = ed25519_dalek::SigningKey::from_bytes(ED25519_SEED).verifying_key();
    let public = Ed25519PublicKey::from_bytes(public.as_bytes()).unwrap();
    outputs.debug("Ed25519PublicKey", &public);
    errors.push(("ed25519 for github", Verifier::builder(github.clone()).key(public).build().unwrap_err()));
    let bad_point = (0u8..=255).find_map(|byte| Ed25519PublicKey::from_bytes(&[byte; 32]).err());
    errors.extend(bad_point.map(|error| ("bad point", error)));
    let short_ttl = Dedup::new(MemoryStore::new(10)).ttl(Duration::ZERO);
    let stripe = Verifier::builder(AnyProvider::from_name("stripe").unwrap()).secret(canary).build().unwrap();
    errors.push(("short ttl", Guard::new(stripe).with_dedup(short_ttl).unwrap_err()));
    for (label, error) in &errors {
        outputs.text(format!("ConfigError {label}"), error.to_string());
        outputs.debug(format!("ConfigError {label}"), error);
    }
    assert!(errors.len() >= 12, "{errors:?}");

    // Other config types built around the canary.
    let secret = Secret::from_utf8(canary).unwrap();
    outputs.debug("Secret", &secret);
    outputs.debug("Key", &webhook_guard::Key::from(secret.clone()));
    outputs.debug("Keyring", &Keyring::new([secret]));
    outputs.debug("SigningKey", &SigningKey::from_whsk(&format!("whsk_{}", STANDARD.encode(ED25519_SEED))).unwrap());
    let scheme = Scheme::hmac_sha256("X-Canary-Signature", SignatureFormat::Single { prefix: "sha256=".into() })
        .encoding(Encoding::Hex)
        .timestamp_header("X-Canary-Timestamp")
        .signed_content("{t}.{body}")
        .unwrap();
    outputs.debug("SchemeBuilder", &scheme);
    let custom = Custom::new("canary", scheme.build().unwrap());
    outputs.debug("Custom", &custom);
    let custom = Verifier::builder(custom).secret(canary).build().unwrap();
    outputs.debug("Verifier<Custom>", &custom);
    outputs.debug("Rejection in flight", &Rejection::in_flight(Duration::from_secs(1)));
    outputs.debug("verifier clock", &FixedClock(NOW));
}

/// Zeroization that a test can check without `unsafe` (forbidden in this workspace): the types
/// that hold key material after configuration implement `ZeroizeOnDrop`, and secrets cannot be
/// compared with `==` (checked at compile time: the calls below only compile for types without
/// `PartialEq`).
///
/// Not checked here, because it would take reading freed memory: that the bytes really are
/// overwritten. `Secret`'s private field is a `Zeroizing<Vec<u8>>` (src/secret.rs), which an
/// integration test cannot name; a `Keyring` keeps no `Secret` at all (it takes them by value and
/// keeps the HMAC key schedule, whose SHA-256 states are zeroized on drop, checked below, and a
/// `Zeroizing` digest); the expected MAC is a `Zeroizing<[u8; 32]>` inside the engine. Copies
/// made by the allocator when a `Vec` grows, by the OS (swap, core dumps) or by the caller's own
/// `String` holding the secret are out of reach.
#[test]
fn key_material_is_zeroized_on_drop() {
    fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    // The HMAC key schedule a `Keyring` keeps is two SHA-256 states (inner and outer pad); the
    // `zeroize` feature of sha2/digest makes them wipe themselves on drop.
    zeroized_on_drop::<<sha2::Sha256 as hmac::digest::block_api::CoreProxy>::Core>();
    zeroized_on_drop::<sha2::Sha256>();
    // The Standard Webhooks signing key of the test signer.
    zeroized_on_drop::<ed25519_dalek::SigningKey>();
    zeroized_on_drop::<zeroize::Zeroizing<Vec<u8>>>();

    /// Resolves for every type when `T: !PartialEq`, and is ambiguous (does not compile) when
    /// `T: PartialEq`.
    trait NotPartialEq<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotPartialEq<()> for T {}
    #[allow(dead_code)]
    struct Comparable;
    impl<T: ?Sized + PartialEq> NotPartialEq<Comparable> for T {}
    <Secret as NotPartialEq<_>>::check();
    <Keyring as NotPartialEq<_>>::check();
    <webhook_guard::Key as NotPartialEq<_>>::check();
    <SigningKey as NotPartialEq<_>>::check();

    // A keyring takes its secrets by value and shows none of them.
    let keyring = Keyring::new([Secret::from_utf8("zeroize-canary").unwrap()]);
    assert_eq!(format!("{keyring:?}"), "Keyring { secrets: 1, ed25519_public_keys: 0 }");
}
