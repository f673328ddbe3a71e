//! Property 6: arbitrary headers and bodies. `verify` returns (never panics), agrees with
//! `verify_signature` and across header sources, and its error never contains the secret.
//! Strategies: header names and signature-like values, JSON bodies that may hold the secret,
//! edits to the sender's headers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::TestCaseError;
use webhook_guard::{VerifyError, VerifyErrorKind};

use crate::cases::{
    Case, ID, NOW, SecretKind, secret_strategy, sign, signer_and_verifier, tolerance, verifying_secret,
};

/// Every header name some provider reads or sends.
const HEADER_NAMES: &[&str] = &[
    "X-Webhook-Signature",
    "X-Webhook-Timestamp",
    "X-Webhook-Delivery-Id",
    "X-Webhook-Event",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Topic",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "Content-Type",
    "User-Agent",
];

/// Field names the providers' events read.
const JSON_KEYS: &[&str] = &[
    "secret",
    "event",
    "type",
    "eventType",
    "id",
    "eventId",
    "id_space",
    "payload",
    "data",
    "object",
    "timestamp",
    "created",
    "created_at",
    "updated_at",
    "createdAt",
    "chatbotId",
    "topic",
    "api_version",
    "team_id",
];

/// A JSON value, where [`Json::Secret`] stands for the secret under test.
#[derive(Debug, Clone)]
enum Json {
    Secret,
    Text(String),
    Number(i64),
    Null,
    Object(Vec<(String, Json)>),
}

impl Json {
    fn build(&self, secret: &str) -> serde_json::Value {
        match self {
            Self::Secret => serde_json::Value::String(secret.to_owned()),
            Self::Text(text) => serde_json::Value::String(text.clone()),
            Self::Number(number) => serde_json::Value::from(*number),
            Self::Null => serde_json::Value::Null,
            Self::Object(fields) => serde_json::Value::Object(
                fields.iter().map(|(key, value)| (key.clone(), value.build(secret))).collect(),
            ),
        }
    }
}

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(JSON_KEYS).prop_map(str::to_owned), 1 => "[A-Za-z_]{1,12}"]
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Secret),
        any::<String>().prop_map(Json::Text),
        select(&["LEAD_CREATED", "lead.create", "record.created", "push", "orders/create"][..])
            .prop_map(|text| Json::Text(text.to_owned())),
        any::<i64>().prop_map(Json::Number),
        Just(Json::Null),
    ];
    leaf.prop_recursive(2, 16, 6, |inner| prop::collection::vec((json_key(), inner), 0..6).prop_map(Json::Object))
}

/// A body: arbitrary bytes, or a JSON object whose values may be the secret.
#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Json(Vec<(String, Json)>),
}

fn chaos_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Body::Bytes),
        prop::collection::vec((json_key(), json_value()), 0..8).prop_map(Body::Json),
    ]
}

/// Header values with signature-like structure: `t=…`, `s=<hex>`, `v1,<base64>`, …
fn structured_value() -> impl Strategy<Value = Vec<u8>> {
    let hex = "[0-9a-fA-F]{60,68}";
    let b64_32 = prop::collection::vec(any::<u8>(), 30..34).prop_map(|bytes| STANDARD.encode(bytes));
    let b64_64 = prop::collection::vec(any::<u8>(), 62..66).prop_map(|bytes| STANDARD.encode(bytes));
    let part = prop_oneof![
        "[0-9]{0,21}".prop_map(|t| format!("t={t}")),
        hex.prop_map(|h| format!("s={h}")),
        hex.prop_map(|h| format!("v1={h}")),
        hex.prop_map(|h| format!("v0={h}")),
        hex.prop_map(|h| format!("sha256={h}")),
        b64_32.clone().prop_map(|b| format!("v1,{b}")),
        b64_64.prop_map(|b| format!("v1a,{b}")),
        b64_32,
        "[0-9]{0,21}",
        "[ -~]{0,12}",
    ];
    (prop::collection::vec(part, 0..6), select(&[",", " ", ", ", ",,", ""][..]))
        .prop_map(|(parts, separator)| parts.join(separator).into_bytes())
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => structured_value(),
        1 => prop::collection::vec(any::<u8>(), 0..128),
        1 => "[ -~]{0,40}".prop_map(String::into_bytes),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (select(HEADER_NAMES), any::<bool>())
            .prop_map(|(name, lower)| if lower { name.to_ascii_lowercase() } else { name.to_owned() }),
        1 => "[A-Za-z0-9-]{1,24}",
        1 => any::<String>(),
    ]
}

/// A change to the sender's headers.
#[derive(Debug, Clone)]
enum Edit {
    /// Remove one header.
    Remove(Index),
    /// Replace one header's value.
    Replace(Index, Vec<u8>),
    /// Send one header a second time with another value.
    Repeat(Index, Vec<u8>),
    /// Cut one header's value short.
    Truncate(Index, Index),
    /// Flip bits of one byte of one header's value.
    Flip(Index, Index, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Remove),
        (any::<Index>(), header_value()).prop_map(|(at, value)| Edit::Replace(at, value)),
        (any::<Index>(), header_value()).prop_map(|(at, value)| Edit::Repeat(at, value)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, len)| Edit::Truncate(at, len)),
        (any::<Index>(), any::<Index>(), 1..=255u8).prop_map(|(at, byte, mask)| Edit::Flip(at, byte, mask)),
    ]
}

fn apply(headers: &mut Vec<(String, Vec<u8>)>, edit: &Edit) {
    if headers.is_empty() {
        return;
    }
    let len = headers.len();
    match edit {
        Edit::Remove(at) => {
            headers.remove(at.index(len));
        }
        Edit::Replace(at, value) => headers[at.index(len)].1.clone_from(value),
        Edit::Repeat(at, value) => {
            let name = headers[at.index(len)].0.clone();
            headers.push((name, value.clone()));
        }
        Edit::Truncate(at, cut) => {
            let value = &mut headers[at.index(len)].1;
            let keep = cut.index(value.len() + 1);
            value.truncate(keep);
        }
        Edit::Flip(at, byte, mask) => {
            let value = &mut headers[at.index(len)].1;
            if !value.is_empty() {
                let at = byte.index(value.len());
                value[at] ^= mask;
            }
        }
    }
}

/// One arbitrary request.
#[derive(Debug, Clone)]
pub(crate) struct Chaos {
    body: Body,
    timestamp: i64,
    id: String,
    /// Start from the sender's signed headers (else from none).
    signed: bool,
    edits: Vec<Edit>,
    extra: Vec<(String, Vec<u8>)>,
}

pub(crate) fn chaos() -> impl Strategy<Value = Chaos> {
    let tolerance = tolerance();
    (
        chaos_body(),
        prop_oneof![3 => (NOW - tolerance - 50)..=(NOW + tolerance + 50), 1 => any::<i64>()],
        ID,
        prop::bool::weighted(0.75),
        prop::collection::vec(edit(), 0..3),
        prop::collection::vec((header_name(), header_value()), 0..5),
    )
        .prop_map(|(body, timestamp, id, signed, edits, extra)| Chaos {
            body,
            timestamp,
            id,
            signed,
            edits,
            extra,
        })
}

/// Secrets for the leak check: long enough that they cannot turn up in a message by chance.
pub(crate) fn leak_secret(case: Case) -> BoxedStrategy<String> {
    match case.secret_kind() {
        SecretKind::Raw => "[A-Za-z0-9]{16,48}".boxed(),
        SecretKind::Whsec | SecretKind::Whsk => secret_strategy(case),
    }
}

fn check_no_leak(case: Case, secrets: &[&str], source: &str, error: &VerifyError) -> Result<(), TestCaseError> {
    let display = error.to_string();
    let debug = format!("{error:?}");
    for secret in secrets {
        prop_assert!(
            !display.contains(secret),
            "{}: {}: Display of {:?} contains the secret",
            case.label(),
            source,
            error.kind()
        );
        prop_assert!(
            !debug.contains(secret),
            "{}: {}: Debug of {:?} contains the secret",
            case.label(),
            source,
            error.kind()
        );
    }
    Ok(())
}

/// Property 6: arbitrary headers and bodies: `verify` returns (never panics), agrees with
/// `verify_signature` and across header sources, and its error never contains the secret.
pub(crate) fn arbitrary_input(case: Case, secret: &str, chaos: &Chaos) -> Result<(), TestCaseError> {
    let label = case.label();
    let (signer, verifier) = signer_and_verifier(case, secret, NOW);
    let body = match &chaos.body {
        Body::Bytes(bytes) => bytes.clone(),
        Body::Json(fields) => serde_json::to_vec(&Json::Object(fields.clone()).build(secret)).unwrap(),
    };
    let request = sign(&signer, &body, chaos.timestamp, &chaos.id);
    let mut headers: Vec<(String, Vec<u8>)> = if chaos.signed {
        request.headers.iter().map(|(name, value)| (name.clone(), value.clone().into_bytes())).collect()
    } else {
        Vec::new()
    };
    for edit in &chaos.edits {
        apply(&mut headers, edit);
    }
    headers.extend(chaos.extra.iter().cloned());
    let body = request.body;

    let verifying = verifying_secret(case, secret);
    let mut secrets = vec![secret];
    if let Some(encoded) = secret.strip_prefix("whsec_").or_else(|| secret.strip_prefix("whsk_")) {
        secrets.push(encoded);
    }
    if case.secret_kind() != SecretKind::Whsk {
        secrets.push(&verifying);
    }

    let checked = verifier.verify_signature(&headers, &body);
    let delivered = verifier.verify(&headers, body.clone());
    match (&checked, &delivered) {
        (Ok(_), Ok(_)) => {}
        (Ok(_), Err(error)) => prop_assert_eq!(
            error.kind(),
            VerifyErrorKind::InvalidPayload,
            "{}: verify_signature accepted, verify refused: {:?}",
            label,
            error
        ),
        (Err(error), Ok(_)) => {
            prop_assert!(false, "{}: verify_signature refused ({:?}), verify accepted", label, error)
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind(), "{}: verify_signature and verify disagree", label),
    }
    if let Err(error) = &checked {
        check_no_leak(case, &secrets, "verify_signature", error)?;
    }
    if let Err(error) = &delivered {
        check_no_leak(case, &secrets, "verify", error)?;
    }

    // The same request as an `http::HeaderMap`, when every header is valid there.
    let mut map = http::HeaderMap::new();
    for (name, value) in &headers {
        let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value))
        else {
            return Ok(());
        };
        map.append(name, value);
    }
    let from_map = verifier.verify(&map, body);
    prop_assert_eq!(
        from_map.as_ref().map(|_| ()).map_err(VerifyError::kind),
        delivered.as_ref().map(|_| ()).map_err(VerifyError::kind),
        "{}: HeaderMap and pairs disagree",
        label
    );
    Ok(())
}
