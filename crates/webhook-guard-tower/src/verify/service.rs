use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;
use webhook_guard::body::close_connection_after;
use webhook_guard::{Guard, Provider, dedup::Admitted};

use super::future::ResponseFuture;
use super::layer::WebhookLayer;
use super::rejection::{DefaultOnRejection, OnRejection};
use super::request::verify_request;

/// Verifies (and, with dedup, claims) each request before calling `S` with the
/// [`Delivery`](webhook_guard::Delivery) in its extensions and the body as [`Full<Bytes>`]. Built
/// by [`WebhookLayer`]; see the [crate docs](crate).
#[derive(Debug)]
pub struct WebhookService<S, P: Provider, R = DefaultOnRejection> {
    pub(super) inner: S,
    pub(super) config: WebhookLayer<P, R>,
}

impl<S, P: Provider> WebhookService<S, P> {
    /// Wraps `inner` with the defaults of [`WebhookLayer::new`].
    pub fn new(inner: S, guard: impl Into<Guard<P>>) -> Self {
        Self { inner, config: WebhookLayer::new(guard) }
    }

    /// A [`WebhookLayer`] that wraps services in this middleware.
    pub fn layer(guard: impl Into<Guard<P>>) -> WebhookLayer<P> {
        WebhookLayer::new(guard)
    }
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
    P::Event: Clone,
    R: OnRejection<ResBody> + Clone + Send + 'static,
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
        let WebhookLayer { guard, mut on_rejection, read_timeout } = self.config.clone();
        ResponseFuture::new(async move {
            let admitted = match verify_request(guard.verifier(), request, read_timeout).await {
                Ok((parts, delivery)) => guard.claim(delivery).await.map(|admitted| (parts, admitted)),
                Err(rejection) => Err(rejection),
            };
            let (parts, Admitted { delivery, claim }) = match admitted {
                Ok(admitted) => admitted,
                Err(rejection) => {
                    let mut response = on_rejection.on_rejection(&rejection);
                    close_connection_after(&rejection, &mut response);
                    return Ok(response);
                }
            };
            let mut request = Request::from_parts(parts, Full::new(delivery.body().clone()));
            request.extensions_mut().insert(delivery);
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

impl<S: Clone, P: Provider, R: Clone> Clone for WebhookService<S, P, R> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), config: self.config.clone() }
    }
}
