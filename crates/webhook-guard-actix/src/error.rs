//! [`WebhookError`]: a rejected delivery, answered from the core's status table.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use webhook_guard::{Rejection, VerifyError};

/// Why the [`Webhook`](crate::Webhook) extractor refused a delivery. It answers with the status,
/// headers and JSON body the core's status table ([`Rejection`](webhook_guard::Rejection)) gives its
/// [`Rejection`]; this type only translates them into actix-web's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    rejection: Rejection,
}

impl WebhookError {
    /// The core's rejection: its kind, message, status and headers.
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// The core's rejection, by value.
    pub fn into_rejection(self) -> Rejection {
        self.rejection
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        // actix-web 4 uses `http` 0.2; the core uses 1.x. Every status in the table exists in both.
        StatusCode::from_u16(self.rejection.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Rejection> for WebhookError {
    fn from(rejection: Rejection) -> Self {
        Self { rejection }
    }
}

impl From<VerifyError> for WebhookError {
    fn from(error: VerifyError) -> Self {
        Self { rejection: error.into() }
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rejection, f)
    }
}

impl std::error::Error for WebhookError {}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status());
        for (name, value) in self.rejection.headers() {
            // Same bytes, `http` 1.x types to actix-web's; both were valid in the core.
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
            {
                response.append_header((name, value));
            }
        }
        response.body(self.rejection.body())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Duration;

    use actix_web::body::MessageBody;
    use bytes::Bytes;
    use futures_util::stream;
    use http_body::Frame;
    use http_body_util::StreamBody;
    use webhook_guard::providers::{AnyProvider, Botdog};
    use webhook_guard::testing::Signer;
    use webhook_guard::{FixedClock, Guard, RejectionKind, Verifier, VerifyErrorKind};

    use super::*;

    const NOW: i64 = 1_763_633_730;
    const SECRET: &str = "whsec_actix_test";

    /// The refusal of a body read through the core's request path, as actix's payload is.
    fn refused_body<S>(verifier: Verifier<Botdog>, body: S) -> (WebhookError, VerifyErrorKind)
    where
        S: futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>>,
    {
        let guard = Guard::new(verifier);
        let admitted =
            actix_web::rt::System::new().block_on(guard.admit_body(&[("x", "y")][..], StreamBody::new(body)));
        let rejection = admitted.unwrap_err();
        let RejectionKind::Verify(kind) = rejection.kind() else { panic!("{rejection:?}") };
        (WebhookError::from(rejection), kind)
    }

    /// One error of every `VerifyErrorKind`, produced the way requests produce them, with the
    /// status the table gives it.
    fn one_error_per_kind() -> Vec<((WebhookError, VerifyErrorKind), u16)> {
        let verifier = Verifier::builder(Botdog::new()).secret(SECRET).clock(FixedClock(NOW)).build().unwrap();
        let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
        let sign = |body: &[u8], t: i64| signer.sign_delivery(body, t, "", None).headers;
        let body = br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}"#;
        let verify = |headers: Vec<(String, String)>, body: &'static [u8]| {
            let error = verifier.verify(&headers, body).unwrap_err();
            let kind = error.kind();
            (WebhookError::from(error), kind)
        };
        let small = Verifier::builder(Botdog::new()).secret(SECRET).body_limit(10).build().unwrap();
        let eleven_bytes = stream::iter([Ok(Frame::data(Bytes::from_static(b"01234567890")))]);
        let failing = stream::iter([Err(std::io::Error::other("connection reset"))]);
        let stalled = Verifier::builder(Botdog::new()).secret(SECRET).read_timeout(Duration::from_millis(10));
        vec![
            (verify(vec![], body), 400),
            (verify(vec![("X-Webhook-Signature".into(), "s=zz".into())], body), 400),
            (verify(sign(b"other bytes", NOW), body), 401),
            (verify(sign(body, NOW - 301), body), 401),
            (refused_body(small, eleven_bytes), 413),
            (refused_body(verifier.clone(), failing), 400),
            (refused_body(stalled.build().unwrap(), stream::pending()), 400),
            (verify(sign(b"not json", NOW), b"not json"), 422),
        ]
    }

    fn assert_response(error: &WebhookError, status: u16, kind: &str) -> HttpResponse<()> {
        assert_eq!(error.status_code().as_u16(), status, "{error:?}");
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), status, "{error:?}");
        assert_eq!(response.headers().get("content-type").unwrap(), "application/json");
        let (response, body) = response.into_parts();
        let body = body.try_into_bytes().unwrap();
        assert_eq!(body, error.rejection().body(), "{error:?}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], kind, "{error:?}");
        response
    }

    #[test]
    fn every_verify_error_kind_maps_to_its_status() {
        let mut kinds = HashSet::new();
        for ((error, kind), status) in one_error_per_kind() {
            kinds.insert(kind);
            assert_eq!(kind.status().as_u16(), status, "{kind}: the core's table");
            let response = assert_response(&error, status, kind.as_str());
            assert!(response.headers().get("retry-after").is_none());
        }
        let all = [
            VerifyErrorKind::MissingSignature,
            VerifyErrorKind::MalformedSignature,
            VerifyErrorKind::SignatureMismatch,
            VerifyErrorKind::TimestampOutOfTolerance,
            VerifyErrorKind::BodyTooLarge,
            VerifyErrorKind::BodyUnreadable,
            VerifyErrorKind::InvalidPayload,
        ];
        assert_eq!(kinds, HashSet::from(all));
    }

    #[test]
    fn a_422_names_the_failing_path() {
        let ((error, _), _) = one_error_per_kind().pop().unwrap();
        let body = error.error_response().into_body().try_into_bytes().unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["path"], "$");
    }

    #[test]
    fn dedup_rows_carry_their_headers() {
        let duplicate = assert_response(&Rejection::duplicate_completed().into(), 200, "duplicate");
        assert_eq!(duplicate.headers().get("webhook-guard-duplicate").unwrap(), "completed");
        let in_flight = assert_response(&Rejection::in_flight(Duration::from_secs(7)).into(), 409, "in_flight");
        assert_eq!(in_flight.headers().get("retry-after").unwrap(), "7");
        let unavailable = Rejection::store_unavailable(Duration::from_millis(1_500)).into();
        let unavailable = assert_response(&unavailable, 503, "store_unavailable");
        assert_eq!(unavailable.headers().get("retry-after").unwrap(), "2");
    }
}
