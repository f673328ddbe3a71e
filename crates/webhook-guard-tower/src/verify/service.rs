use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;
use webhook_guard::{Provider, Verifier};

use super::future::ResponseFuture;
use super::layer::WebhookLayer;
use super::rejection::{DefaultOnRejection, OnRejection};
use super::request::verify_request;

/// Verifies each request before calling `S` with the [`Delivery`](webhook_guard::Delivery) in
/// its extensions and the body as [`Full<Bytes>`]. Built by [`WebhookLayer`]; see the
/// [crate docs](crate).
#[derive(Debug)]
pub struct WebhookService<S, P: Provider, R = DefaultOnRejection> {
    pub(super) inner: S,
    pub(super) config: WebhookLayer<P, R>,
}

impl<S, P: Provider> WebhookService<S, P> {
    /// Wraps `inner` with the defaults of [`WebhookLayer::new`].
    pub fn new(inner: S, verifier: Verifier<P>) -> Self {
        Self { inner, config: WebhookLayer::new(verifier) }
    }

    /// A [`WebhookLayer`] that wraps services in this middleware.
    pub fn layer(verifier: Verifier<P>) -> WebhookLayer<P> {
        WebhookLayer::new(verifier)
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
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone,
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
        let ready = std::mem::replace(&mut self.inner, clone);
        let WebhookLayer { verifier, mut on_rejection, read_timeout } = self.config.clone();
        ResponseFuture::new(ready, async move {
            match verify_request(&verifier, request, read_timeout).await {
                Ok((parts, delivery)) => {
                    let mut request = Request::from_parts(parts, Full::new(delivery.body().clone()));
                    request.extensions_mut().insert(delivery);
                    Ok(request)
                }
                Err(rejection) => Err(on_rejection.on_rejection(&rejection)),
            }
        })
    }
}

impl<S: Clone, P: Provider, R: Clone> Clone for WebhookService<S, P, R> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), config: self.config.clone() }
    }
}
