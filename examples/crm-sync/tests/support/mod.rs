//! What the end-to-end tests share: the five senders (signing as each really does), delivery with
//! racing copies and retries as senders do, and direct SQL on the database crm-sync writes.

#![allow(clippy::unwrap_used, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use webhook_guard::providers::{Botdog, Breakcold, BreakcoldLegacy, Pollybot, Standard};
use webhook_guard::testing::{SignedRequest, Signer};
use webhook_guard_test_support::http_client::{HttpResponse, post};

pub(crate) mod bodies;
pub(crate) mod db;

/// Each sender's secret, by environment variable.
pub(crate) const SECRETS: [(&str, &str); 5] = [
    ("BOTDOG_SECRET", "botdog_crm_sync_test"),
    ("POLLYBOT_SECRET", "whsec_pollybot_crm_sync_test"),
    ("BREAKCOLD_SECRET", "breakcold_crm_sync_test"),
    ("BREAKCOLD_LEGACY_SECRET", "wh_legacy_crm_sync_test"),
    // 24 bytes, base64: Standard Webhooks secrets are `whsec_<base64>`.
    ("STANDARD_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
];

/// The five senders, as their names.
pub(crate) const PROVIDERS: [&str; 5] = ["botdog", "pollybot", "breakcold", "breakcold-legacy", "standard"];

/// One sender: where crm-sync receives it and how it signs.
pub(crate) struct Sender {
    pub(crate) provider: &'static str,
    pub(crate) path: String,
    signer: Signer,
}

impl Sender {
    pub(crate) fn new(provider: &'static str) -> Self {
        let secret = |variable: &str| SECRETS.iter().find(|(name, _)| *name == variable).unwrap().1;
        let signer = match provider {
            "botdog" => Signer::for_provider(&Botdog::new(), &[secret("BOTDOG_SECRET")]),
            "pollybot" => Signer::for_provider(&Pollybot::new(), &[secret("POLLYBOT_SECRET")]),
            "breakcold" => Signer::for_provider(&Breakcold::new(), &[secret("BREAKCOLD_SECRET")]),
            "breakcold-legacy" => Signer::for_provider(&BreakcoldLegacy::new(), &[secret("BREAKCOLD_LEGACY_SECRET")]),
            _ => Signer::for_provider(&Standard::new(), &[secret("STANDARD_SECRET")]),
        }
        .unwrap();
        Self { provider, path: format!("/webhooks/{provider}"), signer }
    }

    /// Signs `event` now, as the sender signs each attempt.
    pub(crate) fn sign(&self, event: &Event) -> SignedRequest {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        self.signer.sign_delivery(&event.body, i64::try_from(now).unwrap(), &event.id, None)
    }

    /// Sends one attempt of `event`.
    pub(crate) fn send(&self, addr: SocketAddr, event: &Event) -> HttpResponse {
        let request = self.sign(event);
        post(addr, &self.path, &request.headers, &request.body).unwrap()
    }

    /// Delivers `event` as a sender does: `copies` attempts at once, then, while none was
    /// acknowledged (2xx), one attempt after another as the sender retries. The statuses of all
    /// attempts.
    pub(crate) fn deliver(&self, addr: SocketAddr, event: &Event, copies: usize) -> Vec<u16> {
        let mut statuses: Vec<u16> = std::thread::scope(|scope| {
            let attempts: Vec<_> = (0..copies).map(|_| scope.spawn(|| self.send(addr, event).status)).collect();
            attempts.into_iter().map(|attempt| attempt.join().unwrap()).collect()
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        while !statuses.iter().any(|status| (200..300).contains(status)) {
            assert!(Instant::now() < deadline, "{} {}: never acknowledged: {statuses:?}", self.provider, event.id);
            std::thread::sleep(Duration::from_millis(50));
            statuses.push(self.send(addr, event).status);
        }
        statuses
    }
}

/// One event: its id (where the sender writes it) and its body.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) provider: &'static str,
    pub(crate) event_type: String,
    pub(crate) id: String,
    pub(crate) body: Vec<u8>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh id, unique in this test process: `{prefix}_{n}`.
pub(crate) fn fresh_id(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Where each sender writes the event's id in its body (Standard Webhooks: only the header).
pub(crate) fn id_pointer(provider: &str) -> Option<&'static str> {
    match provider {
        "botdog" => Some("/id"),
        "pollybot" => Some("/data/id"),
        "breakcold" => Some("/eventId"),
        "breakcold-legacy" => Some("/payload/id"),
        _ => None,
    }
}

impl Event {
    /// `body` as a new event of `provider` with a fresh id written where the sender writes it.
    pub(crate) fn new(provider: &'static str, mut body: Value) -> Self {
        let id = fresh_id(&provider.replace('-', "_"));
        if provider == "breakcold-legacy" {
            // The guard derives a legacy id from `payload.id` and `updated_at`/`created_at`, and
            // falls back to the body's digest without them: give every payload a date, so each
            // event's id contains the id written here.
            let payload = body.get_mut("payload").and_then(Value::as_object_mut).unwrap();
            if !payload.contains_key("updated_at") && !payload.contains_key("created_at") {
                payload.insert("created_at".into(), Value::from("2026-11-20T10:00:00Z"));
            }
        }
        if let Some(slot) = id_pointer(provider).and_then(|pointer| body.pointer_mut(pointer)) {
            *slot = Value::from(id.clone());
        }
        let event_type = ["eventType", "event", "type"]
            .iter()
            .find_map(|field| body.get(*field).and_then(Value::as_str))
            .unwrap()
            .to_owned();
        Self { provider, event_type, id, body: serde_json::to_vec(&body).unwrap() }
    }

    /// Whether an activity's `delivery_id` is this event's: the id itself, or (Pollybot and
    /// Breakcold legacy, whose ids crm-sync's guard derives from the lead id) one containing it.
    pub(crate) fn owns(&self, delivery_id: &str) -> bool {
        delivery_id == self.id || delivery_id.contains(&format!(":{}:", self.id))
    }
}

/// A fixture's body as JSON.
pub(crate) fn fixture(provider: &str, event_type: &str) -> Value {
    let fixture =
        webhook_guard::testing::fixture(provider, event_type).unwrap_or_else(|| panic!("{provider} {event_type}"));
    serde_json::from_str(fixture.body).unwrap()
}
