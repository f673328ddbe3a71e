//! A reference verifier for the differential checks, written from the wire facts of each sender
//! (the table in `webhook_guard::scheme` and each preset's module docs, which cite the vendor
//! pages) and sharing no code with the crate's engine:
//! it reads headers, splits the signature header and builds the signed bytes its own way, and
//! computes HMAC-SHA256 with the `hmac` and `sha2` crates directly (Ed25519 with
//! `ed25519-dalek`). It is deliberately simple and not constant-time.
//!
//! [`matches`] answers one question: does any signature provided in the headers equal the MAC
//! (or verify as the Ed25519 signature) of the bytes the sender signs, under any key of the
//! case's keyring? It ignores the clock and every rule about malformed requests (conflicting
//! header copies, too many entries, unparsable timestamps): the crate may refuse such a request
//! for another reason, but it must never call it a signature mismatch when this says "matches",
//! and never accept it when this says "does not match".

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::keyrings::secrets;

/// What the reference finds in a request.
#[derive(Debug, Default)]
pub struct Material {
    /// The MACs of the bytes the sender signs, under every HMAC key (empty when a part of the
    /// signed bytes, such as the timestamp, is absent).
    pub expected: Vec<[u8; 32]>,
    /// The HMAC signatures the headers provide, decoded.
    pub provided: Vec<[u8; 32]>,
    /// A proof that is not an HMAC matched: an Ed25519 signature verified (Standard Webhooks
    /// `v1a`), or the body carried the secret (Breakcold legacy).
    pub other_proof: bool,
}

impl Material {
    /// Whether a provided signature (or another proof) matches.
    pub fn matches(&self) -> bool {
        self.other_proof || self.expected.iter().any(|expected| self.provided.contains(expected))
    }
}

/// Whether a signature in `headers` matches the keyring of `case` over `body`.
pub fn matches<N: AsRef<str>, V: AsRef<[u8]>>(case: &str, headers: &[(N, V)], body: &[u8]) -> bool {
    material(case, headers, body).matches()
}

/// The expected and provided signatures of a request to `case`.
pub fn material<N: AsRef<str>, V: AsRef<[u8]>>(case: &str, headers: &[(N, V)], body: &[u8]) -> Material {
    let keys = secrets(case);
    let raw_keys: Vec<&[u8]> = keys.iter().map(|key| key.as_bytes()).collect();
    let header = |names: &[&str]| first_value(headers, names);
    let macs = |parts: &[&[u8]]| raw_keys.iter().map(|key| hmac(key, parts)).collect::<Vec<_>>();
    // Without its signature header, a request provides nothing to match (and nothing computes a
    // MAC): skip the MACs, which are most of a fuzz execution's time.
    let signature_header: &[&str] = match case {
        "botdog" | "pollybot" | "pollybot-body-only" | "breakcold" => &["X-Webhook-Signature"],
        "standard" => &["webhook-signature", "svix-signature"],
        "github" => &["X-Hub-Signature-256"],
        "stripe" => &["Stripe-Signature"],
        "slack" => &["X-Slack-Signature"],
        "shopify" => &["X-Shopify-Hmac-Sha256"],
        _ => &[],
    };
    if !signature_header.is_empty() && header(signature_header).is_none() {
        return Material::default();
    }
    match case {
        // `X-Webhook-Signature: t=<t>,s=<hex>[,s=<hex>…]` over `{t}.{body}`.
        "botdog" => key_value(header(&["X-Webhook-Signature"]), "s", |t| macs(&[t, b".", body])),
        // `X-Webhook-Signature: sha256=<hex>` + `X-Webhook-Timestamp` over `{body}{t}` (and, opted
        // in, over `{body}` alone).
        "pollybot" | "pollybot-body-only" => {
            let mut expected = header(&["X-Webhook-Timestamp"]).map(|t| macs(&[body, t])).unwrap_or_default();
            if case == "pollybot-body-only" {
                expected.extend(macs(&[body]));
            }
            let provided = prefixed_hex(header(&["X-Webhook-Signature"]), b"sha256=").into_iter().collect();
            Material { expected, provided, other_proof: false }
        }
        // `X-Webhook-Signature: sha256=<hex>` + `X-Webhook-Timestamp` over `{t}.{body}`.
        "breakcold" => Material {
            expected: header(&["X-Webhook-Timestamp"]).map(|t| macs(&[t, b".", body])).unwrap_or_default(),
            provided: prefixed_hex(header(&["X-Webhook-Signature"]), b"sha256=").into_iter().collect(),
            other_proof: false,
        },
        // The secret itself, as the body's top-level string field `secret`.
        "breakcold-legacy" => Material {
            other_proof: legacy_secret(body).is_some_and(|provided| keys.iter().any(|key| *key == provided)),
            ..Material::default()
        },
        "standard" => standard(keys, headers, body),
        // `X-Hub-Signature-256: sha256=<hex>` over the body.
        "github" => Material {
            expected: macs(&[body]),
            provided: prefixed_hex(header(&["X-Hub-Signature-256"]), b"sha256=").into_iter().collect(),
            other_proof: false,
        },
        // `Stripe-Signature: t=<t>,v1=<hex>[,v1=<hex>…]` over `{t}.{body}`.
        "stripe" => key_value(header(&["Stripe-Signature"]), "v1", |t| macs(&[t, b".", body])),
        // `X-Slack-Signature: v0=<hex>` + `X-Slack-Request-Timestamp` over `v0:{t}:{body}`.
        "slack" => Material {
            expected: header(&["X-Slack-Request-Timestamp"])
                .map(|t| macs(&[b"v0:", t, b":", body]))
                .unwrap_or_default(),
            provided: prefixed_hex(header(&["X-Slack-Signature"]), b"v0=").into_iter().collect(),
            other_proof: false,
        },
        // `X-Shopify-Hmac-Sha256: <base64>` over the body.
        "shopify" => Material {
            expected: macs(&[body]),
            provided: header(&["X-Shopify-Hmac-Sha256"]).and_then(base64_exact::<32>).into_iter().collect(),
            other_proof: false,
        },
        _ => Material::default(),
    }
}

/// The first value of any of `names` (ASCII case-insensitive), without surrounding ASCII
/// whitespace. (The crate refuses two different copies; when it does not, the first is the one.)
fn first_value<'a, N: AsRef<str>, V: AsRef<[u8]>>(headers: &'a [(N, V)], names: &[&str]) -> Option<&'a [u8]> {
    names.iter().find_map(|wanted| {
        headers
            .iter()
            .find(|(name, _)| name.as_ref().eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.as_ref().trim_ascii())
    })
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else { unreachable!("HMAC takes any key length") };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn hex_exact(text: &[u8]) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn base64_exact<const LEN: usize>(text: &[u8]) -> Option<[u8; LEN]> {
    STANDARD.decode(text).ok()?.try_into().ok()
}

fn prefixed_hex(value: Option<&[u8]>, prefix: &[u8]) -> Option<[u8; 32]> {
    hex_exact(value?.strip_prefix(prefix)?)
}

/// `t=<t>,<key>=<hex>,…`: parts split on `,` and trimmed, each split at its first `=`; the first
/// `t` is the timestamp; every `<key>` part is a signature.
fn key_value(value: Option<&[u8]>, signature_key: &str, macs: impl Fn(&[u8]) -> Vec<[u8; 32]>) -> Material {
    let Some(value) = value else { return Material::default() };
    let mut timestamp = None;
    let mut provided = Vec::new();
    for part in value.split(|byte| *byte == b',') {
        let part = part.trim_ascii();
        let Some(at) = part.iter().position(|byte| *byte == b'=') else { continue };
        let (key, entry) = (&part[..at], &part[at + 1..]);
        if key == b"t" && timestamp.is_none() {
            timestamp = Some(entry);
        } else if key == signature_key.as_bytes() {
            provided.extend(hex_exact(entry));
        }
    }
    Material { expected: timestamp.map(macs).unwrap_or_default(), provided, other_proof: false }
}

/// Standard Webhooks: `webhook-signature` (or `svix-signature`) is a whitespace-separated list of
/// `v1,<base64 HMAC>` and `v1a,<base64 Ed25519>` entries over `{id}.{t}.{body}`; HMAC keys are the
/// base64 after `whsec_`, Ed25519 public keys the base64 after `whpk_`.
fn standard<N: AsRef<str>, V: AsRef<[u8]>>(keys: &[&str], headers: &[(N, V)], body: &[u8]) -> Material {
    let header = |names: &[&str]| first_value(headers, names);
    let mut material = Material::default();
    let mut ed25519 = Vec::new();
    for entry in header(&["webhook-signature", "svix-signature"]).unwrap_or_default().split(u8::is_ascii_whitespace) {
        let Some(comma) = entry.iter().position(|byte| *byte == b',') else { continue };
        match (&entry[..comma], &entry[comma + 1..]) {
            (b"v1", signature) => material.provided.extend(base64_exact::<32>(signature)),
            (b"v1a", signature) => ed25519.extend(base64_exact::<64>(signature)),
            _ => {}
        }
    }
    let (Some(id), Some(t)) = (header(&["webhook-id", "svix-id"]), header(&["webhook-timestamp", "svix-timestamp"]))
    else {
        return material;
    };
    let message = [id, b".", t, b".", body].concat();
    for key in keys {
        if let Some(secret) = key.strip_prefix("whsec_") {
            if let Ok(secret) = STANDARD.decode(secret) {
                material.expected.push(hmac(&secret, &[&message]));
            }
        } else if let Some(public) = key.strip_prefix("whpk_") {
            let Some(public) = base64_exact::<32>(public.as_bytes()) else { continue };
            let Ok(public) = ed25519_dalek::VerifyingKey::from_bytes(&public) else { continue };
            material.other_proof |= ed25519.iter().any(|signature| {
                public.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok()
            });
        }
    }
    material
}

/// The top-level string field `secret` of a JSON object body (other values are kept raw, not
/// interpreted). `None` when the body is not such an object.
pub fn legacy_secret(body: &[u8]) -> Option<String> {
    let object: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(body).ok()?;
    serde_json::from_str::<String>(object.get("secret")?.get()).ok()
}
