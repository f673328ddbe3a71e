//! dudect (Reparaz, Balasch and Verbauwhede, "Dude, is my code constant time?", 2017) on
//! webhook-guard's MAC check, timed through the public `Verifier::verify_signature`:
//!
//! - `*_mismatch_first_vs_last_byte`: a wrong signature differing from the expected MAC only in
//!   its first byte (left) or only in its last byte (right). An early-exit comparison is faster on
//!   the left.
//! - `*_valid_vs_invalid`: the header carries two signatures, the second always valid, so both
//!   classes are accepted and do the same work after the check; the first is the expected MAC
//!   (left) or wrong in every byte (right). Whether a request is accepted is public anyway (the
//!   response says so); what must not show is how the comparison went.
//!
//! Each test times `CT_SAMPLES` verifications (default 1,048,576), the class of each drawn at
//! random, from pools of prepared requests. dudect-bencher prints `max t` over 101 Welch t-tests
//! (all samples, and 100 sets cropped at growing percentiles); |t| above 5 means the classes are
//! distinguishable.
//!
//! ```sh
//! cargo run --release --manifest-path ct/Cargo.toml --bin dudect
//! CT_SAMPLES=4000000 cargo run --release --manifest-path ct/Cargo.toml --bin dudect -- --filter hex
//! ```

use dudect_bencher::rand::RngExt;
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};
use webhook_guard_ct::{Encoding, Fixture};

/// Prepared requests per class.
const POOL: usize = 1024;

fn samples() -> usize {
    std::env::var("CT_SAMPLES").ok().and_then(|value| value.parse().ok()).unwrap_or(1 << 20)
}

/// Signatures for one request, given the MAC the verifier expects for its body.
type Signatures<'a> = &'a dyn Fn(&mut BenchRng, &[u8; 32]) -> Vec<[u8; 32]>;

/// Times `samples()` verifications of requests carrying `left` or `right` signatures.
///
/// As dudect prescribes, the measuring loop never branches on the class: it draws a prepared
/// request at random (half of them are of each class) and only hands its class to the runner,
/// which files the time after it was taken. Each prepared request has its own body (same length,
/// so its own expected MAC), so the signature bytes look random in both classes and only their
/// relation to the expected MAC differs. Every verification reads the same two buffers: before
/// each one (untimed), the body and the signature header's value are overwritten in place, so the
/// classes never differ in where the request lives in memory either.
///
/// With `naive_too`, each timed call also compares the first signature with the expected MAC by an
/// early-exit loop: the positive control, which must show.
fn measure(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    encoding: Encoding,
    left: Signatures<'_>,
    right: Signatures<'_>,
    naive_too: bool,
) {
    let fixture = Fixture::new(encoding);
    let value = |headers: Vec<(String, String)>| headers.last().map(|(_, value)| value.clone()).unwrap_or_default();
    let mut prepared = Vec::with_capacity(2 * POOL);
    for number in 0..POOL {
        let body = fixture.body_number(u32::try_from(number).unwrap_or_default() + 1);
        let mac = fixture.mac_of(&body);
        let (left, right) = (left(rng, &mac), right(rng, &mac));
        prepared.push((Class::Left, body.clone(), value(fixture.headers(&left)), mac, left[0]));
        prepared.push((Class::Right, body, value(fixture.headers(&right)), mac, right[0]));
    }
    let mut request = fixture.headers(&left(rng, &fixture.mac));
    let slot = request.len() - 1;
    let mut body = fixture.body.clone();
    let mut outcomes = Vec::new();
    for (_, prepared_body, prepared_value, _, _) in &prepared {
        request[slot].1.clone_from(prepared_value);
        outcomes.push(fixture.verifier.verify_signature(&request, prepared_body).is_ok());
    }
    assert!(outcomes.iter().all(|ok| *ok == outcomes[0]), "the classes differ in outcome");
    for _ in 0..samples() {
        let (class, prepared_body, prepared_value, mac, first) = &prepared[rng.random_range(0..prepared.len())];
        // Same lengths, so both buffers keep their place.
        body.copy_from_slice(prepared_body);
        request[slot].1.clear();
        request[slot].1.push_str(prepared_value);
        let (request, body) = (&request, &body);
        runner.run_one(*class, || {
            let ok = fixture.verifier.verify_signature(request, body).is_ok();
            ok | (naive_too && naive_eq(mac, first))
        });
    }
}

/// An early-exit comparison, for the positive control only.
fn naive_eq(expected: &[u8; 32], provided: &[u8; 32]) -> bool {
    for (a, b) in expected.iter().zip(provided) {
        if std::hint::black_box(*a) != *b {
            return false;
        }
    }
    true
}

fn first_vs_last(runner: &mut CtRunner, rng: &mut BenchRng, encoding: Encoding, naive_too: bool) {
    let fixture = Fixture::new(encoding);
    let first = |rng: &mut BenchRng, mac: &[u8; 32]| vec![fixture.wrong_at(mac, 0, rng.random())];
    let last = |rng: &mut BenchRng, mac: &[u8; 32]| vec![fixture.wrong_at(mac, 31, rng.random())];
    measure(runner, rng, encoding, &first, &last, naive_too);
}

fn valid_vs_invalid(runner: &mut CtRunner, rng: &mut BenchRng, encoding: Encoding) {
    let fixture = Fixture::new(encoding);
    let valid = |_: &mut BenchRng, mac: &[u8; 32]| vec![*mac, *mac];
    let invalid = |rng: &mut BenchRng, mac: &[u8; 32]| vec![fixture.wrong_everywhere(mac, &mut || rng.random()), *mac];
    measure(runner, rng, encoding, &valid, &invalid, false);
}

/// A/A control: both classes draw from the same distribution (first byte wrong, hex). Its |t|
/// is the harness's own false-positive level on this machine.
fn control_hex_same_distribution(runner: &mut CtRunner, rng: &mut BenchRng) {
    let fixture = Fixture::new(Encoding::Hex);
    let first = |rng: &mut BenchRng, mac: &[u8; 32]| vec![fixture.wrong_at(mac, 0, rng.random())];
    measure(runner, rng, Encoding::Hex, &first, &first, false);
}

fn hex_mismatch_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    first_vs_last(runner, rng, Encoding::Hex, false);
}

fn hex_valid_vs_invalid(runner: &mut CtRunner, rng: &mut BenchRng) {
    valid_vs_invalid(runner, rng, Encoding::Hex);
}

fn base64_mismatch_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    first_vs_last(runner, rng, Encoding::Base64, false);
}

fn base64_valid_vs_invalid(runner: &mut CtRunner, rng: &mut BenchRng) {
    valid_vs_invalid(runner, rng, Encoding::Base64);
}

/// Positive control: the hex first-vs-last test, with an early-exit comparison added to each
/// timed call. Its |t| must be far above 5, or the harness could not see such a leak here.
fn control_naive_first_vs_last_byte(runner: &mut CtRunner, rng: &mut BenchRng) {
    first_vs_last(runner, rng, Encoding::Hex, true);
}

ctbench_main!(
    control_hex_same_distribution,
    control_naive_first_vs_last_byte,
    hex_mismatch_first_vs_last_byte,
    hex_valid_vs_invalid,
    base64_mismatch_first_vs_last_byte,
    base64_valid_vs_invalid
);
