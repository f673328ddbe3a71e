//! Writes the seed corpora of every fuzz target from the committed payload fixtures and test
//! vectors, so nothing generated is committed:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus -- fuzz/corpus
//! ```
//!
//! - every vector (`crates/webhook-guard/tests/vectors/<scheme>/*.json`, accepted and refused):
//!   its whole request for `verify_any`, its signature header for the per-format target, its body
//!   for `parse_events` (and `legacy_secret`);
//! - every fixture (`crates/webhook-guard/fixtures/`): its body for `parse_events`, and the body
//!   signed with the first secret of the fuzz keyring (and, where a header holds several, with two)
//!   for `verify_any` and the per-format target.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use webhook_guard::testing::{Signer, all_fixtures};
use webhook_guard_fuzz::input::{Delivery, FLAG_EXPLAIN, FLAG_HEADER_MAP, SignatureInput};
use webhook_guard_fuzz::keyrings::{self, SIGNED_AT, SIGNED_ID};
use webhook_guard_fuzz::reference;

/// The per-format target of a case, and the header whose value it fuzzes.
fn signature_target(case: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match case {
        "botdog" => ("sig_botdog", &["X-Webhook-Signature"]),
        "pollybot" | "breakcold" => ("sig_sha256", &["X-Webhook-Signature"]),
        "github" => ("sig_sha256", &["X-Hub-Signature-256"]),
        "standard" => ("sig_standard", &["webhook-signature", "svix-signature"]),
        "stripe" => ("sig_stripe", &["Stripe-Signature"]),
        "slack" => ("sig_slack", &["X-Slack-Signature"]),
        "shopify" => ("sig_shopify", &["X-Shopify-Hmac-Sha256"]),
        _ => return None,
    })
}

struct Corpus {
    root: PathBuf,
    written: usize,
    /// Per case: seeds the crate accepts, and seeds whose signature the reference matches.
    verdicts: Vec<(usize, usize)>,
}

impl Corpus {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir)?;
        let name: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        std::fs::write(dir.join(name), bytes)?;
        self.written += 1;
        Ok(())
    }

    /// The seeds of one request to `case`.
    fn request(
        &mut self,
        case: &str,
        name: &str,
        now: i64,
        headers: &[(String, String)],
        body: &[u8],
        flags: u8,
    ) -> std::io::Result<()> {
        let known: Vec<(&'static str, Vec<u8>)> = headers
            .iter()
            .filter_map(|(header, value)| {
                let index = webhook_guard_fuzz::input::header_index(header)?;
                Some((webhook_guard_fuzz::input::HEADER_NAMES[usize::from(index)], value.as_bytes().to_vec()))
            })
            .collect();
        // With `explain`, explain this case's verifier.
        let index = keyrings::CASES.iter().position(|known| *known == case).unwrap_or_default();
        let flags =
            if flags & FLAG_EXPLAIN != 0 { flags | u8::try_from(index << 2).unwrap_or_default() } else { flags };
        let delivery = Delivery { now, flags, headers: known, body: body.to_vec() };
        self.write("verify_any", name, &delivery.encode())?;
        // Before any fuzzing: the crate and the reference verifier agree on every seed.
        keyrings::set_now(now);
        let pairs: Vec<(&str, &[u8])> = delivery.headers.iter().map(|(name, value)| (*name, &value[..])).collect();
        for (index, case) in keyrings::CASES.iter().enumerate() {
            let accepted = keyrings::verifier(case).verify_signature(&pairs[..], body);
            let matched = reference::matches(case, &pairs, body);
            let refused_as_mismatch =
                accepted.as_ref().is_err_and(|error| error.kind() == webhook_guard::VerifyErrorKind::SignatureMismatch);
            if (accepted.is_ok() && !matched) || (refused_as_mismatch && matched) {
                return Err(std::io::Error::other(format!(
                    "{name}: {case}: the crate says {accepted:?}, the reference {matched}"
                )));
            }
            self.verdicts[index].0 += usize::from(accepted.is_ok());
            self.verdicts[index].1 += usize::from(matched);
        }
        if let Some((target, names)) = signature_target(case) {
            let value = headers.iter().find(|(header, _)| names.iter().any(|n| n.eq_ignore_ascii_case(header)));
            if let Some((_, value)) = value {
                let input = SignatureInput { now, value: value.as_bytes().to_vec(), body: body.to_vec() };
                self.write(target, name, &input.encode())?;
            }
        }
        if case == "breakcold-legacy" {
            self.write("legacy_secret", name, body)?;
        }
        self.write("parse_events", name, body)
    }
}

fn vectors(corpus: &mut Corpus, dir: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let mut count = 0;
    let mut files: Vec<PathBuf> = Vec::new();
    for scheme in std::fs::read_dir(dir)? {
        let scheme = scheme?.path();
        if scheme.is_dir() {
            for file in std::fs::read_dir(&scheme)? {
                files.push(file?.path());
            }
        }
    }
    files.sort();
    for file in files.iter().filter(|file| file.extension().is_some_and(|ext| ext == "json")) {
        let vector: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
        let field = |key: &str| vector.get(key).ok_or_else(|| format!("{}: no `{key}`", file.display()));
        let provider = field("provider")?.as_str().unwrap_or_default();
        let body_only =
            vector.pointer("/options/pollybot_body_only").and_then(serde_json::Value::as_bool) == Some(true);
        let case = if body_only { "pollybot-body-only" } else { provider };
        let now = field("now")?.as_i64().unwrap_or(SIGNED_AT);
        let headers: Vec<(String, String)> = serde_json::from_value(field("headers")?.clone())?;
        let body = match (vector.get("body"), vector.get("body_base64")) {
            (Some(body), _) => body.as_str().unwrap_or_default().as_bytes().to_vec(),
            (_, Some(encoded)) => {
                base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap_or_default())?
            }
            _ => Vec::new(),
        };
        let stem = file.file_stem().and_then(|stem| stem.to_str()).unwrap_or("vector");
        let flags =
            if count % 3 == 0 { FLAG_EXPLAIN | FLAG_HEADER_MAP } else { u8::from(count % 3 == 1) * FLAG_EXPLAIN };
        corpus.request(case, &format!("vector-{provider}-{stem}"), now, &headers, &body, flags)?;
        count += 1;
    }
    Ok(count)
}

fn fixtures(corpus: &mut Corpus) -> Result<usize, Box<dyn std::error::Error>> {
    let mut count = 0;
    for fixture in all_fixtures() {
        let case = fixture.provider;
        let provider = keyrings::provider(case);
        let secrets = keyrings::secrets(case);
        let name = format!("fixture-{case}-{}", fixture.event_type);
        let one = Signer::for_provider(&provider, &secrets[..1])?;
        let signed = one.sign_delivery(fixture.body.as_bytes(), SIGNED_AT, SIGNED_ID, Some(fixture.event_type));
        let flags = if count % 2 == 0 { FLAG_EXPLAIN } else { FLAG_HEADER_MAP };
        corpus.request(case, &name, SIGNED_AT, &signed.headers, &signed.body, flags)?;
        if matches!(case, "botdog" | "standard" | "stripe") {
            // Rotation: one header carrying a signature per secret.
            let two = Signer::for_provider(&provider, &secrets[..2])?;
            let signed = two.sign_delivery(fixture.body.as_bytes(), SIGNED_AT, SIGNED_ID, Some(fixture.event_type));
            corpus.request(case, &format!("{name}-rotated"), SIGNED_AT, &signed.headers, &signed.body, 0)?;
        }
        count += 1;
    }
    Ok(count)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")), PathBuf::from);
    let vector_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/webhook-guard/tests/vectors");
    let mut corpus = Corpus { root, written: 0, verdicts: vec![(0, 0); keyrings::CASES.len()] };
    let vectors = vectors(&mut corpus, &vector_dir)?;
    let fixtures = fixtures(&mut corpus)?;
    if vectors == 0 || fixtures == 0 {
        return Err(format!("found {vectors} vectors and {fixtures} fixtures: expected both").into());
    }
    println!(
        "seed_corpus: {} seeds from {vectors} vectors and {fixtures} fixtures in {}",
        corpus.written,
        corpus.root.display()
    );
    println!("seed_corpus: verify_any seeds accepted by the crate / matched by the reference, per verifier:");
    for (case, (accepted, matched)) in keyrings::CASES.iter().zip(&corpus.verdicts) {
        println!("  {case:<20} {accepted:>4} / {matched:>4}");
    }
    Ok(())
}
