//! Standard Webhooks verification: webhook-guard beside the `svix` crate's `Webhook::verify` and
//! the `standardwebhooks` crate's, on the identical delivery (same secret, message id,
//! timestamp, headers and 1 KiB body), with prekeyed raw HMAC-SHA256 as the floor.
//!
//! `cargo bench --manifest-path peer-benches/Cargo.toml -- --warm-up-time 1 --measurement-time 3`
//!
//! Timed in the benchmark thread's CPU time (`BENCH_CLOCK=wall` for wall time), by the core's
//! `benches/cpu_clock`, which this includes by path.
//!
//! The peers check the timestamp against the system clock, so the delivery is signed at the
//! current time when each group starts, and webhook-guard's verifier reads the system clock too
//! (its default). Every contestant's answer is checked once before it is timed: nobody is
//! measuring an error path.
//!
//! webhook-guard's `verify` parses the envelope, so it has three rows by the type of `data`:
//! `serde_json::Value` (the default), the receiver's own struct, and `Box<RawValue>` (the data's
//! JSON text, checked but built only when the handler asks). The `parse_*` rows time the parse
//! alone, to show what each costs beyond `webhook_guard_verify_signature`.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../../crates/webhook-guard/benches/cpu_clock/mod.rs"]
mod cpu_clock;
use cpu_clock::timed;

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::Sha256;
use webhook_guard::Verifier;
use webhook_guard::providers::{Standard, StandardEvent};
use webhook_guard::testing::{Signer, fixture};

/// A `whsec_` secret as Svix's dashboard shows it (24 key bytes).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
const BODY_LEN: usize = 1024;

/// The `call.completed` fixture (a Standard Webhooks envelope `{"type","timestamp","data"}`) as
/// a sender posts it, compact, with its summary lengthened so the body is exactly 1 KiB.
fn body_1kib() -> Vec<u8> {
    let fixture = fixture("standard", "call.completed").unwrap();
    let mut value: serde_json::Value = serde_json::from_str(fixture.body).unwrap();
    let compact = serde_json::to_vec(&value).unwrap().len();
    assert!(compact <= BODY_LEN, "the fixture is {compact} B compact");
    let summary = value["data"]["summary"].as_str().unwrap().to_owned();
    value["data"]["summary"] = format!("{summary}{}", " ".repeat(BODY_LEN - compact)).into();
    let body = serde_json::to_vec(&value).unwrap();
    assert_eq!(body.len(), BODY_LEN);
    body
}

fn now_unix() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// One delivery as the sender posts it: webhook-guard's test signer produces the headers
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature`, plus `Content-Type` and what else
/// the sender sends), carried in an `http::HeaderMap` as every contestant reads them.
struct Delivery {
    headers: HeaderMap,
    body: Vec<u8>,
    timestamp: i64,
}

fn delivery(secrets: &[&str]) -> Delivery {
    let body = body_1kib();
    let timestamp = now_unix();
    let signed = Signer::for_provider(&Standard::new(), secrets).unwrap().sign_delivery(&body, timestamp, MSG_ID, None);
    let mut headers = HeaderMap::new();
    for (name, value) in &signed.headers {
        headers.append(HeaderName::try_from(name.as_str()).unwrap(), HeaderValue::try_from(value.as_str()).unwrap());
    }
    Delivery { headers, body: signed.body, timestamp }
}

/// What a receiver of `call.completed` would write for its `data`: the fields it reads.
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

/// The floor: HMAC-SHA256 with the key schedule computed once, over what Standard Webhooks signs
/// (`{id}.{timestamp}.{body}`).
fn raw_hmac(prekeyed: &Hmac<Sha256>, id: &[u8], t: &[u8], body: &[u8]) -> [u8; 32] {
    let mut mac = prekeyed.clone();
    mac.update(id);
    mac.update(b".");
    mac.update(t);
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn standard_vs_peers(c: &mut Criterion) {
    let delivery = delivery(&[SECRET]);
    let (headers, body) = (&delivery.headers, &delivery.body[..]);
    let t = delivery.timestamp.to_string();

    let ours = Verifier::builder(Standard::new()).secret(SECRET).build().unwrap();
    let ours_typed = Verifier::builder(Standard::<CallCompleted>::with_data()).secret(SECRET).build().unwrap();
    // `data` as its JSON text: validated by the parse, built later (or never) by the handler.
    // Any `Deserialize` type is a `data` type; this one needs serde_json's `raw_value` feature.
    let ours_raw = Verifier::builder(Standard::<Box<RawValue>>::with_data()).secret(SECRET).build().unwrap();
    let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
    let standardwebhooks = standardwebhooks::Webhook::new(SECRET).unwrap();
    let prekeyed = prekeyed_floor(&delivery);

    // Everyone accepts this delivery, and rejects it with one byte of the body changed.
    let bytes_body = bytes::Bytes::from(delivery.body.clone());
    assert!(ours.verify_signature(headers, body).is_ok());
    assert_eq!(ours.verify(headers, bytes_body.clone()).unwrap().event().event_type, "call.completed");
    assert_eq!(ours_typed.verify(headers, bytes_body.clone()).unwrap().event().data.call_id, "call_01JD9A2C4E6G8J");
    let raw = ours_raw.verify(headers, bytes_body.clone()).unwrap();
    assert_eq!(serde_json::from_str::<CallCompleted>(raw.event().data.get()).unwrap().call_id, "call_01JD9A2C4E6G8J");
    svix.verify(body, headers).unwrap();
    standardwebhooks.verify(body, headers).unwrap();
    let mut forged = body.to_vec();
    forged[BODY_LEN / 2] ^= 1;
    assert!(ours.verify_signature(headers, &forged).is_err());
    assert!(svix.verify(&forged, headers).is_err());
    assert!(standardwebhooks.verify(&forged, headers).is_err());

    let mut group = c.benchmark_group("standard_1KiB");
    group.throughput(Throughput::Bytes(BODY_LEN as u64));
    group.bench_function("raw_hmac", |b| {
        timed(b, || raw_hmac(&prekeyed, black_box(MSG_ID.as_bytes()), black_box(t.as_bytes()), black_box(body)));
    });
    group.bench_function("webhook_guard_verify_signature", |b| {
        timed(b, || ours.verify_signature(black_box(headers), black_box(body)).unwrap());
    });
    group.bench_function("svix_verify", |b| {
        timed(b, || svix.verify(black_box(body), black_box(headers)).unwrap());
    });
    group.bench_function("standardwebhooks_verify", |b| {
        timed(b, || standardwebhooks.verify(black_box(body), black_box(headers)).unwrap());
    });
    group.bench_function("webhook_guard_verify_json_data", |b| {
        timed(b, || ours.verify(black_box(headers), black_box(bytes_body.clone())).unwrap());
    });
    group.bench_function("webhook_guard_verify_typed_data", |b| {
        timed(b, || ours_typed.verify(black_box(headers), black_box(bytes_body.clone())).unwrap());
    });
    group.bench_function("webhook_guard_verify_raw_data", |b| {
        timed(b, || ours_raw.verify(black_box(headers), black_box(bytes_body.clone())).unwrap());
    });
    // The parse alone, as `verify` does it after the signature: where the rows above spend
    // beyond `webhook_guard_verify_signature`.
    group.bench_function("parse_json_data", |b| {
        timed(b, || StandardEvent::<serde_json::Value>::parse(black_box(body)).unwrap());
    });
    group.bench_function("parse_typed_data", |b| {
        timed(b, || StandardEvent::<CallCompleted>::parse(black_box(body)).unwrap());
    });
    group.bench_function("parse_raw_data", |b| {
        timed(b, || StandardEvent::<Box<RawValue>>::parse(black_box(body)).unwrap());
    });
    // The typed row's floor: what a hand-written receiver with the same key and struct does at
    // the least (prekeyed HMAC, no header or timestamp checks, then serde_json into the same
    // envelope). `webhook_guard_verify_typed_data` ÷ `svix_verify` cannot go below this row ÷
    // `svix_verify`.
    group.bench_function("floor_raw_hmac_and_parse_typed", |b| {
        timed(b, || {
            let mac = raw_hmac(&prekeyed, black_box(MSG_ID.as_bytes()), black_box(t.as_bytes()), black_box(body));
            (mac, StandardEvent::<CallCompleted>::parse(black_box(body)).unwrap())
        });
    });
    group.finish();
}

/// The floor's prekeyed HMAC, keyed with the decoded `whsec_` bytes (the standardwebhooks crate
/// decodes them the same way; checked against the delivery's own signature).
fn prekeyed_floor(delivery: &Delivery) -> Hmac<Sha256> {
    use base64::Engine as _;
    let encoded = SECRET.strip_prefix("whsec_").unwrap();
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let t = delivery.timestamp.to_string();
    let mac = raw_hmac(&prekeyed, MSG_ID.as_bytes(), t.as_bytes(), &delivery.body);
    let signature = delivery.headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signature, format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac)));
    prekeyed
}

criterion_group!(benches, standard_vs_peers);
criterion_main!(benches);
