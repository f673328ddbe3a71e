//! A driver for counting the instructions of typed verification under callgrind: Botdog's
//! `Verifier::verify` of a 1 KiB delivery beside what a hand-written handler does (prekeyed raw
//! HMAC-SHA256, then `serde_json::from_slice` into the same owned struct), and the parts in
//! between (the signature alone, `BotdogEvent::parse`, serde_json into the struct alone).
//! Instruction counts do not move with the machine's load, so the typed path's costs are decided
//! with these rather than with the `verify` bench's timings.
//!
//! Each case calls its `measured_*` function, which runs the operation [`CALLS`] times; only those
//! functions are counted:
//!
//! ```text
//! cargo bench -p webhook-guard --features testing --bench typed_instructions --no-run   # prints the executable
//! valgrind --tool=callgrind --toggle-collect='*measured_*' <executable> --exact botdog_1kib_verify
//! ```
//!
//! The body is the `verify` bench's 1 KiB `LEAD_MESSAGE_REPLIED` (`id` before `eventType`, as
//! Botdog sends it). The `*_type_first` cases parse the same entries with `eventType` first. The
//! `standard_*` cases are peer-benches' Standard Webhooks delivery (the `call.completed` fixture
//! lengthened to 1 KiB, `data` as the receiver's struct, headers in an `http::HeaderMap`): what
//! `verify` adds to `verify_signature` and the envelope's parse there, `verify` with the
//! delivery's id read (`standard_1kib_verify_and_id`), and the floor: prekeyed raw HMAC then the
//! envelope's parse (`standard_1kib_raw_hmac_and_event_parse`). Run as an ordinary test
//! (`cargo test --benches`), each case checks that what it measures succeeds.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use webhook_guard::providers::botdog::LeadMessageReplied;
use webhook_guard::providers::{Botdog, BotdogEvent, Standard, StandardEvent};
use webhook_guard::testing::{Signer, fixture};
use webhook_guard::{FixedClock, Verifier};

/// Calls per measured function: enough that the per-call count is exact to a fraction of an
/// instruction, few enough for valgrind to finish in seconds.
const CALLS: u32 = 10_000;

const NOW: i64 = 1_763_633_730;
const SECRET: &str = "bench-secret-0123456789";

/// The `verify` bench's 1 KiB Botdog body: a `LEAD_MESSAGE_REPLIED` whose message fills it.
fn body_1kib(type_first: bool) -> Vec<u8> {
    let (first, second) = (r#""id":"evt_01JD3K9Q8W2M4N6P7R8S9T0V1W""#, r#""eventType":"LEAD_MESSAGE_REPLIED""#);
    let (first, second) = if type_first { (second, first) } else { (first, second) };
    let head = format!(
        r#"{{{first},{second},"timestamp":"2026-11-20T10:15:00.000Z","repliedAt":"2026-11-20T10:14:58.000Z","message":""#
    );
    let tail = "\"}";
    let body = format!("{head}{}{tail}", "x".repeat(1024 - head.len() - tail.len()));
    assert_eq!(body.len(), 1024);
    body.into_bytes()
}

fn verifier() -> Verifier<Botdog> {
    Verifier::builder(Botdog::new()).secret(SECRET).clock(FixedClock(NOW)).build().unwrap()
}

fn signed_headers(body: &[u8]) -> Vec<(String, String)> {
    Signer::for_provider(&Botdog::new(), &[SECRET]).unwrap().sign(body, NOW, "").headers
}

#[inline(never)]
fn measured_verify(verifier: &Verifier<Botdog>, headers: &[(String, String)], body: &Bytes) {
    for _ in 0..CALLS {
        black_box(verifier.verify(black_box(headers), black_box(body.clone())).is_ok());
    }
}

#[inline(never)]
fn measured_verify_signature(verifier: &Verifier<Botdog>, headers: &[(String, String)], body: &[u8]) {
    for _ in 0..CALLS {
        black_box(verifier.verify_signature(black_box(headers), black_box(body)).is_ok());
    }
}

/// `verify` without building the `Delivery`: what `verify` adds to its two parts is the rest.
#[inline(never)]
fn measured_verify_signature_then_parse(verifier: &Verifier<Botdog>, headers: &[(String, String)], body: &[u8]) {
    for _ in 0..CALLS {
        let verified = verifier.verify_signature(black_box(headers), black_box(body));
        black_box((verified.is_ok(), BotdogEvent::parse(black_box(body)).is_ok()));
    }
}

#[inline(never)]
fn measured_event_parse(body: &[u8]) {
    for _ in 0..CALLS {
        black_box(BotdogEvent::parse(black_box(body)).is_ok());
    }
}

#[inline(never)]
fn measured_serde_json_struct(body: &[u8]) {
    for _ in 0..CALLS {
        black_box(serde_json::from_slice::<LeadMessageReplied>(black_box(body)).is_ok());
    }
}

/// The floor: what a hand-written handler does, prekeyed HMAC over `{t}.{body}` then serde_json.
#[inline(never)]
fn measured_raw_hmac_and_serde_json(prekeyed: &Hmac<Sha256>, t: &[u8], body: &[u8]) {
    for _ in 0..CALLS {
        let mut mac = prekeyed.clone();
        mac.update(black_box(t));
        mac.update(b".");
        mac.update(black_box(body));
        black_box(<[u8; 32]>::from(mac.finalize().into_bytes()));
        black_box(serde_json::from_slice::<LeadMessageReplied>(black_box(body)).is_ok());
    }
}

#[test]
fn botdog_1kib_verify() {
    let body = Bytes::from(body_1kib(false));
    let headers = signed_headers(&body);
    let verifier = verifier();
    let delivery = verifier.verify(headers.as_slice(), body.clone()).unwrap();
    assert!(matches!(delivery.event(), BotdogEvent::LeadMessageReplied(_)));
    assert_eq!(delivery.id(), "evt_01JD3K9Q8W2M4N6P7R8S9T0V1W");
    measured_verify(&verifier, &headers, &body);
}

#[test]
fn botdog_1kib_verify_signature() {
    let body = body_1kib(false);
    let headers = signed_headers(&body);
    let verifier = verifier();
    assert!(verifier.verify_signature(headers.as_slice(), &body).is_ok());
    measured_verify_signature(&verifier, &headers, &body);
}

#[test]
fn botdog_1kib_verify_signature_then_parse() {
    let body = body_1kib(false);
    let headers = signed_headers(&body);
    measured_verify_signature_then_parse(&verifier(), &headers, &body);
}

#[test]
fn botdog_1kib_event_parse() {
    let body = body_1kib(false);
    assert!(matches!(BotdogEvent::parse(&body).unwrap(), BotdogEvent::LeadMessageReplied(_)));
    measured_event_parse(&body);
}

#[test]
fn botdog_1kib_event_parse_type_first() {
    let body = body_1kib(true);
    assert!(matches!(BotdogEvent::parse(&body).unwrap(), BotdogEvent::LeadMessageReplied(_)));
    measured_event_parse(&body);
}

#[test]
fn botdog_1kib_serde_json_struct() {
    let body = body_1kib(false);
    assert!(serde_json::from_slice::<LeadMessageReplied>(&body).is_ok());
    measured_serde_json_struct(&body);
}

#[test]
fn botdog_1kib_raw_hmac_and_serde_json() {
    let body = body_1kib(false);
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    assert!(serde_json::from_slice::<LeadMessageReplied>(&body).is_ok());
    measured_raw_hmac_and_serde_json(&prekeyed, NOW.to_string().as_bytes(), &body);
}

const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const STANDARD_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

/// peer-benches' `call.completed` body: the fixture, compact, its summary lengthened to 1 KiB.
fn standard_body() -> Vec<u8> {
    let mut value: serde_json::Value =
        serde_json::from_str(fixture("standard", "call.completed").unwrap().body).unwrap();
    let compact = serde_json::to_vec(&value).unwrap().len();
    let summary = value["data"]["summary"].as_str().unwrap().to_owned();
    value["data"]["summary"] = format!("{summary}{}", " ".repeat(1024 - compact)).into();
    let body = serde_json::to_vec(&value).unwrap();
    assert_eq!(body.len(), 1024);
    body
}

/// What a receiver of `call.completed` would write for its `data` (as peer-benches).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CallCompleted {
    call_id: String,
    contact_id: String,
    duration_seconds: u32,
    outcome: String,
    summary: String,
}

fn standard() -> (Verifier<Standard<CallCompleted>>, http::HeaderMap, Bytes) {
    let body = standard_body();
    let signed = Signer::for_provider(&Standard::new(), &[STANDARD_SECRET]).unwrap().sign_delivery(
        &body,
        NOW,
        STANDARD_ID,
        None,
    );
    let mut headers = http::HeaderMap::new();
    for (name, value) in &signed.headers {
        headers.append(http::HeaderName::try_from(name.as_str()).unwrap(), value.parse().unwrap());
    }
    let verifier = Verifier::builder(Standard::<CallCompleted>::with_data())
        .secret(STANDARD_SECRET)
        .clock(FixedClock(NOW))
        .build()
        .unwrap();
    let delivery = verifier.verify(&headers, body.clone()).unwrap();
    assert_eq!(delivery.id(), STANDARD_ID);
    (verifier, headers, Bytes::from(body))
}

#[inline(never)]
fn measured_standard_verify(verifier: &Verifier<Standard<CallCompleted>>, headers: &http::HeaderMap, body: &Bytes) {
    for _ in 0..CALLS {
        black_box(verifier.verify(black_box(headers), black_box(body.clone())).is_ok());
    }
}

#[inline(never)]
fn measured_standard_verify_signature(
    verifier: &Verifier<Standard<CallCompleted>>,
    headers: &http::HeaderMap,
    body: &[u8],
) {
    for _ in 0..CALLS {
        black_box(verifier.verify_signature(black_box(headers), black_box(body)).is_ok());
    }
}

#[inline(never)]
fn measured_standard_event_parse(body: &[u8]) {
    for _ in 0..CALLS {
        black_box(StandardEvent::<CallCompleted>::parse(black_box(body)).is_ok());
    }
}

/// `verify`, then the delivery's id, as a receiver that deduplicates reads it: the signed
/// `webhook-id`, kept inline in the delivery and checked as UTF-8 when read.
#[inline(never)]
fn measured_standard_verify_and_id(
    verifier: &Verifier<Standard<CallCompleted>>,
    headers: &http::HeaderMap,
    body: &Bytes,
) {
    for _ in 0..CALLS {
        let delivery = verifier.verify(black_box(headers), black_box(body.clone()));
        black_box(delivery.as_ref().map(|delivery| delivery.id().len()).ok());
    }
}

/// The floor of the typed Standard path: prekeyed raw HMAC-SHA256 over `{id}.{t}.{body}`, then
/// the envelope's own parse (`StandardEvent::parse`, serde_json into the same struct).
#[inline(never)]
fn measured_standard_raw_hmac_and_event_parse(prekeyed: &Hmac<Sha256>, id: &[u8], t: &[u8], body: &[u8]) {
    for _ in 0..CALLS {
        let mut mac = prekeyed.clone();
        mac.update(black_box(id));
        mac.update(b".");
        mac.update(black_box(t));
        mac.update(b".");
        mac.update(black_box(body));
        black_box(<[u8; 32]>::from(mac.finalize().into_bytes()));
        black_box(StandardEvent::<CallCompleted>::parse(black_box(body)).is_ok());
    }
}

#[test]
fn standard_1kib_verify_and_id() {
    let (verifier, headers, body) = standard();
    measured_standard_verify_and_id(&verifier, &headers, &body);
}

#[test]
fn standard_1kib_raw_hmac_and_event_parse() {
    use base64::Engine as _;
    let body = standard_body();
    let key = base64::engine::general_purpose::STANDARD.decode(STANDARD_SECRET.trim_start_matches("whsec_")).unwrap();
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    assert!(StandardEvent::<CallCompleted>::parse(&body).is_ok());
    measured_standard_raw_hmac_and_event_parse(&prekeyed, STANDARD_ID.as_bytes(), NOW.to_string().as_bytes(), &body);
}

#[test]
fn standard_1kib_verify() {
    let (verifier, headers, body) = standard();
    measured_standard_verify(&verifier, &headers, &body);
}

#[test]
fn standard_1kib_verify_signature() {
    let (verifier, headers, body) = standard();
    measured_standard_verify_signature(&verifier, &headers, &body);
}

#[test]
fn standard_1kib_event_parse() {
    let body = standard_body();
    assert!(StandardEvent::<CallCompleted>::parse(&body).is_ok());
    measured_standard_event_parse(&body);
}
