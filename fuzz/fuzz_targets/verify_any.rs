//! Every verifier (each preset, and Pollybot's body-only opt-in) on one arbitrary request:
//! headers named from a vocabulary that holds every header a preset reads, with arbitrary values,
//! an arbitrary body and clock, read as pairs or through an `http::HeaderMap`, sometimes with
//! `explain`. Must never panic; every verdict must agree with the reference verifier, and no
//! output may show a secret or an expected MAC (see `webhook_guard_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::delivery_target;

fuzz_target!(|data: &[u8]| {
    delivery_target(data);
});
