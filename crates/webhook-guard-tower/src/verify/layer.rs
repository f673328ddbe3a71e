use std::time::Duration;

use tower_layer::Layer;
use webhook_guard::{Guard, Provider};

use super::rejection::DefaultOnRejection;
use super::request::DEFAULT_READ_TIMEOUT;
use super::service::WebhookService;

/// Applies [`WebhookService`]: verifies (and, with dedup, claims) each request with a [`Guard`]
/// before the inner service sees it. See the [crate docs](crate).
#[derive(Debug)]
pub struct WebhookLayer<P: Provider, R = DefaultOnRejection> {
    pub(super) guard: Guard<P>,
    pub(super) on_rejection: R,
    pub(super) read_timeout: Duration,
}

impl<P: Provider> WebhookLayer<P> {
    /// Verifies with a [`Verifier`](webhook_guard::Verifier) (its body limit applies), or
    /// verifies and deduplicates with a [`Guard::with_dedup`]; answers rejections per the status
    /// table, and gives clients [`DEFAULT_READ_TIMEOUT`] to send a body.
    pub fn new(guard: impl Into<Guard<P>>) -> Self {
        Self { guard: guard.into(), on_rejection: DefaultOnRejection, read_timeout: DEFAULT_READ_TIMEOUT }
    }
}

impl<P: Provider, R> WebhookLayer<P, R> {
    /// Builds the response to refused deliveries (and to duplicates) with `on_rejection` instead.
    pub fn on_rejection<T>(self, on_rejection: T) -> WebhookLayer<P, T> {
        WebhookLayer { guard: self.guard, on_rejection, read_timeout: self.read_timeout }
    }

    /// How long a client has to send the whole body; after it the request is answered 400
    /// `body_unreadable`. Default [`DEFAULT_READ_TIMEOUT`].
    #[must_use]
    pub fn read_timeout(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = read_timeout;
        self
    }
}

impl<S, P: Provider, R: Clone> Layer<S> for WebhookLayer<P, R> {
    type Service = WebhookService<S, P, R>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService { inner, config: self.clone() }
    }
}

// By hand: a derive would require `P: Clone`, but `Guard<P>` is cheap to clone for any `P`.
impl<P: Provider, R: Clone> Clone for WebhookLayer<P, R> {
    fn clone(&self) -> Self {
        Self { guard: self.guard.clone(), on_rejection: self.on_rejection.clone(), read_timeout: self.read_timeout }
    }
}
