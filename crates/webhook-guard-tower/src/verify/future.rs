use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use pin_project_lite::pin_project;
use tower_service::Service;

/// Reading and verifying the body: the request to pass on, or the rejection's response. Boxed
/// because it awaits `webhook_guard::body::collect_body`, an `async fn` whose future has no name.
type Verifying<Res> = Pin<Box<dyn Future<Output = Result<Request<Full<Bytes>>, Res>> + Send>>;

pin_project! {
    /// Response future of [`WebhookService`](super::WebhookService): reads and verifies the
    /// body, then calls the inner service or answers the rejection.
    pub struct ResponseFuture<S>
    where
        S: Service<Request<Full<Bytes>>>,
    {
        #[pin]
        state: State<S>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S>
    where
        S: Service<Request<Full<Bytes>>>,
    {
        Verifying { verifying: Verifying<S::Response>, service: S },
        Calling { #[pin] future: S::Future },
    }
}

impl<S: Service<Request<Full<Bytes>>>> ResponseFuture<S> {
    pub(super) fn new(
        service: S,
        verifying: impl Future<Output = Result<Request<Full<Bytes>>, S::Response>> + Send + 'static,
    ) -> Self {
        Self { state: State::Verifying { verifying: Box::pin(verifying), service } }
    }
}

impl<S: Service<Request<Full<Bytes>>>> Future for ResponseFuture<S> {
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Verifying { verifying, service } => match ready!(verifying.as_mut().poll(cx)) {
                    Ok(request) => {
                        let future = service.call(request);
                        this.state.set(State::Calling { future });
                    }
                    Err(rejected) => return Poll::Ready(Ok(rejected)),
                },
                StateProj::Calling { future } => return future.poll(cx),
            }
        }
    }
}

impl<S: Service<Request<Full<Bytes>>>> fmt::Debug for ResponseFuture<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
