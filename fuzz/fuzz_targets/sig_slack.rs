//! Slack `X-Slack-Signature: v0=<hex>` + `X-Slack-Request-Timestamp`: an arbitrary value and body. Must never
//! panic; the verdict must agree with the reference verifier (see `webhook_guard_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::{Companion, signature_target};

fuzz_target!(|data: &[u8]| {
    signature_target(data, &["slack"], &["X-Slack-Signature"], &[Companion::Timestamp("X-Slack-Request-Timestamp")]);
});
