//! Breakcold legacy, the secret-in-body scheme: an arbitrary body. Must never panic; it is
//! accepted exactly when its top-level string `secret` is one of the keyring's secrets (the
//! reference reads it with serde_json alone); and the typed event of an accepted delivery never
//! shows the secret.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard_fuzz::{check, keyrings};

fuzz_target!(|body: &[u8]| {
    keyrings::set_now(keyrings::SIGNED_AT);
    let no_headers: [(&str, &[u8]); 0] = [];
    check::verification("breakcold-legacy", &no_headers[..], &no_headers, body, true);

    let Ok(delivery) = keyrings::verifier("breakcold-legacy").verify(&no_headers[..], body.to_vec()) else { return };
    // The body proves the delivery with the secret; its typed event must drop it. Unless the
    // body also carries the secret elsewhere (then the event may rightly show that copy).
    let Ok(serde_json::Value::Object(mut rest)) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    rest.remove("secret");
    let rest = serde_json::Value::Object(rest).to_string();
    let event = format!("{:?} {}", delivery.event(), serde_json::to_string(delivery.event()).unwrap_or_default());
    for secret in keyrings::secrets("breakcold-legacy") {
        if !rest.contains(secret) {
            assert!(!event.contains(secret), "the typed legacy event shows the secret: {event}");
        }
    }
});
