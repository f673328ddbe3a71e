//! `Verifier::explain`: why a delivery fails, in words, without printing a secret.

use std::fmt;

/// A step-by-step account of a verification, for people (the CLI's `verify --explain`).
///
/// Lines name headers, counts, key numbers (`secret #2`), clock skew and layouts; never a secret,
/// an expected MAC or body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    lines: Vec<String>,
}

impl Explanation {
    /// The lines, in order.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

use crate::event::peek_str_field;
use crate::headers::HeaderSource;
use crate::provider::Provider;
use crate::scheme::check::{self, Material, Window};
use crate::scheme::{Encoding, SchemeKind, SignatureFormat, SignedContent, SignedScheme};
use crate::verifier::Verifier;

/// Layouts other senders use: when the signature matches one of these instead of the provider's,
/// the receiver is probably configured with the wrong provider.
const OTHER_LAYOUTS: &[&str] = &["{body}", "{t}.{body}", "{body}{t}", "{t}{body}", "{id}.{t}.{body}", "v0:{t}:{body}"];

impl<P: Provider> Verifier<P> {
    /// Explains, step by step, what verifying this delivery finds: which headers were read, how
    /// many signatures decoded, which key (by number) matches through which layout, the clock
    /// skew, and, when nothing matches, likely causes (a body re-serialized on the way, a trailing
    /// newline, another sender's layout). Never prints a secret, an expected MAC or body bytes.
    pub fn explain<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Explanation {
        let mut lines = Vec::new();
        let provider = self.provider();
        lines.push(format!("provider: {} ({} key(s) configured)", provider.name(), self.keyring().len()));
        lines.push(format!("body: {} bytes (limit {})", body.len(), self.body_limit()));
        if body.len() > self.body_limit() {
            lines.push("body is larger than the limit: rejected before any check".to_owned());
        }
        match &provider.scheme().kind {
            SchemeKind::Signed(scheme) => self.explain_signed(scheme, headers, body, &mut lines),
            SchemeKind::SecretInBody { field } => self.explain_secret_in_body(field, body, &mut lines),
        }
        match self.verify(headers, body.to_vec()) {
            Ok(delivery) => {
                if let Some(name) = provider.event_type_header() {
                    lines.push(format!("event type: from `{name}`, which the signature does not cover"));
                }
                lines.push(format!(
                    "result: accepted (id {}, event type {:?})",
                    delivery.id(),
                    crate::Event::event_type(delivery.event())
                ));
            }
            Err(error) => lines.push(format!("result: rejected: {error}")),
        }
        Explanation { lines }
    }

    fn explain_signed<H: HeaderSource + ?Sized>(
        &self,
        scheme: &SignedScheme,
        headers: &H,
        body: &[u8],
        lines: &mut Vec<String>,
    ) {
        let layouts: Vec<String> = scheme.contents.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "scheme: signature in `{}`, signed bytes {}",
            scheme.signature_headers.join("` or `"),
            layouts.join(" or ")
        ));
        let material = match check::read_material(scheme, headers) {
            Ok(material) => material,
            Err(error) => {
                lines.push(format!("headers: {}", error.message()));
                return;
            }
        };
        let expected = match (&scheme.format, scheme.encoding) {
            (SignatureFormat::Versioned { .. }, _) | (_, Encoding::Base64) => "44 base64 characters",
            (_, Encoding::Hex) => "64 hex digits",
        };
        lines.push(format!(
            "signatures: {} decoded, {} could not be decoded (each must be {expected})",
            material.provided.hmac.len() + material.provided.ed25519.len(),
            material.provided.undecodable
        ));
        if let Some((_, timestamp)) = material.timestamp {
            let now = self.now_unix();
            let skew = i128::from(now) - i128::from(timestamp);
            let within =
                check::check_window(timestamp, Window { now, tolerance_secs: self.tolerance().as_secs() }).is_ok();
            lines.push(format!(
                "timestamp: {timestamp}, now {now}: {} s {}, tolerance {} s: {}",
                skew.unsigned_abs(),
                if skew >= 0 { "in the past" } else { "in the future" },
                self.tolerance().as_secs(),
                if within { "within" } else { "OUTSIDE (check this machine's clock, or --now)" }
            ));
        } else if scheme.has_timestamp() {
            lines.push("timestamp: none (body-only signatures have no replay protection)".to_owned());
        } else {
            lines.push("timestamp: this sender signs none (no replay protection)".to_owned());
        }
        if let Some(id) = material.id {
            lines.push(format!("id: {id}"));
        }
        let mut any = false;
        for (index, key) in self.keyring().hmac_keys() {
            let matched: Vec<String> = scheme
                .contents
                .iter()
                .filter(|content| check::hmac_matches(content, key, &material, body))
                .map(ToString::to_string)
                .collect();
            any |= !matched.is_empty();
            lines.push(match matched.first() {
                Some(layout) => format!("secret #{}: matches ({layout})", index + 1),
                None => format!("secret #{}: no match", index + 1),
            });
        }
        #[cfg(feature = "standard")]
        for (index, key) in self.keyring().ed25519_keys() {
            let matched = scheme.contents.iter().any(|content| check::ed25519_matches(content, key, &material, body));
            any |= matched;
            lines.push(format!("Ed25519 key #{}: {}", index + 1, if matched { "matches" } else { "no match" }));
        }
        if !any {
            self.explain_mismatch(scheme, &material, body, lines);
        }
    }

    /// Looks for the usual reasons a correct secret does not match.
    fn explain_mismatch(&self, scheme: &SignedScheme, material: &Material<'_>, body: &[u8], lines: &mut Vec<String>) {
        let keyring = self.keyring();
        let mut variants: Vec<(&str, Vec<u8>)> = Vec::new();
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            variants.push(("re-serialized as compact JSON", serde_json::to_vec(&value).unwrap_or_default()));
            variants.push(("re-serialized as pretty JSON", serde_json::to_vec_pretty(&value).unwrap_or_default()));
        }
        let trimmed = body.trim_ascii_end();
        if trimmed.len() != body.len() {
            variants.push(("without its trailing whitespace", trimmed.to_vec()));
        }
        variants.push(("with a trailing newline", [body, b"\n"].concat()));
        for (how, variant) in variants {
            if variant != body && check::match_signatures(scheme, keyring, material, &variant).is_some() {
                lines.push(format!(
                    "hint: the signature matches the body {how}: something between the sender and this check \
                     changed the bytes; verify the raw body exactly as received"
                ));
                return;
            }
        }
        for layout in OTHER_LAYOUTS {
            let Ok(content) = SignedContent::parse(layout) else { continue };
            if scheme.contents.contains(&content) {
                continue;
            }
            let matches = keyring.hmac_keys().iter().any(|(_, key)| check::hmac_matches(&content, key, material, body));
            if matches {
                lines.push(format!(
                    "hint: the signature matches the layout {layout}, not {}: is this the right provider \
                     (or, for Pollybot, should body-only signatures be accepted)?",
                    scheme.contents.first().map(ToString::to_string).unwrap_or_default()
                ));
                return;
            }
        }
        lines.push(
            "hint: no key matches: check the secret is the endpoint's current signing secret, entered exactly \
             as the sender shows it (Standard Webhooks secrets start with whsec_; others are used as raw text)"
                .to_owned(),
        );
    }

    fn explain_secret_in_body(&self, field: &str, body: &[u8], lines: &mut Vec<String>) {
        lines.push(format!("scheme: the shared secret travels in the body field `{field}`"));
        let digest = match std::str::from_utf8(body).ok().map(|_| peek_str_field(body, field)) {
            Some(Ok(Some(provided))) => {
                use sha2::Digest as _;
                <[u8; 32]>::from(sha2::Sha256::digest(provided.as_bytes()))
            }
            Some(Ok(None)) => {
                lines.push(format!("body field `{field}`: missing"));
                return;
            }
            _ => {
                lines.push(format!("body: not a JSON object with a string `{field}`"));
                return;
            }
        };
        for (index, key) in self.keyring().hmac_keys() {
            let matched = check::secret_digest_matches(&digest, key);
            lines.push(format!("secret #{}: {}", index + 1, if matched { "matches" } else { "no match" }));
        }
    }
}

#[cfg(test)]
#[cfg(all(feature = "testing", feature = "botdog", feature = "pollybot"))]
mod tests {
    use crate::providers::{AnyProvider, Botdog, Pollybot};
    use crate::testing::Signer;
    use crate::{FixedClock, Verifier};

    const SECRET: &str = "explain-test-secret";
    const BODY: &str = r#"{"id": "e1", "eventType": "LEAD_PROFILE_VISITED", "timestamp": "2026-11-20T10:15:30Z"}"#;

    fn explain(provider: AnyProvider, body: &[u8], headers: &[(String, String)], now: i64) -> String {
        let verifier =
            Verifier::builder(provider).secret("old-secret").secret(SECRET).clock(FixedClock(now)).build().unwrap();
        verifier.explain(headers, body).to_string()
    }

    fn signed(provider: &AnyProvider, body: &str) -> Vec<(String, String)> {
        Signer::for_provider(provider, &[SECRET]).unwrap().sign_delivery(body.as_bytes(), 1_000, "id", None).headers
    }

    #[test]
    fn a_matching_delivery_names_the_key_and_the_result() {
        let botdog = AnyProvider::Botdog(Botdog::new());
        let text = explain(botdog.clone(), BODY.as_bytes(), &signed(&botdog, BODY), 1_010);
        assert!(text.contains("secret #1: no match\nsecret #2: matches ({t}.{body})"), "{text}");
        assert!(text.contains("10 s in the past, tolerance 300 s: within"), "{text}");
        assert!(text.contains("result: accepted (id e1"), "{text}");
        assert!(!text.contains(SECRET));
    }

    #[test]
    fn a_reserialized_body_is_recognised() {
        let botdog = AnyProvider::Botdog(Botdog::new());
        // Senders sign compact JSON (`JSON.stringify`); a proxy or framework pretty-printed it.
        let value = serde_json::from_str::<serde_json::Value>(BODY).unwrap();
        let compact = serde_json::to_string(&value).unwrap();
        let headers = signed(&botdog, &compact);
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let text = explain(botdog, &pretty, &headers, 1_000);
        assert!(text.contains("hint: the signature matches the body re-serialized as compact JSON"), "{text}");
        assert!(text.contains("result: rejected: signature_mismatch"), "{text}");
    }

    #[test]
    fn skew_and_layout_problems_are_named() {
        let botdog = AnyProvider::Botdog(Botdog::new());
        let text = explain(botdog.clone(), BODY.as_bytes(), &signed(&botdog, BODY), 2_000);
        assert!(text.contains("1000 s in the past, tolerance 300 s: OUTSIDE"), "{text}");
        assert!(text.contains("result: rejected: timestamp_out_of_tolerance"), "{text}");

        // Signed the body-only way, checked by the default Pollybot (timestamp-bound) reading.
        let body_only = AnyProvider::Pollybot(Pollybot::accepting_body_only());
        let strict = AnyProvider::Pollybot(Pollybot::new());
        let mut headers = signed(&strict, BODY);
        let _ = body_only;
        let github = AnyProvider::from_name("github").unwrap();
        let github_signature = signed(&github, BODY).into_iter().find(|(n, _)| n == "X-Hub-Signature-256").unwrap();
        for (name, value) in &mut headers {
            if name == "X-Webhook-Signature" {
                value.clone_from(&github_signature.1);
            }
        }
        let text = explain(strict, BODY.as_bytes(), &headers, 1_000);
        assert!(text.contains("hint: the signature matches the layout {body}, not {body}{t}"), "{text}");
    }

    #[test]
    fn missing_headers_are_named() {
        let text = explain(AnyProvider::Botdog(Botdog::new()), BODY.as_bytes(), &[], 1_000);
        assert!(text.contains("headers: header `X-Webhook-Signature` is missing"), "{text}");
        assert!(text.contains("result: rejected: missing_signature"), "{text}");
    }

    #[test]
    #[cfg(feature = "github")]
    fn an_event_type_from_an_unsigned_header_is_pointed_out() {
        let github = AnyProvider::from_name("github").unwrap();
        let text = explain(github.clone(), BODY.as_bytes(), &signed(&github, BODY), 1_000);
        assert!(
            text.contains("event type: from `X-GitHub-Event`, which the signature does not cover\nresult: accepted"),
            "{text}"
        );
        let botdog = AnyProvider::Botdog(Botdog::new());
        let text = explain(botdog.clone(), BODY.as_bytes(), &signed(&botdog, BODY), 1_000);
        assert!(text.contains("result: accepted") && !text.contains("event type: from"), "{text}");
    }
}
