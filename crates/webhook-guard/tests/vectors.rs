//! Runs the data-driven vectors of `tests/vectors/<scheme>/*.json` (written by an independent
//! Python reference, see tests/vectors/README.md) through the verifier. One test per scheme; a
//! failure names every failing vector file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use webhook_guard::providers::{AnyProvider, Pollybot};
use webhook_guard::{Event, FixedClock, Verifier};

#[derive(Debug, Deserialize)]
struct Vector {
    provider: String,
    secrets: Vec<String>,
    #[serde(default)]
    options: Options,
    tolerance: Option<u64>,
    now: i64,
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_base64: Option<String>,
    #[serde(default)]
    verify_only: bool,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    pollybot_body_only: bool,
}

#[derive(Debug, Deserialize)]
struct Expect {
    ok: Option<bool>,
    id: Option<String>,
    event_type: Option<String>,
    error: Option<String>,
}

struct Counts {
    accepted: usize,
    rejected: usize,
}

fn run_vector(path: &Path) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let vector: Vector = serde_json::from_str(&text).map_err(|e| format!("parse: {e}"))?;
    let provider = if vector.options.pollybot_body_only {
        AnyProvider::Pollybot(Pollybot::accepting_body_only())
    } else {
        AnyProvider::from_name(&vector.provider).map_err(|e| e.to_string())?
    };
    let mut builder = Verifier::builder(provider)
        .clock(FixedClock(vector.now))
        .tolerance(Duration::from_secs(vector.tolerance.unwrap_or(300)));
    for secret in &vector.secrets {
        builder = builder.secret(secret);
    }
    let verifier = builder.build().map_err(|e| format!("config: {e}"))?;
    let body = match (&vector.body, &vector.body_base64) {
        (Some(body), None) => body.clone().into_bytes(),
        (None, Some(encoded)) => {
            base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| format!("body_base64: {e}"))?
        }
        _ => return Err("exactly one of body / body_base64".into()),
    };
    let headers = vector.headers.as_slice();
    let outcome = if vector.verify_only {
        verifier.verify_signature(headers, &body).map(|verified| (verified.header_id().map(str::to_owned), None))
    } else {
        verifier
            .verify(headers, body)
            .map(|delivery| (Some(delivery.id().to_owned()), Some(delivery.event().event_type().to_owned())))
    };
    let expect = &vector.expect;
    match (outcome, expect.ok, &expect.error) {
        (Ok((id, event_type)), Some(true), None) => {
            if expect.id.is_some() && id != expect.id {
                return Err(format!("id {id:?}, expected {:?}", expect.id));
            }
            if expect.event_type.is_some() && event_type != expect.event_type {
                return Err(format!("event_type {event_type:?}, expected {:?}", expect.event_type));
            }
            Ok(true)
        }
        (Err(error), _, Some(kind)) => {
            if error.kind().as_str() == kind {
                Ok(false)
            } else {
                Err(format!("got {error}, expected {kind}"))
            }
        }
        (Ok(_), _, Some(kind)) => Err(format!("accepted, expected {kind}")),
        (Err(error), _, None) => Err(format!("rejected: {error}")),
        (Ok(_), _, None) => Err("vector expects neither ok nor an error".into()),
    }
}

fn run_scheme(scheme: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(scheme);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    let mut counts = Counts { accepted: 0, rejected: 0 };
    let mut failures = Vec::new();
    for file in &files {
        match run_vector(file) {
            Ok(true) => counts.accepted += 1,
            Ok(false) => counts.rejected += 1,
            Err(why) => {
                failures.push(format!("{scheme}/{}: {why}", file.file_name().unwrap_or_default().to_string_lossy()))
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors failed:\n{}", failures.len(), files.len(), failures.join("\n"));
    assert!(
        counts.rejected >= counts.accepted,
        "{scheme}: {} rejections < {} acceptances: add rejection vectors",
        counts.rejected,
        counts.accepted
    );
}

macro_rules! vector_tests {
    ($($test:ident => $scheme:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_scheme($scheme);
            }
        )*
    };
}

vector_tests! {
    botdog => "botdog",
    pollybot => "pollybot",
    breakcold => "breakcold",
    breakcold_legacy => "breakcold-legacy",
    standard => "standard",
    github => "github",
    stripe => "stripe",
    slack => "slack",
    shopify => "shopify",
}
