//! The extractors: [`Webhook`] takes the delivery the layer admitted; [`VerifiedWebhook`]
//! verifies in the handler, without deduplication.

use std::fmt;
use std::ops::{Deref, DerefMut};

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use webhook_guard::{Delivery, Guard, Provider, Rejection, Verifier};
use webhook_guard_tower::Delivered;

/// The delivery from provider `P` that [`WebhookLayer`](crate::WebhookLayer) admitted (verified,
/// parsed and, with dedup, claimed) before the handler. Needs no state. See the
/// [crate docs](crate).
///
/// On a route without the layer (for provider `P`) it refuses with 500 and an error log, and the
/// handler does not run: deduplication needs the layer, which alone sees the handler's status. A
/// route that only verifies takes [`VerifiedWebhook`] instead.
#[derive(Debug)]
pub struct Webhook<P: Provider>(pub Delivery<P::Event>);

impl<S, P> FromRequestParts<S> for Webhook<P>
where
    P: Provider,
    P::Event: Clone,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.remove::<Delivered<P>>() {
            Some(delivered) => Ok(Self(delivered.into_inner())),
            None => {
                tracing::error!(
                    path = parts.uri.path(),
                    "no `WebhookLayer` for this provider wraps this route: add `.route_layer(WebhookLayer::new(guard))`, or take `VerifiedWebhook`"
                );
                Err(WebhookRejection(Reason::NoLayer))
            }
        }
    }
}

/// A delivery from provider `P` verified and parsed in the handler, with the [`Verifier<P>`] taken
/// from the state: for routes that do not deduplicate (a `Verifier` has no dedup policy, so
/// deduplication without the layer cannot be written). Reads the body under the verifier's limit
/// within its read timeout, so it must be the handler's last argument.
#[derive(Debug)]
pub struct VerifiedWebhook<P: Provider>(pub Delivery<P::Event>);

impl<S, P> FromRequest<S> for VerifiedWebhook<P>
where
    P: Provider,
    Verifier<P>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let guard = Guard::new(Verifier::<P>::from_ref(state));
        let (_, admitted) = guard.admit(request).await?;
        Ok(Self(admitted.delivery))
    }
}

macro_rules! deref_to_delivery {
    ($($extractor:ident),*) => {$(
        impl<P: Provider> Deref for $extractor<P> {
            type Target = Delivery<P::Event>;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl<P: Provider> DerefMut for $extractor<P> {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }
    )*};
}

deref_to_delivery!(Webhook, VerifiedWebhook);

/// Why an extractor refused a delivery: a [`Rejection`] of the status table (already logged at
/// `warn`), or [`Webhook`] on a route without [`WebhookLayer`](crate::WebhookLayer) (500, logged
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
            Reason::Refused(rejection) => rejection.to_response(Body::from),
            Reason::NoLayer => (StatusCode::INTERNAL_SERVER_ERROR, NO_LAYER).into_response(),
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Reason::Refused(rejection) => fmt::Display::fmt(rejection, f),
            Reason::NoLayer => f.write_str("no WebhookLayer for this provider wraps the route"),
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
    use webhook_guard::{FixedClock, Verifier, VerifyErrorKind};

    use super::*;

    const NOW: i64 = 1_763_633_730;
    const VALID: &[u8] = br#"{"id":"evt_1","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}"#;

    fn verifier(secret: &str) -> Verifier<Botdog> {
        Verifier::builder(Botdog::new()).secret(secret).clock(FixedClock(NOW)).body_limit(1024).build().unwrap()
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

    async fn extract(request: Request) -> Result<VerifiedWebhook<Botdog>, WebhookRejection> {
        VerifiedWebhook::<Botdog>::from_request(request, &verifier("right")).await
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
        request.extensions_mut().insert(Delivered::<Botdog>::new(delivery.unwrap()));
        // Unsigned and empty: verifying it would fail.
        let (mut parts, _) = request.into_parts();
        let webhook = Webhook::<Botdog>::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(webhook.0.id(), "evt_1");
    }

    #[tokio::test]
    async fn a_route_without_the_layer_is_refused_with_500() {
        let (mut parts, _) = request(Some(("right", VALID, NOW)), Body::from(VALID)).into_parts();
        let rejection = Webhook::<Botdog>::from_request_parts(&mut parts, &()).await.unwrap_err();
        assert_eq!(rejection.status(), 500);
        assert_eq!(rejection.rejection(), None);
        assert_eq!(rejection.into_response().status(), 500);
    }
}
