//! Verification cost per preset, with and without typed parsing; and Botdog's verification beside
//! its floors in the same run (raw HMAC by body size, raw SHA-256, raw HMAC + serde_json).
//!
//! `cargo bench -p webhook-guard --features testing --bench verify`

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use webhook_guard::providers::botdog::LeadMessageReplied;
use webhook_guard::providers::{AnyProvider, Botdog, BotdogEvent};
use webhook_guard::testing::{Signer, fixtures};
use webhook_guard::{FixedClock, Verifier};

const NOW: i64 = 1_763_633_730;

fn secret_for(name: &str) -> &'static str {
    if name == "standard" { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } else { "bench-secret-0123456789" }
}

fn per_provider(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for name in AnyProvider::NAMES {
        let provider = AnyProvider::from_name(name).unwrap();
        let secret = secret_for(name);
        let fixture = &fixtures(name)[0];
        let signed = Signer::for_provider(&provider, &[secret]).unwrap().sign_delivery(
            fixture.body.as_bytes(),
            NOW,
            "msg_bench",
            None,
        );
        let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(NOW)).build().unwrap();
        let body = bytes::Bytes::from(signed.body.clone());
        assert!(verifier.verify(&signed.headers, body.clone()).is_ok(), "{name}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("signature_only", name), &body, |b, body| {
            b.iter(|| verifier.verify_signature(black_box(&signed.headers), black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("signature_and_parse", name), &body, |b, body| {
            b.iter(|| verifier.verify(black_box(&signed.headers), black_box(body.clone())).unwrap());
        });
    }
    group.finish();
}

/// A Botdog-signed body of exactly `size` bytes: a `LEAD_MESSAGE_REPLIED` whose message fills it.
fn botdog_body(size: usize) -> Vec<u8> {
    let head = r#"{"id":"evt_01JD3K9Q8W2M4N6P7R8S9T0V1W","eventType":"LEAD_MESSAGE_REPLIED","timestamp":"2026-11-20T10:15:00.000Z","repliedAt":"2026-11-20T10:14:58.000Z","message":""#;
    let tail = "\"}";
    let fill = size.saturating_sub(head.len() + tail.len());
    let body = format!("{head}{}{tail}", "x".repeat(fill));
    if size >= head.len() + tail.len() {
        assert_eq!(body.len(), size);
    }
    body.into_bytes()
}

/// The floor a hand-written check cannot go under: HMAC-SHA256 with the key schedule computed
/// once, over the bytes Botdog signs (`{t}.{body}`).
fn raw_hmac(prekeyed: &Hmac<Sha256>, t: &[u8], body: &[u8]) -> [u8; 32] {
    let mut mac = prekeyed.clone();
    mac.update(t);
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// `verify_signature` beside raw HMAC in one run, by body size; and at 1 MiB beside raw SHA-256.
/// The 64 B case is Botdog's smallest possible delivery with no body fields: `{}`-like bodies
/// the sender never sends, so it uses a 61 B body under the same headers.
fn against_floors(c: &mut Criterion) {
    let provider = AnyProvider::Botdog(Botdog::new());
    let secret = "bench-secret-0123456789";
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    let verifier =
        Verifier::builder(Botdog::new()).secret(secret).clock(FixedClock(NOW)).body_limit(2 << 20).build().unwrap();
    let t = NOW.to_string();
    let mut group = c.benchmark_group("botdog_signature_vs_raw_hmac");
    for (label, body) in [
        ("61B", br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"x"}"#[..61].to_vec()),
        ("1KiB", botdog_body(1024)),
        ("16KiB", botdog_body(16 * 1024)),
        ("1MiB", botdog_body(1 << 20)),
    ] {
        let signed = Signer::for_provider(&provider, &[secret]).unwrap().sign_delivery(&body, NOW, "", None);
        assert!(verifier.verify_signature(&signed.headers, &body).is_ok(), "{label}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("verify_signature", label), &body, |b, body| {
            b.iter(|| verifier.verify_signature(black_box(&signed.headers), black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("raw_hmac", label), &body, |b, body| {
            b.iter(|| raw_hmac(&prekeyed, black_box(t.as_bytes()), black_box(body)));
        });
        if label == "1MiB" {
            group.bench_with_input(BenchmarkId::new("raw_sha256", label), &body, |b, body| {
                b.iter(|| Sha256::digest(black_box(body)));
            });
        }
    }
    group.finish();

    // Typed: `verify` (signature, one parse into the typed event, the id) beside what a
    // hand-written handler does: raw HMAC, then serde_json into the same owned struct.
    let mut group = c.benchmark_group("botdog_typed_vs_raw_hmac_and_serde");
    let body = botdog_body(1024);
    let signed = Signer::for_provider(&provider, &[secret]).unwrap().sign_delivery(&body, NOW, "", None);
    let body = bytes::Bytes::from(body);
    assert!(matches!(
        verifier.verify(&signed.headers, body.clone()).unwrap().event(),
        BotdogEvent::LeadMessageReplied(_)
    ));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("verify/1KiB", |b| {
        b.iter(|| verifier.verify(black_box(&signed.headers), black_box(body.clone())).unwrap());
    });
    group.bench_function("raw_hmac_and_serde_json/1KiB", |b| {
        b.iter(|| {
            let mac = raw_hmac(&prekeyed, black_box(t.as_bytes()), black_box(&body));
            let event: LeadMessageReplied = serde_json::from_slice(black_box(&body)).unwrap();
            (mac, event)
        });
    });
    group.finish();
}

criterion_group!(benches, per_provider, against_floors);
criterion_main!(benches);
