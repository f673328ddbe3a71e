//! The status table, checked over real HTTP against any Botdog receiver.
//!
//! Every adapter's tests and every example's tests run the same scenarios through these
//! functions, so the table is asserted once and the receivers only have to be started.

use std::net::{Shutdown, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::{Signer, fixture};

use crate::http_client::{HttpResponse, chunked, post, send_complete, send_raw};

/// A Botdog receiver under test: where it listens and the secret it was configured with.
#[derive(Debug, Clone)]
pub struct BotdogReceiver {
    /// The receiver's address.
    pub addr: SocketAddr,
    /// The route, e.g. `/webhooks/botdog`.
    pub path: String,
    /// The secret the receiver verifies with.
    pub secret: String,
}

/// A delivery the receiver must hand to its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The Botdog delivery id.
    pub id: String,
    /// The event type.
    pub event_type: String,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

impl BotdogReceiver {
    fn signer(&self, secret: &str) -> Signer {
        match Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[secret]) {
            Ok(signer) => signer,
            Err(error) => panic!("test secret refused: {error}"),
        }
    }

    /// Signs `body` at `timestamp` with `secret` and POSTs it.
    pub fn send(&self, body: &[u8], timestamp: i64, secret: &str) -> HttpResponse {
        let signed = self.signer(secret).sign_delivery(body, timestamp, "", None);
        match post(self.addr, &self.path, &signed.headers, body) {
            Ok(response) => response,
            Err(error) => panic!("POST {} failed: {error}", self.path),
        }
    }

    /// A valid delivery of a fixed event with the given id.
    pub fn valid_body(id: &str, event_type: &str) -> Vec<u8> {
        format!(
            r#"{{"id":"{id}","eventType":"{event_type}","timestamp":"2026-11-20T10:15:30.000Z","campaignId":"cmp_1","contactName":"Ada Lovelace","contactEmails":["ada@example.com"],"visitedAt":"2026-11-20T10:15:00.000Z"}}"#
        )
        .into_bytes()
    }

    /// Sends every row of the status table the receiver can produce without a dedup store, and
    /// asserts status and `error` kind. Returns the deliveries that had to reach the handler, in
    /// order: a valid documented event, an unknown event type, and every Botdog fixture.
    ///
    /// # Panics
    ///
    /// On the first row the receiver answers wrongly, naming it.
    pub fn check_status_table(&self) -> Vec<Expected> {
        let mut delivered = Vec::new();
        let t = now();

        let body = Self::valid_body("conf_valid_1", "LEAD_PROFILE_VISITED");
        expect_success("valid delivery", &self.send(&body, t, &self.secret));
        delivered.push(Expected { id: "conf_valid_1".into(), event_type: "LEAD_PROFILE_VISITED".into() });

        let body = Self::valid_body("conf_unknown_1", "CAMPAIGN_STARTED");
        expect_success("unknown event type (handed to the handler)", &self.send(&body, t, &self.secret));
        delivered.push(Expected { id: "conf_unknown_1".into(), event_type: "CAMPAIGN_STARTED".into() });

        for event_type in [
            "LEAD_PROFILE_VISITED",
            "LEAD_INVITATION_SENT",
            "LEAD_INVITATION_ACCEPTED",
            "LEAD_MESSAGE_SENT",
            "LEAD_MESSAGE_REPLIED",
        ] {
            let Some(fixture) = fixture("botdog", event_type) else { panic!("fixture botdog/{event_type} missing") };
            expect_success(event_type, &self.send(fixture.body.as_bytes(), t, &self.secret));
            let value: serde_json::Value = serde_json::from_str(fixture.body).unwrap_or_default();
            let id = value["id"].as_str().unwrap_or_default().to_owned();
            delivered.push(Expected { id, event_type: event_type.to_owned() });
        }

        let body = Self::valid_body("conf_missing", "LEAD_PROFILE_VISITED");
        let response = post(self.addr, &self.path, &[("Content-Type".into(), "application/json".into())], &body);
        expect_rejection("missing signature header", response, 400, "missing_signature");

        let malformed = [("X-Webhook-Signature".to_owned(), "s=deadbeef".to_owned())];
        expect_rejection(
            "malformed signature header",
            post(self.addr, &self.path, &malformed, &body),
            400,
            "malformed_signature",
        );

        let twice = self.signer(&self.secret).sign_delivery(&body, t, "", None);
        let mut duplicated = twice.headers.clone();
        duplicated.push(("X-Webhook-Signature".to_owned(), format!("t={t},s={}", "0".repeat(64))));
        expect_rejection(
            "two different signature headers",
            post(self.addr, &self.path, &duplicated, &body),
            400,
            "malformed_signature",
        );

        expect_rejection("wrong secret", Ok(self.send(&body, t, "not-the-secret")), 401, "signature_mismatch");
        let mut tampered = body.clone();
        tampered[2] ^= 0x20;
        let signed = self.signer(&self.secret).sign_delivery(&body, t, "", None);
        expect_rejection(
            "tampered body",
            post(self.addr, &self.path, &signed.headers, &tampered),
            401,
            "signature_mismatch",
        );
        expect_rejection(
            "stale timestamp",
            Ok(self.send(&body, t - 301, &self.secret)),
            401,
            "timestamp_out_of_tolerance",
        );
        expect_rejection(
            "future timestamp",
            Ok(self.send(&body, t + 301, &self.secret)),
            401,
            "timestamp_out_of_tolerance",
        );

        let wrong_shape = br#"{"id":"conf_bad","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z","contactEmails":"ada@example.com"}"#;
        let response = self.send(wrong_shape, t, &self.secret);
        expect_rejection_ref("signed known event of the wrong shape", &response, 422, "invalid_payload");
        assert_eq!(response.json()["path"], "contactEmails", "422 must name the failing path: {response:?}");
        expect_rejection(
            "signed body that is not JSON",
            Ok(self.send(b"not json", t, &self.secret)),
            422,
            "invalid_payload",
        );

        let huge = vec![b' '; 3 * 1024 * 1024];
        expect_rejection(
            "3 MiB body with Content-Length",
            Ok(self.send(&huge, t, &self.secret)),
            413,
            "body_too_large",
        );
        let chunked = self.chunked_request(&huge, t);
        let response = send_complete(self.addr, &chunked);
        expect_rejection("3 MiB chunked body", response, 413, "body_too_large");

        self.check_body_stops_halfway(t);
        expect_success(
            "a valid delivery after the broken ones",
            &self.send(&Self::valid_body("conf_valid_2", "LEAD_MESSAGE_SENT"), t, &self.secret),
        );
        delivered.push(Expected { id: "conf_valid_2".into(), event_type: "LEAD_MESSAGE_SENT".into() });
        delivered
    }

    fn chunked_request(&self, body: &[u8], timestamp: i64) -> Vec<u8> {
        let signed = self.signer(&self.secret).sign_delivery(body, timestamp, "", None);
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n",
            self.path, self.addr
        );
        for (name, value) in &signed.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(&chunked(body));
        request
    }

    /// A request whose body stops halfway (the client closes its side): the handler must not run,
    /// and the answer, if any, is not a success.
    fn check_body_stops_halfway(&self, timestamp: i64) {
        let body = Self::valid_body("conf_halfway", "LEAD_PROFILE_VISITED");
        let signed = self.signer(&self.secret).sign_delivery(&body, timestamp, "", None);
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.path,
            self.addr,
            body.len()
        );
        for (name, value) in &signed.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(&body[..body.len() / 2]);
        if let Ok(response) = send_raw(self.addr, &request, Shutdown::Write) {
            assert!(!(200..300).contains(&response.status), "a body that stopped halfway was accepted: {response:?}");
        }
    }

    /// Sends `total` valid deliveries from `clients` threads at once; every answer must be a
    /// success. Returns the deliveries sent.
    ///
    /// # Panics
    ///
    /// On any failed request or non-2xx answer.
    pub fn check_concurrent_deliveries(&self, total: usize, clients: usize) -> Vec<Expected> {
        let t = now();
        let per_client = total.div_ceil(clients);
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let receiver = self.clone();
                std::thread::spawn(move || {
                    let mut sent = Vec::new();
                    for n in 0..per_client {
                        let index = client * per_client + n;
                        if index >= total {
                            break;
                        }
                        let id = format!("conc_{index:05}");
                        let body = Self::valid_body(&id, "LEAD_MESSAGE_SENT");
                        let response = receiver.send(&body, t, &receiver.secret);
                        assert!((200..300).contains(&response.status), "delivery {id}: {response:?}");
                        sent.push(Expected { id, event_type: "LEAD_MESSAGE_SENT".into() });
                    }
                    sent
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(sent) => sent,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    }
}

impl BotdogReceiver {
    /// With deduplication on: a repeated delivery is answered 200 with
    /// `webhook-guard-duplicate: completed` without reaching the handler, and 32 simultaneous copies
    /// of one new id reach the handler once while the other 31 get 200 (completed) or 409 with
    /// `Retry-After`. Ids are unique per call (`{prefix}_…`). Returns the deliveries that reached
    /// the handler.
    ///
    /// # Panics
    ///
    /// On the first row the receiver answers wrongly, naming it.
    pub fn check_dedup_rows(&self, prefix: &str) -> Vec<Expected> {
        let t = now();
        let first = format!("{prefix}_once");
        let body = Self::valid_body(&first, "LEAD_PROFILE_VISITED");
        let response = self.send(&body, t, &self.secret);
        expect_success("first delivery of an id", &response);
        assert_eq!(response.header("webhook-guard-duplicate"), None, "first delivery marked duplicate: {response:?}");
        // A retry is re-signed with a later timestamp, as senders do.
        let response = self.send(&body, t + 1, &self.secret);
        assert_eq!(response.status, 200, "duplicate of a completed delivery: {response:?}");
        assert_eq!(response.header("webhook-guard-duplicate"), Some("completed"), "{response:?}");
        assert_eq!(response.json()["error"], "duplicate", "{response:?}");

        let raced = format!("{prefix}_raced");
        let body = Self::valid_body(&raced, "LEAD_MESSAGE_SENT");
        let responses: Vec<HttpResponse> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32).map(|_| scope.spawn(|| self.send(&body, t, &self.secret))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        let handled = responses
            .iter()
            .filter(|r| (200..300).contains(&r.status) && r.header("webhook-guard-duplicate").is_none())
            .count();
        assert_eq!(handled, 1, "32 simultaneous copies must reach the handler once: {responses:?}");
        for response in &responses {
            let duplicate = response.status == 200 && response.header("webhook-guard-duplicate") == Some("completed");
            let in_flight = response.status == 409 && response.header("retry-after").is_some();
            let handler = (200..300).contains(&response.status) && response.header("webhook-guard-duplicate").is_none();
            assert!(duplicate || in_flight || handler, "unexpected answer to a raced copy: {response:?}");
        }
        vec![
            Expected { id: first, event_type: "LEAD_PROFILE_VISITED".into() },
            Expected { id: raced, event_type: "LEAD_MESSAGE_SENT".into() },
        ]
    }

    /// With deduplication on and a handler that answers 500 to ids starting with `fail_once_` the
    /// first time it sees them: the failed delivery is released, and its retry reaches the handler
    /// and completes.
    ///
    /// # Panics
    ///
    /// When the retry is not handled, or a third copy is not a duplicate.
    pub fn check_failed_delivery_is_retried(&self, prefix: &str) {
        let t = now();
        let id = format!("fail_once_{prefix}");
        let body = Self::valid_body(&id, "LEAD_MESSAGE_REPLIED");
        let response = self.send(&body, t, &self.secret);
        assert_eq!(response.status, 500, "the handler's failure is the answer: {response:?}");
        let response = self.send(&body, t + 1, &self.secret);
        expect_success("the retry of a failed delivery reaches the handler", &response);
        assert_eq!(response.header("webhook-guard-duplicate"), None, "{response:?}");
        let response = self.send(&body, t + 2, &self.secret);
        assert_eq!(response.header("webhook-guard-duplicate"), Some("completed"), "{response:?}");
    }
}

impl BotdogReceiver {
    /// Re-sends a `LEAD_MESSAGE_SENT` delivery of `id` (re-signed each time) while it is answered
    /// 409 with `Retry-After`, for up to 5 s, and returns the first other answer: the claim of a
    /// panicked or dropped request is released in the background.
    ///
    /// # Panics
    ///
    /// When a 409 comes without `Retry-After`.
    pub fn resend_while_in_flight(&self, id: &str) -> HttpResponse {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let response = self.send(&Self::valid_body(id, "LEAD_MESSAGE_SENT"), now(), &self.secret);
            if response.status != 409 || std::time::Instant::now() > deadline {
                return response;
            }
            assert!(response.header("retry-after").is_some(), "{response:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Sends a `LEAD_MESSAGE_SENT` delivery of `id` (for a handler that is still busy with it 300 ms
    /// later, e.g. a `slow_` id), then a copy: the copy must be answered 409 `in_flight` with a
    /// `Retry-After` of 1..=60 s. Returns the first delivery's answer.
    ///
    /// # Panics
    ///
    /// When the copy is answered otherwise.
    pub fn check_copy_in_flight_gets_409(&self, id: &str) -> HttpResponse {
        let body = Self::valid_body(id, "LEAD_MESSAGE_SENT");
        let (first, copy) = std::thread::scope(|scope| {
            let first = scope.spawn(|| self.send(&body, now(), &self.secret));
            std::thread::sleep(std::time::Duration::from_millis(300));
            let copy = self.send(&body, now(), &self.secret);
            (first.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), copy)
        });
        assert_eq!(copy.status, 409, "{copy:?}");
        assert_eq!(copy.json()["error"], "in_flight", "{copy:?}");
        let retry_after: u64 = copy.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!((1..=60).contains(&retry_after), "{copy:?}");
        first
    }
}

fn expect_success(row: &str, response: &HttpResponse) {
    assert!((200..300).contains(&response.status), "{row}: expected the handler's 2xx, got {response:?}");
}

fn expect_rejection(row: &str, response: std::io::Result<HttpResponse>, status: u16, kind: &str) {
    match response {
        Ok(response) => expect_rejection_ref(row, &response, status, kind),
        Err(error) => panic!("{row}: no response: {error}"),
    }
}

fn expect_rejection_ref(row: &str, response: &HttpResponse, status: u16, kind: &str) {
    assert_eq!(response.status, status, "{row}: {response:?}");
    assert_eq!(response.json()["error"], kind, "{row}: {response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"), "{row}: {response:?}");
}
