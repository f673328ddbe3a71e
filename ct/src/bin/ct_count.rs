//! The deterministic companion of `dudect`, run under callgrind by `scripts/ct-callgrind.sh`:
//!
//! ```sh
//! ct_count <hex|base64|naive> <head|tail>
//! ```
//!
//! verifies [`REQUESTS`] signatures of the right length that differ from the expected MAC only in
//! their first byte (`head`) or only in their last byte (`tail`), through the public
//! `Verifier::verify_signature` (`hex`: Botdog, `base64`: Standard Webhooks). Everything but that
//! position is the same in both runs (same generator, same lengths, same allocations, even the
//! same instructions to read the arguments), so the instruction count of [`measured_verify`]
//! must be identical.
//!
//! `naive` is the negative control: the same signatures compared with an early-exit loop
//! ([`measured_naive`]), whose count must differ, or the method would be blind.

use std::hint::black_box;
use std::process::ExitCode;

use webhook_guard_ct::{Encoding, Fixture, Xorshift};

/// How many wrong signatures are verified.
const REQUESTS: usize = 64;

/// The function whose instructions callgrind counts (`--toggle-collect=*measured_*`).
#[inline(never)]
fn measured_verify(fixture: &Fixture, requests: &[Vec<(String, String)>]) -> usize {
    requests.iter().filter(|headers| fixture.verifier.verify_signature(*headers, &fixture.body).is_ok()).count()
}

/// The negative control: a comparison that stops at the first difference.
#[inline(never)]
fn measured_naive(expected: &[u8; 32], provided: &[[u8; 32]]) -> usize {
    provided
        .iter()
        .filter(|signature| {
            for (a, b) in expected.iter().zip(signature.iter()) {
                if black_box(*a) != *b {
                    return false;
                }
            }
            true
        })
        .count()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(position)) = (args.first(), args.get(1)) else { return usage() };
    // Bitwise `|` and arithmetic, not branches: `head` and `tail` take the same instructions.
    if !((position == "head") | (position == "tail")) {
        return usage();
    }
    let index = usize::from(position == "tail") * 31;
    let encoding = match mode.as_str() {
        "hex" | "naive" => Encoding::Hex,
        "base64" => Encoding::Base64,
        _ => return usage(),
    };
    let fixture = Fixture::new(encoding);
    let mut rng = Xorshift::new(0x5eed_c0de);
    let signatures: Vec<[u8; 32]> = (0..REQUESTS).map(|_| fixture.wrong_at(&fixture.mac, index, rng.byte())).collect();
    let accepted = if mode == "naive" {
        measured_naive(black_box(&fixture.mac), black_box(&signatures))
    } else {
        let requests: Vec<_> = signatures.iter().map(|signature| fixture.headers(&[*signature])).collect();
        measured_verify(black_box(&fixture), black_box(&requests))
    };
    if accepted != 0 {
        eprintln!("ct_count: a wrong signature was accepted");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: ct_count <hex|base64|naive> <head|tail>");
    ExitCode::from(2)
}
