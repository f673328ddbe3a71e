use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONNECTION;
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;
use webhook_guard::{Admitted, ClaimHandle, Guard, Provider};

use super::delivered::Delivered;
use super::future::ResponseFuture;
use super::rejection::OnRejection;

/// What the layer and every service it builds share.
#[derive(Debug)]
pub(super) struct Shared<P: Provider, R> {
    pub(super) guard: Guard<P>,
    pub(super) on_rejection: R,
}

/// Admits each request with the [`Guard`] before calling `S` with a [`Delivered<P>`] in its
/// extensions and the body as [`Full<Bytes>`]. Built by
/// [`WebhookLayer`](super::WebhookLayer); see the [crate docs](crate).
pub struct WebhookService<S, P: Provider, R = super::DefaultOnRejection> {
    pub(super) inner: S,
    pub(super) shared: Arc<Shared<P, R>>,
}

impl<S, P: Provider, R> WebhookService<S, P, R> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, P, R, B, ResBody> Service<Request<B>> for WebhookService<S, P, R>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    P: Provider,
    // http's extensions hold only `Clone` values.
    P::Event: Clone,
    R: OnRejection<ResBody> + Clone + Send + Sync + 'static,
    B: Body + Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // `self.inner` is the instance that was polled ready: it goes into the future and a fresh
        // clone stays behind for the next `poll_ready` (see `tower::Service::call`).
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        ResponseFuture::new(async move {
            let (request, claim) = match shared.guard.admit(request).await {
                Ok((parts, admitted)) => inner_request::<P>(parts, admitted),
                Err(rejection) => {
                    let mut response = shared.on_rejection.clone().on_rejection(&rejection);
                    // Whatever the custom answer: the rest of an unread body must not be taken
                    // for the next request on this connection.
                    if rejection.ends_connection() {
                        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    return Ok(response);
                }
            };
            // `claim` lives in this future across the call: dropped unfinished (the inner service
            // panics, the client goes away) it releases the id in the background for the retry.
            let response = ready.call(request).await;
            if let Some(claim) = claim {
                // 2xx completes the claim; any other status, or an error, releases it.
                claim.finish(response.as_ref().map_or(StatusCode::INTERNAL_SERVER_ERROR, Response::status)).await;
            }
            response
        })
    }
}

/// The request the inner service gets: the body as read, the delivery (and the claim, for a
/// handler that completes it in its own transaction, webhook-guard-sql) in its extensions.
///
/// Not inline in the response future: a local of an `async` block keeps its place in the future
/// for as long as it is in scope, so the delivery (hundreds of bytes) bound there would make every
/// copy of the future larger across the inner service's call, long after it was moved into the
/// extensions.
fn inner_request<P: Provider>(parts: Parts, admitted: Admitted<P::Event>) -> (Request<Full<Bytes>>, Option<ClaimHandle>)
where
    P::Event: Clone,
{
    let Admitted { delivery, claim } = admitted;
    let mut request = Request::from_parts(parts, Full::new(delivery.body().clone()));
    request.extensions_mut().insert(Delivered::<P>::new(delivery));
    if let Some(claim) = &claim {
        request.extensions_mut().insert(claim.held());
    }
    (request, claim)
}

// By hand: derives would require `P: Clone` / `P: Debug` bounds the shared pointer does not need.
impl<S: Clone, P: Provider, R> Clone for WebhookService<S, P, R> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), shared: Arc::clone(&self.shared) }
    }
}

impl<S: fmt::Debug, P: Provider, R: fmt::Debug> fmt::Debug for WebhookService<S, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookService").field("inner", &self.inner).field("shared", &self.shared).finish()
    }
}
