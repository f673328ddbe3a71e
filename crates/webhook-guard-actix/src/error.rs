//! [`WebhookError`]: a rejected delivery, answered from the core's status table.

use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::Payload;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use bytes::Bytes;
use futures_util::Stream;
use webhook_guard::{DiscardBudget, DiscardCut, Rejection, VerifyError};

/// Why the [`Webhook`](crate::Webhook) extractor refused a delivery. It answers with the status,
/// headers and JSON body the core's status table ([`Rejection`]) gives its
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

/// The answer to a request whose body was left unread (refused as too large, not received within
/// the read timeout, or not read at all): `error`'s own answer, with `Connection: close`, whose
/// body reads and discards the rest of the request body within the core's discard bounds and then
/// ends the connection. A request without a body gets `error` unchanged.
///
/// Why the answer must do this itself: actix-http's HTTP/1 dispatcher (3.19,
/// `src/h1/dispatcher.rs`) decides what to do with the rest of an unread body when the answer's
/// body ends (`send_response`, and the `SendPayload` arm of `poll_response`, through
/// `should_close_for_unread_payload`). If the service dropped a chunked body, it reads that body to
/// its end before closing or taking the next request, however long it goes on; any other unread
/// body, or a chunked one still held, makes it "linger" (`poll_linger`): read and throw away
/// whatever arrives, with no limit on bytes, until `client_disconnect_timeout` (1 s by default)
/// has passed. Neither is bounded the way the core bounds a refused body ([`DiscardBudget`]:
/// `DISCARD_MAX_BYTES`, `DISCARD_MAX_TIME`, `DISCARD_IDLE_TIMEOUT`; RFC 9112 §9.6 lets a server
/// close after answering). So the answer's body holds the request's payload: while the
/// answer is being sent the dispatcher feeds the payload, and the body discards it. If the request
/// body ends within the bounds, the answer ends, and its `Connection: close` makes the dispatcher
/// shut the connection down cleanly (its payload is finished, keep-alive is off). If it does not,
/// the answer's body fails once its bytes are all out: a failing response body is the one thing
/// that makes the dispatcher drop the connection at once (`DispatchError::Body`, which actix-http
/// logs at `error` as "Response payload stream error" with this crate's reason).
pub(crate) fn ending_connection(error: actix_web::Error, payload: Payload) -> actix_web::Error {
    if matches!(payload, Payload::None) {
        // No body at all (none was sent, or `Content-Length: 0`): nothing is left unread.
        return error;
    }
    EndsConnection { error, payload: RefCell::new(Some(payload)) }.into()
}

/// See [`ending_connection`].
struct EndsConnection {
    error: actix_web::Error,
    /// Moved into the answer's body by the first `error_response`, the one that answers the request.
    payload: RefCell<Option<Payload>>,
}

impl fmt::Debug for EndsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for EndsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for EndsConnection {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.error.error_response();
        // The rest of the body is not the start of a next request (RFC 9112 §9.6).
        response.head_mut().set_connection_type(ConnectionType::Close);
        match self.payload.borrow_mut().take() {
            Some(payload) => response.map_body(|_, answer| BoxBody::new(DiscardThenClose::new(answer, payload))),
            None => response,
        }
    }
}

/// The body of an [`EndsConnection`] answer: the answer's own bytes, then the request's payload read
/// and discarded until it ends (the answer then ends) or passes a discard bound (the body then
/// fails, and actix-http drops the connection).
struct DiscardThenClose {
    answer: BoxBody,
    /// The answer's bytes were all yielded, and the dispatcher given one turn to write them.
    answered: bool,
    payload: Payload,
    /// The core's bounds on discarding, armed at the first read of the rest.
    budget: Option<DiscardBudget>,
}

impl DiscardThenClose {
    fn new(answer: BoxBody, payload: Payload) -> Self {
        Self { answer, answered: false, payload, budget: None }
    }
}

impl MessageBody for DiscardThenClose {
    type Error = ConnectionCut;

    fn size(&self) -> BodySize {
        match self.answer.size() {
            // actix-http never polls an empty body (`send_response` finishes the response at once),
            // so the payload would be dropped unread: announce a stream instead, sent chunked as
            // just its last chunk (or as nothing, for statuses without a body).
            BodySize::None | BodySize::Sized(0) => BodySize::Stream,
            size => size,
        }
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        if !this.answered {
            match this.answer.as_pin_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => return Poll::Ready(Some(Ok(bytes))),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(ConnectionCut::AnswerFailed(error)))),
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    // Pending once: the dispatcher writes what it holds of the answer before a cut
                    // could drop the connection with it.
                    this.answered = true;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
        let budget = this.budget.get_or_insert_with(DiscardBudget::new);
        loop {
            match Pin::new(&mut this.payload).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => match budget.poll_discarded(chunk.len(), cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(cut)) => return Poll::Ready(Some(Err(ConnectionCut::Budget(cut)))),
                    Poll::Pending => return Poll::Pending,
                },
                // The body ended, or the connection failed (the dispatcher then closes it anyway):
                // the answer is complete, and its `Connection: close` ends the connection.
                Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(None),
                Poll::Pending => break,
            }
        }
        budget.poll_expired(cx).map(|cut| Some(Err(ConnectionCut::Budget(cut))))
    }
}

/// Why [`DiscardThenClose`] cut the connection: the reason actix-http logs.
enum ConnectionCut {
    Budget(DiscardCut),
    AnswerFailed(Box<dyn std::error::Error>),
}

impl fmt::Display for ConnectionCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Budget(why) => write!(
                f,
                "webhook-guard: connection closed after the answer to a refused request, whose body went on unread: {why}"
            ),
            Self::AnswerFailed(error) => write!(f, "webhook-guard: the answer's body failed: {error}"),
        }
    }
}

/// actix-http logs the error with `{:?}`: the sentence, not the variant.
impl fmt::Debug for ConnectionCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConnectionCut {}

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

    /// A request without a body has nothing left unread: its answer stays the error it was.
    #[test]
    fn an_answer_to_a_request_without_a_body_is_left_as_it_is() {
        let rejection = Rejection::in_flight(Duration::from_secs(7));
        let error = ending_connection(WebhookError::from(rejection.clone()).into(), Payload::None);
        assert_eq!(error.as_error::<WebhookError>().map(WebhookError::rejection), Some(&rejection));
    }

    /// With a body: the same status, headers and bytes, `Connection: close`, and a body that stays
    /// open after its bytes (discarding the rest of the request) instead of ending with them.
    #[test]
    fn an_answer_ending_the_connection_keeps_its_status_headers_and_bytes() {
        actix_web::rt::System::new().block_on(async {
            let rejection = Rejection::in_flight(Duration::from_secs(7));
            let pending: Pin<Box<dyn Stream<Item = _>>> = Box::pin(stream::pending());
            let payload = Payload::Stream { payload: pending };
            let error = ending_connection(WebhookError::from(rejection.clone()).into(), payload);
            assert!(error.as_error::<WebhookError>().is_none());
            assert_eq!(error.as_response_error().status_code(), StatusCode::CONFLICT);
            assert_eq!(error.to_string(), rejection.to_string());
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::CONFLICT);
            assert_eq!(response.head().connection_type(), ConnectionType::Close);
            assert_eq!(response.headers().get("retry-after").unwrap(), "7");
            let mut body = response.into_body();
            assert_eq!(body.size(), BodySize::Sized(rejection.body().len() as u64));
            let first = std::future::poll_fn(|cx| body.as_pin_mut().poll_next(cx)).await;
            assert_eq!(first.unwrap().unwrap(), rejection.body());
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(body.as_pin_mut().poll_next(&mut cx).is_pending(), "the body ended with its bytes");
        });
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
