//! A driver for counting the instructions of `Verifier::verify_signature` under callgrind, beside
//! prekeyed raw HMAC-SHA256 over the same signed bytes (its floor). Timings on a shared machine
//! move with the load; instruction counts do not, so decisions about the fixed cost per call are
//! made with these.
//!
//! Each case calls its `measured_*` function, which runs the operation [`CALLS`] times; only those
//! functions are counted:
//!
//! ```text
//! cargo bench -p webhook-guard --bench verify_instructions --no-run   # prints the executable
//! valgrind --tool=callgrind --toggle-collect='*measured_*' <executable> --exact botdog_61b
//! ```
//!
//! The cases: Botdog with a 61 B body through a slice of header pairs (what the `verify` bench's
//! `botdog_signature_vs_raw_hmac` group measures), and Standard Webhooks with a 1 KiB body
//! through an `http::HeaderMap` of its three headers; each beside its raw HMAC. Run as an ordinary
//! test (`cargo test --benches`), each case checks that what it measures verifies.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use webhook_guard::providers::{Botdog, Standard};
use webhook_guard::testing::Signer;
use webhook_guard::{FixedClock, HeaderSource, Provider, Verifier};

/// Calls per measured function: enough that the per-call count is exact to a fraction of an
/// instruction, few enough for valgrind to finish in seconds.
const CALLS: u32 = 10_000;

const NOW: i64 = 1_763_633_730;
const BOTDOG_SECRET: &str = "bench-secret-0123456789";
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STANDARD_ID: &str = "msg_bench";

/// The 61 B body of the `verify` bench's floor group.
fn botdog_body() -> Vec<u8> {
    br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"x"}"#[..61].to_vec()
}

/// A Standard Webhooks body of exactly 1,024 bytes.
fn standard_body() -> Vec<u8> {
    let head = r#"{"type":"call.completed","timestamp":"2026-11-20T10:15:00Z","data":{"note":""#;
    let tail = "\"}}";
    let body = format!("{head}{}{tail}", "x".repeat(1024 - head.len() - tail.len()));
    assert_eq!(body.len(), 1024);
    body.into_bytes()
}

#[inline(never)]
fn measured_verify_signature<P: Provider, H: HeaderSource + ?Sized>(verifier: &Verifier<P>, headers: &H, body: &[u8]) {
    for _ in 0..CALLS {
        black_box(verifier.verify_signature(black_box(headers), black_box(body)).is_ok());
    }
}

#[inline(never)]
fn measured_raw_hmac(prekeyed: &Hmac<Sha256>, prefix: &[u8], body: &[u8]) {
    for _ in 0..CALLS {
        let mut mac = prekeyed.clone();
        mac.update(black_box(prefix));
        mac.update(black_box(body));
        black_box(<[u8; 32]>::from(mac.finalize().into_bytes()));
    }
}

fn botdog() -> (Verifier<Botdog>, Vec<(String, String)>, Vec<u8>) {
    let body = botdog_body();
    let signed = Signer::for_provider(&Botdog::new(), &[BOTDOG_SECRET]).unwrap().sign(&body, NOW, "");
    let verifier = Verifier::builder(Botdog::new()).secret(BOTDOG_SECRET).clock(FixedClock(NOW)).build().unwrap();
    assert!(verifier.verify_signature(&signed.headers, &body).is_ok());
    (verifier, signed.headers, body)
}

fn standard() -> (Verifier<Standard>, http::HeaderMap, Vec<u8>) {
    let body = standard_body();
    let signed = Signer::for_provider(&Standard::new(), &[STANDARD_SECRET]).unwrap().sign(&body, NOW, STANDARD_ID);
    let mut headers = http::HeaderMap::new();
    for (name, value) in &signed.headers {
        headers.append(http::HeaderName::try_from(name.as_str()).unwrap(), value.parse().unwrap());
    }
    assert_eq!(headers.len(), 3);
    let verifier = Verifier::builder(Standard::new()).secret(STANDARD_SECRET).clock(FixedClock(NOW)).build().unwrap();
    assert!(verifier.verify_signature(&headers, &body).is_ok());
    (verifier, headers, body)
}

fn prekeyed(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap()
}

#[test]
fn botdog_61b() {
    let (verifier, headers, body) = botdog();
    measured_verify_signature(&verifier, headers.as_slice(), &body);
}

#[test]
fn botdog_61b_raw_hmac() {
    let body = botdog_body();
    measured_raw_hmac(&prekeyed(BOTDOG_SECRET.as_bytes()), format!("{NOW}.").as_bytes(), &body);
}

#[test]
fn standard_1kib() {
    let (verifier, headers, body) = standard();
    measured_verify_signature(&verifier, &headers, &body);
}

#[test]
fn standard_1kib_raw_hmac() {
    use base64::Engine as _;
    let key =
        base64::engine::general_purpose::STANDARD.decode(STANDARD_SECRET.strip_prefix("whsec_").unwrap()).unwrap();
    let body = standard_body();
    measured_raw_hmac(&prekeyed(&key), format!("{STANDARD_ID}.{NOW}.").as_bytes(), &body);
}
