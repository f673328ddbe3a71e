//! `sha256=<hex>` (Pollybot in both readings, Breakcold, GitHub): an arbitrary value and body. Must never
//! panic; the verdict must agree with the reference verifier (see `webhook_guard_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::{Companion, signature_target};

fuzz_target!(|data: &[u8]| {
    signature_target(
        data,
        &["pollybot", "pollybot-body-only", "breakcold", "github"],
        &["X-Webhook-Signature", "X-Hub-Signature-256"],
        &[Companion::Timestamp("X-Webhook-Timestamp")],
    );
});
