//! Verification cost per preset, with and without typed parsing; Botdog's verification beside
//! its floors in the same run (raw HMAC by body size, raw SHA-256, raw HMAC + serde_json); and
//! the cost of a rotation: 1 vs 3 secrets in the verifier, 1 vs 3 signatures in the delivery.
//!
//! `cargo bench -p webhook-guard --features testing --bench verify`
//!
//! Timed in the benchmark thread's CPU time (`BENCH_CLOCK=wall` for wall time): see `cpu_clock`.

#![allow(missing_docs, clippy::unwrap_used)]

mod cpu_clock;
use cpu_clock::timed;

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
            timed(b, || verifier.verify_signature(black_box(&signed.headers), black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("signature_and_parse", name), &body, |b, body| {
            timed(b, || verifier.verify(black_box(&signed.headers), black_box(body.clone())).unwrap());
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
            timed(b, || verifier.verify_signature(black_box(&signed.headers), black_box(body)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("raw_hmac", label), &body, |b, body| {
            timed(b, || raw_hmac(&prekeyed, black_box(t.as_bytes()), black_box(body)));
        });
        if label == "1MiB" {
            group.bench_with_input(BenchmarkId::new("raw_sha256", label), &body, |b, body| {
                timed(b, || Sha256::digest(black_box(body)));
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
        timed(b, || verifier.verify(black_box(&signed.headers), black_box(body.clone())).unwrap());
    });
    group.bench_function("raw_hmac_and_serde_json/1KiB", |b| {
        timed(b, || {
            let mac = raw_hmac(&prekeyed, black_box(t.as_bytes()), black_box(&body));
            let event: LeadMessageReplied = serde_json::from_slice(black_box(&body)).unwrap();
            (mac, event)
        });
    });
    group.finish();

    // The same delivery's typed path in parts, to see where `verify` spends beyond its floor:
    // the signature, the typed parse (beside serde_json into the variant's struct), and the
    // id and `Delivery` around them (`verify` minus the other two).
    let mut group = c.benchmark_group("botdog_typed_parts");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("verify_signature/1KiB", |b| {
        timed(b, || verifier.verify_signature(black_box(&signed.headers), black_box(&body)).unwrap());
    });
    group.bench_function("event_parse/1KiB", |b| {
        timed(b, || BotdogEvent::parse(black_box(&body)).unwrap());
    });
    group.bench_function("serde_json_struct/1KiB", |b| {
        timed(b, || serde_json::from_slice::<LeadMessageReplied>(black_box(&body)).unwrap());
    });
    group.bench_function("verify_signature_then_parse/1KiB", |b| {
        timed(b, || {
            let verified = verifier.verify_signature(black_box(&signed.headers), black_box(&body)).unwrap();
            (verified, BotdogEvent::parse(black_box(&body)).unwrap())
        });
    });
    group.bench_function("verify/1KiB", |b| {
        timed(b, || verifier.verify(black_box(&signed.headers), black_box(body.clone())).unwrap());
    });
    group.finish();
}

/// Secrets of a rotation that are no longer (or not yet) the sender's, for Botdog (raw strings)
/// and Standard Webhooks (`whsec_`, 24 key bytes each).
const OLD_BOTDOG: [&str; 2] = ["rotated-out-secret-1", "rotated-out-secret-2"];
const OLD_STANDARD: [&str; 2] = ["whsec_cm90YXRlZC1vdXQta2V5LW51bWJlci0x", "whsec_cm90YXRlZC1vdXQta2V5LW51bWJlci0y"];

/// Rotation, on a 1 KiB Botdog body and Standard Webhooks' `call.completed` fixture (1,106 B,
/// as committed): a verifier with 1 secret vs 3 (the sender's last: the keyring tries its
/// keys in the order they were added and computes every key's MAC whatever matched, so position
/// changes nothing), and a delivery carrying 1 signature vs 3 (the valid one last: Botdog
/// `t=…,s=…,s=…,s=…`, Standard Webhooks `v1,… v1,… v1,…`); beside raw HMAC once and three times.
fn rotation(c: &mut Criterion) {
    rotation_group(c, "botdog", AnyProvider::Botdog(Botdog::new()), OLD_BOTDOG, botdog_body(1024));
    let standard = AnyProvider::from_name("standard").unwrap();
    let fixture = fixtures("standard").iter().find(|fixture| fixture.event_type == "call.completed").unwrap();
    rotation_group(c, "standard", standard, OLD_STANDARD, fixture.body.as_bytes().to_vec());
}

fn rotation_group(c: &mut Criterion, name: &str, provider: AnyProvider, old: [&str; 2], body: Vec<u8>) {
    let secret = secret_for(name);
    let three_secrets = [old[0], old[1], secret];
    let signer = |secrets: &[&str]| Signer::for_provider(&provider, secrets).unwrap();
    let verifier = |secrets: &[&str]| {
        let builder = Verifier::builder(provider.clone()).clock(FixedClock(NOW));
        secrets.iter().fold(builder, |builder, secret| builder.secret(secret)).build().unwrap()
    };
    let one_signature = signer(&[secret]).sign_delivery(&body, NOW, "msg_bench", None);
    let three_signatures = signer(&three_secrets).sign_delivery(&body, NOW, "msg_bench", None);
    let (one_secret, three_secret) = (verifier(&[secret]), verifier(&three_secrets));
    let only_old = verifier(&old);

    // The right key and signature are found where they sit, and nowhere else.
    assert_eq!(one_secret.verify_signature(&one_signature.headers, &body).unwrap().key_index(), 0);
    assert_eq!(three_secret.verify_signature(&one_signature.headers, &body).unwrap().key_index(), 2);
    assert!(one_secret.verify_signature(&three_signatures.headers, &body).is_ok());
    assert!(only_old.verify_signature(&one_signature.headers, &body).is_err());
    let entries = |delivery: &webhook_guard::testing::SignedRequest| {
        delivery.headers.iter().map(|(_, value)| value.matches("s=").count() + value.matches("v1,").count()).sum()
    };
    assert_eq!((entries(&one_signature), entries(&three_signatures)), (1, 3));

    // The floor: prekeyed HMAC over what this sender signs, once (one key) and three times (what
    // three keys cost at least).
    let key = match &provider {
        AnyProvider::Botdog(_) => secret.as_bytes().to_vec(),
        _ => base64_decode(secret.strip_prefix("whsec_").unwrap()),
    };
    let prekeyed = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    let t = NOW.to_string();
    let signed_prefix = if name == "botdog" { format!("{t}.") } else { format!("msg_bench.{t}.") };
    let floor = move |prekeyed: &Hmac<Sha256>, body: &[u8]| {
        let mut mac = prekeyed.clone();
        mac.update(signed_prefix.as_bytes());
        mac.update(body);
        <[u8; 32]>::from(mac.finalize().into_bytes())
    };
    assert!(
        one_signature.headers.iter().any(|(_, value)| value.contains(&hex::encode(floor(&prekeyed, &body)))
            || value.contains(&base64_encode(&floor(&prekeyed, &body)))),
        "the floor computes the sender's MAC"
    );

    let mut group = c.benchmark_group(format!("{name}_rotation_{}B", body.len()));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("raw_hmac", |b| timed(b, || floor(&prekeyed, black_box(&body))));
    group.bench_function("raw_hmac_x3", |b| {
        timed(b, || {
            [floor(&prekeyed, black_box(&body)), floor(&prekeyed, black_box(&body)), floor(&prekeyed, black_box(&body))]
        })
    });
    for (label, verifier, delivery) in [
        ("1_secret_1_signature", &one_secret, &one_signature),
        ("3_secrets_1_signature", &three_secret, &one_signature),
        ("1_secret_3_signatures", &one_secret, &three_signatures),
        ("3_secrets_3_signatures", &three_secret, &three_signatures),
    ] {
        group.bench_function(label, |b| {
            timed(b, || verifier.verify_signature(black_box(&delivery.headers), black_box(&body)).unwrap());
        });
    }
    group.finish();
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

criterion_group!(benches, per_provider, against_floors, rotation);
criterion_main!(benches);
