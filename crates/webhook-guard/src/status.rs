//! The status table ([`Rejection`]): the one mapping from outcomes to HTTP responses that every
//! adapter uses.

use std::fmt;
use std::time::Duration;

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderName, HeaderValue, StatusCode};

use crate::error::{VerifyError, VerifyErrorKind};

/// The header that marks the answer to a duplicate of a completed delivery.
pub const DUPLICATE_HEADER: HeaderName = HeaderName::from_static("webhook-guard-duplicate");

/// The longest `Retry-After` sent, in seconds: one day. A longer wait (a lease or a fail-closed
/// policy of `Duration::MAX`) is sent as this: senders cap their own schedules (Svix's last retry
/// waits 10 h), and asking for more only risks the sender giving up on the delivery.
pub const MAX_RETRY_AFTER_SECS: u64 = 24 * 3600;

/// Why a delivery was answered without calling the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// Verification failed.
    Verify(VerifyErrorKind),
    /// The delivery id was already processed successfully.
    DuplicateCompleted,
    /// The delivery id is being processed by another request right now.
    InFlight,
    /// The dedup store could not be reached; nothing was processed (fail closed).
    StoreUnavailable,
}

impl RejectionKind {
    /// The stable snake_case name used in bodies and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Verify(kind) => kind.as_str(),
            Self::DuplicateCompleted => "duplicate",
            Self::InFlight => "in_flight",
            Self::StoreUnavailable => "store_unavailable",
        }
    }

    /// The HTTP status, from the table.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Verify(kind) => kind.status(),
            Self::DuplicateCompleted => StatusCode::OK,
            Self::InFlight => StatusCode::CONFLICT,
            Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A delivery answered by webhook-guard itself: status, headers and a small JSON body, from the one
/// status table every adapter uses:
///
/// | outcome | status | note |
/// |---|---|---|
/// | delivered to the handler | handler's status | 2xx completes the dedup claim, anything else releases it |
/// | signature header missing or malformed | 400 | `missing_signature`, `malformed_signature` |
/// | no signature matched any secret | 401 | `signature_mismatch` |
/// | timestamp outside tolerance | 401 | `timestamp_out_of_tolerance` |
/// | body larger than the limit | 413 | `body_too_large`; decided while reading |
/// | body not read to its end (client stopped, connection broke, read timeout) | 400 | `body_unreadable`; the sender retries |
/// | verified, but a known event does not match its type | 422 | `invalid_payload`; the body names the failing path |
/// | duplicate of a completed delivery | 200 | `duplicate`; handler not called; header `webhook-guard-duplicate: completed` |
/// | duplicate of a delivery still in flight | 409 | `in_flight`; `Retry-After`; handler not called |
/// | dedup store unreachable | 503 | `store_unavailable`; `Retry-After`; handler not called (fail closed) |
///
/// Bodies are small JSON objects `{"error": "<kind>", "message": "…"}` (plus `"path"` for 422) built
/// from [`VerifyError`] messages, which never contain secrets, MACs or body bytes. Every rejection
/// is logged through `tracing` at `warn` with its kind by [`Rejection::log`].
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    message: String,
    path: Option<String>,
    retry_after: Option<Duration>,
}

impl Rejection {
    /// A duplicate of a delivery that was already processed: 200, handler not called.
    pub fn duplicate_completed() -> Self {
        Self {
            kind: RejectionKind::DuplicateCompleted,
            message: "this delivery was already processed".to_owned(),
            path: None,
            retry_after: None,
        }
    }

    /// A duplicate of a delivery being processed right now: 409 with `Retry-After`.
    pub fn in_flight(retry_after: Duration) -> Self {
        Self {
            kind: RejectionKind::InFlight,
            message: "this delivery is being processed; retry later".to_owned(),
            path: None,
            retry_after: Some(retry_after),
        }
    }

    /// The dedup store is unreachable: 503 with `Retry-After`.
    pub fn store_unavailable(retry_after: Duration) -> Self {
        Self {
            kind: RejectionKind::StoreUnavailable,
            message: "the deduplication store is unavailable; retry later".to_owned(),
            path: None,
            retry_after: Some(retry_after),
        }
    }

    /// Why.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The message sent in the body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The headers to send: `Content-Type`, and `Retry-After` or `webhook-guard-duplicate` where
    /// the table says so.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        if let Some(retry_after) = self.retry_after {
            // Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3), at most a day.
            let secs = retry_after.as_secs().saturating_add(u64::from(retry_after.subsec_nanos() > 0));
            headers.push((RETRY_AFTER, HeaderValue::from(secs.clamp(1, MAX_RETRY_AFTER_SECS))));
        }
        if self.kind == RejectionKind::DuplicateCompleted {
            headers.push((DUPLICATE_HEADER, HeaderValue::from_static("completed")));
        }
        headers
    }

    /// The JSON body: `{"error": "<kind>", "message": "…"}`, plus `"path"` for 422.
    pub fn body(&self) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        body.insert("error".to_owned(), self.kind.as_str().into());
        body.insert("message".to_owned(), self.message.clone().into());
        if let Some(path) = &self.path {
            body.insert("path".to_owned(), path.clone().into());
        }
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// Logs the rejection at `warn` with its kind and status.
    #[cold]
    pub fn log(&self, provider: &str) {
        tracing::warn!(
            provider,
            kind = self.kind.as_str(),
            status = self.status().as_u16(),
            "webhook delivery rejected: {}",
            self.message
        );
    }

    /// Whether the request's body was not read to its end (too large, or not received in time):
    /// what is left of it on the connection is not the start of a next request, so the answer
    /// should close the connection. [`Rejection::to_response`] then adds `Connection: close`.
    pub fn ends_connection(&self) -> bool {
        matches!(self.kind, RejectionKind::Verify(VerifyErrorKind::BodyTooLarge | VerifyErrorKind::BodyUnreadable))
    }

    /// The whole response, with a body built by `body`: the status, [`Rejection::headers`], and
    /// `Connection: close` when the rejection [ends the connection](Rejection::ends_connection).
    pub fn to_response<B>(&self, body: impl FnOnce(Vec<u8>) -> B) -> http::Response<B> {
        let mut response = http::Response::new(body(self.body()));
        *response.status_mut() = self.status();
        response.headers_mut().extend(self.headers());
        if self.ends_connection() {
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<VerifyError> for Rejection {
    fn from(error: VerifyError) -> Self {
        Self {
            kind: RejectionKind::Verify(error.kind()),
            path: error.path().map(str::to_owned),
            message: error.message().to_owned(),
            retry_after: None,
        }
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("path", &self.path)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PayloadError;

    fn header(rejection: &Rejection, name: &str) -> Option<String> {
        rejection.headers().into_iter().find(|(n, _)| n.as_str() == name).map(|(_, v)| v.to_str().unwrap().to_owned())
    }

    fn body(rejection: &Rejection) -> serde_json::Value {
        serde_json::from_slice(&rejection.body()).unwrap()
    }

    #[test]
    fn row_missing_signature_is_400() {
        let rejection = Rejection::from(VerifyError::missing("X-Webhook-Signature"));
        assert_eq!(rejection.status(), 400);
        assert_eq!(
            body(&rejection),
            serde_json::json!({"error": "missing_signature", "message": "header `X-Webhook-Signature` is missing"})
        );
        assert_eq!(header(&rejection, "content-type").as_deref(), Some("application/json"));
    }

    #[test]
    fn row_malformed_signature_is_400() {
        let rejection = Rejection::from(VerifyError::malformed("X-Webhook-Signature", "has no `t=` timestamp"));
        assert_eq!(rejection.status(), 400);
        assert_eq!(body(&rejection)["error"], "malformed_signature");
    }

    #[test]
    fn row_signature_mismatch_is_401() {
        let rejection = Rejection::from(VerifyError::mismatch());
        assert_eq!(rejection.status(), 401);
        assert_eq!(body(&rejection)["error"], "signature_mismatch");
    }

    #[test]
    fn row_timestamp_out_of_tolerance_is_401() {
        let error = VerifyError::new(VerifyErrorKind::TimestampOutOfTolerance, "timestamp is 400 s in the past");
        let rejection = Rejection::from(error);
        assert_eq!(rejection.status(), 401);
        assert_eq!(body(&rejection)["error"], "timestamp_out_of_tolerance");
    }

    #[test]
    fn row_body_too_large_is_413() {
        let rejection = Rejection::from(VerifyError::too_large(262_144));
        assert_eq!(rejection.status(), 413);
        assert_eq!(body(&rejection)["message"], "body is larger than the limit of 262144 bytes");
    }

    #[test]
    fn row_body_unreadable_is_400() {
        let rejection = Rejection::from(VerifyError::unreadable("the read timed out"));
        assert_eq!(rejection.status(), 400);
        assert_eq!(
            body(&rejection),
            serde_json::json!({"error": "body_unreadable", "message": "the body could not be read: the read timed out"})
        );
    }

    #[test]
    fn row_invalid_payload_is_422_and_names_the_path() {
        let error = VerifyError::payload(PayloadError::new("data.taskId", "missing field `taskId` at `data`"));
        let rejection = Rejection::from(error);
        assert_eq!(rejection.status(), 422);
        assert_eq!(
            body(&rejection),
            serde_json::json!({"error": "invalid_payload", "message": "missing field `taskId` at `data`", "path": "data.taskId"})
        );
    }

    #[test]
    fn row_duplicate_completed_is_200_with_the_marker_header() {
        let rejection = Rejection::duplicate_completed();
        assert_eq!(rejection.status(), 200);
        assert_eq!(header(&rejection, "webhook-guard-duplicate").as_deref(), Some("completed"));
        assert_eq!(header(&rejection, "retry-after"), None);
        assert_eq!(body(&rejection)["error"], "duplicate");
    }

    #[test]
    fn row_in_flight_is_409_with_retry_after() {
        let rejection = Rejection::in_flight(Duration::from_millis(2_500));
        assert_eq!(rejection.status(), 409);
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("3"));
        assert_eq!(header(&rejection, "webhook-guard-duplicate"), None);
    }

    #[test]
    fn row_store_unavailable_is_503_with_retry_after() {
        let rejection = Rejection::store_unavailable(Duration::ZERO);
        assert_eq!(rejection.status(), 503);
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("1"));
        assert_eq!(body(&rejection)["error"], "store_unavailable");
    }

    #[test]
    fn retry_after_is_clamped_to_a_day_without_overflowing() {
        let rejection = Rejection::store_unavailable(Duration::MAX);
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("86400"));
        let rejection = Rejection::in_flight(Duration::from_secs(86_399) + Duration::from_millis(1));
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("86400"));
    }

    #[test]
    fn only_answers_to_bodies_not_read_to_their_end_close_the_connection() {
        let connection = |rejection: Rejection| {
            assert_eq!(
                rejection.ends_connection(),
                rejection.to_response(|body| body).headers().contains_key("connection")
            );
            rejection.to_response(|body| body).headers().get(http::header::CONNECTION).cloned()
        };
        assert_eq!(connection(Rejection::from(VerifyError::too_large(10))).unwrap(), "close");
        let unreadable = VerifyError::new(VerifyErrorKind::BodyUnreadable, "the body was not received in time");
        assert_eq!(connection(Rejection::from(unreadable)).unwrap(), "close");
        assert_eq!(connection(Rejection::from(VerifyError::mismatch())), None);
        assert_eq!(connection(Rejection::duplicate_completed()), None);
        // The header list (what actix-web sends) does not carry it: actix-web drains bodies itself.
        assert!(Rejection::from(VerifyError::too_large(10)).headers().iter().all(|(name, _)| name != "connection"));
    }

    #[test]
    fn responses_carry_status_headers_and_body() {
        let response = Rejection::in_flight(Duration::from_secs(5)).to_response(|body| body);
        assert_eq!(response.status(), 409);
        assert_eq!(response.headers()["retry-after"], "5");
        assert_eq!(serde_json::from_slice::<serde_json::Value>(response.body()).unwrap()["error"], "in_flight");
    }
}
