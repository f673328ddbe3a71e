use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tower_service::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Response future of [`WebhookService`](super::WebhookService): verifies, claims, calls the
/// inner service and finishes the claim, or answers the rejection. Boxed: it awaits the core's
/// `async fn`s, whose futures have no name.
pub struct ResponseFuture<S: Service<Request<Full<Bytes>>>> {
    inner: BoxFuture<Result<S::Response, S::Error>>,
}

impl<S: Service<Request<Full<Bytes>>>> ResponseFuture<S> {
    pub(super) fn new(future: impl Future<Output = Result<S::Response, S::Error>> + Send + 'static) -> Self {
        Self { inner: Box::pin(future) }
    }
}

impl<S: Service<Request<Full<Bytes>>>> Future for ResponseFuture<S> {
    type Output = Result<S::Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<S: Service<Request<Full<Bytes>>>> fmt::Debug for ResponseFuture<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
