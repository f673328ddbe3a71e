//! Shopify `X-Shopify-Hmac-Sha256: <base64>`: an arbitrary value and body. Must never
//! panic; the verdict must agree with the reference verifier (see `webhook_guard_fuzz::check`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::signature_target;

fuzz_target!(|data: &[u8]| {
    signature_target(data, &["shopify"], &["X-Shopify-Hmac-Sha256"], &[]);
});
