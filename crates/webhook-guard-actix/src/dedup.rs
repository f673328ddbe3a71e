//! [`WebhookDedup`]: finishes the extractor's dedup claim with the handler's status.

use std::cell::Cell;
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use futures_util::future::LocalBoxFuture;
use webhook_guard::ClaimHandle;

/// Where the extractor leaves the claim for the middleware; its presence in the request's
/// extensions tells the extractor the middleware wraps the route.
#[derive(Clone, Default)]
pub(crate) struct ClaimSlot(pub(crate) Rc<Cell<Option<ClaimHandle>>>);

/// Middleware that completes the [`Webhook`](crate::Webhook) extractor's dedup claim when the
/// handler answers 2xx and releases it otherwise (in the background after a panic or a dropped
/// request). Wrap every route whose config deduplicates: `App::new().wrap(WebhookDedup)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookDedup;

impl<S, B> Transform<S, ServiceRequest> for WebhookDedup
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = WebhookDedupService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WebhookDedupService { service }))
    }
}

/// The service [`WebhookDedup`] wraps a route's service in.
#[derive(Debug)]
pub struct WebhookDedupService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for WebhookDedupService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<ServiceResponse<B>, Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let slot = ClaimSlot::default();
        request.extensions_mut().insert(slot.clone());
        let response = self.service.call(request);
        Box::pin(async move {
            // Dropped before this point (a panic, the client gone), the slot drops the claim.
            let response = response.await;
            if let Some(claim) = slot.0.take() {
                let status = response.as_ref().map_or_else(|e| e.as_response_error().status_code(), |r| r.status());
                // actix-web's `http` 0.2 status to the core's 1.x; every code exists in both.
                let status = http::StatusCode::from_u16(status.as_u16()).unwrap_or(http::StatusCode::BAD_GATEWAY);
                claim.finish(status).await;
            }
            response
        })
    }
}
