use std::fmt;
use std::ops::{Deref, DerefMut};

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use webhook_guard::body::close_connection_after;
use webhook_guard::{Delivery, Guard, Provider, Rejection};
use webhook_guard_tower::{DEFAULT_READ_TIMEOUT, verify_request};

/// Extractor of a verified, parsed delivery from provider `P`. See the [crate docs](crate).
///
/// Takes the [`Delivery`] of provider `P` that [`WebhookLayer`](crate::WebhookLayer) left in the
/// request's extensions when the layer ran; otherwise reads the body under the verifier's limit
/// and verifies it with the [`Guard<P>`](Guard) taken from the state. A guard that deduplicates
/// needs the layer (only it sees the handler's status): without it the request is refused with
/// 500 and an error log, and the handler does not run. It consumes the body, so it must be the
/// handler's last argument.
#[derive(Debug)]
pub struct Webhook<P: Provider>(pub Delivery<P::Event>);

impl<S, P> FromRequest<S> for Webhook<P>
where
    P: Provider,
    Guard<P>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(mut request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let guard = Guard::<P>::from_ref(state);
        // Providers can share an event type (`Custom` ones): only a delivery of this provider counts.
        match request.extensions_mut().remove::<Delivery<P::Event>>() {
            Some(delivery) if delivery.provider() == guard.verifier().provider().name() => return Ok(Self(delivery)),
            _ => {}
        }
        if guard.dedup().is_some() {
            // A setup mistake, not the sender's: 500 makes it retry once the route is fixed.
            tracing::error!(
                path = request.uri().path(),
                "the guard deduplicates but no `WebhookLayer` wraps this route: add `.route_layer(WebhookLayer::new(guard))`"
            );
            return Err(WebhookRejection(Reason::NoLayer));
        }
        let (_, delivery) = verify_request(guard.verifier(), request, DEFAULT_READ_TIMEOUT).await?;
        Ok(Self(delivery))
    }
}

impl<P: Provider> Deref for Webhook<P> {
    type Target = Delivery<P::Event>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<P: Provider> DerefMut for Webhook<P> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Why [`Webhook`] refused a delivery: a [`Rejection`] of the status table (already logged at
/// `warn`), or a deduplicating guard without [`WebhookLayer`](crate::WebhookLayer) (500, logged
/// at `error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection(Reason);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Refused(Rejection),
    NoLayer,
}

const NO_LAYER: &str = "the webhook receiver is not configured";

impl WebhookRejection {
    /// The HTTP status, from the status table (500 without the layer).
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Reason::Refused(rejection) => rejection.status(),
            Reason::NoLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent: `{"error": "<kind>", "message": "…"}`, plus `"path"` for 422 (plain text
    /// without the layer).
    pub fn body_text(&self) -> String {
        match &self.0 {
            Reason::Refused(rejection) => String::from_utf8_lossy(&rejection.body()).into_owned(),
            Reason::NoLayer => NO_LAYER.to_owned(),
        }
    }

    /// The core rejection (its kind, message and headers); `None` without the layer.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.0 {
            Reason::Refused(rejection) => Some(rejection),
            Reason::NoLayer => None,
        }
    }
}

impl From<Rejection> for WebhookRejection {
    fn from(rejection: Rejection) -> Self {
        Self(Reason::Refused(rejection))
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        match self.0 {
            Reason::Refused(rejection) => {
                let mut response = rejection.to_response(Body::from);
                close_connection_after(&rejection, &mut response);
                response
            }
            Reason::NoLayer => (StatusCode::INTERNAL_SERVER_ERROR, NO_LAYER).into_response(),
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Reason::Refused(rejection) => fmt::Display::fmt(rejection, f),
            Reason::NoLayer => f.write_str("the guard deduplicates but no WebhookLayer wraps the route"),
        }
    }
}

impl std::error::Error for WebhookRejection {}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, Limited};
    use webhook_guard::providers::{AnyProvider, Botdog};
    use webhook_guard::testing::Signer;
    use webhook_guard::{Dedup, FixedClock, MemoryStore, Verifier, VerifyErrorKind};

    use super::*;

    const NOW: i64 = 1_763_633_730;
    const VALID: &[u8] = br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}"#;

    fn verifier(secret: &str) -> Verifier<Botdog> {
        Verifier::builder(Botdog::new()).secret(secret).clock(FixedClock(NOW)).body_limit(1024).build().unwrap()
    }

    fn guard(secret: &str) -> Guard<Botdog> {
        Guard::new(verifier(secret))
    }

    fn request(signature: Option<(&str, &[u8], i64)>, body: Body) -> Request {
        let mut request = Request::post("/webhooks/botdog").body(body).unwrap();
        if let Some((secret, signed, t)) = signature {
            let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[secret]).unwrap();
            for (name, value) in signer.sign_delivery(signed, t, "", None).headers {
                let name = http::HeaderName::try_from(name).unwrap();
                request.headers_mut().append(name, HeaderValue::try_from(value).unwrap());
            }
        }
        request
    }

    async fn extract(request: Request) -> Result<Webhook<Botdog>, WebhookRejection> {
        Webhook::<Botdog>::from_request(request, &guard("right")).await
    }

    #[tokio::test]
    async fn a_valid_delivery_is_extracted() {
        let webhook = extract(request(Some(("right", VALID, NOW)), Body::from(VALID))).await.unwrap();
        assert_eq!(webhook.id(), "evt_1");
        assert_eq!(webhook.event_type(), "LEAD_PROFILE_VISITED");
        assert_eq!(&webhook.body()[..], VALID);
    }

    #[tokio::test]
    async fn every_refusal_maps_to_its_status_table_row() {
        let unreadable = Body::new(Limited::new(Full::new(Bytes::from_static(VALID)), 1));
        let mut malformed = request(None, Body::from(VALID));
        malformed.headers_mut().insert("x-webhook-signature", HeaderValue::from_static("s=deadbeef"));
        let cases = [
            (request(None, Body::from(VALID)), VerifyErrorKind::MissingSignature, 400),
            (malformed, VerifyErrorKind::MalformedSignature, 400),
            (request(Some(("wrong", VALID, NOW)), Body::from(VALID)), VerifyErrorKind::SignatureMismatch, 401),
            (
                request(Some(("right", VALID, NOW - 301)), Body::from(VALID)),
                VerifyErrorKind::TimestampOutOfTolerance,
                401,
            ),
            (
                request(Some(("right", &[b' '; 1025], NOW)), Body::from(vec![b' '; 1025])),
                VerifyErrorKind::BodyTooLarge,
                413,
            ),
            (request(Some(("right", VALID, NOW)), unreadable), VerifyErrorKind::BodyUnreadable, 400),
            (request(Some(("right", b"[1]", NOW)), Body::from("[1]")), VerifyErrorKind::InvalidPayload, 422),
        ];
        for (request, kind, status) in cases {
            let rejection = extract(request).await.unwrap_err();
            assert_eq!(rejection.status(), status, "{kind:?}");
            let response = rejection.into_response();
            assert_eq!(response.status(), status, "{kind:?}");
            assert_eq!(response.headers()["content-type"], "application/json");
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"], kind.as_str());
        }
    }

    #[tokio::test]
    async fn a_delivery_left_by_the_layer_is_not_verified_again() {
        let delivery =
            verifier("right").verify(&request(Some(("right", VALID, NOW)), Body::empty()).headers().clone(), VALID);
        let mut request = request(None, Body::empty());
        request.extensions_mut().insert(delivery.unwrap());
        // Unsigned and empty: verifying it would fail.
        let webhook = extract(request).await.unwrap();
        assert_eq!(webhook.0.id(), "evt_1");
    }

    #[tokio::test]
    async fn a_deduplicating_guard_without_the_layer_is_refused_with_500() {
        let guard = guard("right").with_dedup(Dedup::new(MemoryStore::default())).unwrap();
        let request = request(Some(("right", VALID, NOW)), Body::from(VALID));
        let rejection = Webhook::<Botdog>::from_request(request, &guard).await.unwrap_err();
        assert_eq!(rejection.status(), 500);
        assert_eq!(rejection.rejection(), None);
        assert_eq!(rejection.into_response().status(), 500);
    }
}
