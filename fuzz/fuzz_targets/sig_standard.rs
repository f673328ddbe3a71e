//! Standard Webhooks `webhook-signature: v1,<base64> v1a,<base64> …`: an arbitrary value and body. Must never
//! panic; the verdict must agree with the reference verifier (see `webhook_guard_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::{Companion, signature_target};

fuzz_target!(|data: &[u8]| {
    signature_target(
        data,
        &["standard"],
        &["webhook-signature"],
        &[Companion::Id("webhook-id"), Companion::Timestamp("webhook-timestamp")],
    );
});
