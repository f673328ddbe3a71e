//! Verification cost per preset, with and without typed parsing, and HMAC cost by body size.
//!
//! `cargo bench -p webhook-guard --features testing --bench verify`

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use webhook_guard::providers::{AnyProvider, Botdog};
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

fn by_body_size(c: &mut Criterion) {
    let mut group = c.benchmark_group("hmac_by_body_size");
    let provider = AnyProvider::Botdog(Botdog::new());
    let verifier = Verifier::builder(Botdog::new()).secret("bench-secret").clock(FixedClock(NOW)).build().unwrap();
    for size in [256usize, 4 * 1024, 64 * 1024, 256 * 1024] {
        let body = vec![b'x'; size];
        let signed = Signer::for_provider(&provider, &["bench-secret"]).unwrap().sign_delivery(&body, NOW, "", None);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| verifier.verify_signature(black_box(&signed.headers), black_box(body)).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, per_provider, by_body_size);
criterion_main!(benches);
