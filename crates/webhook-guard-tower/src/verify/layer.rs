use std::sync::Arc;

use tower_layer::Layer;
use webhook_guard::{Guard, Provider};

use super::rejection::DefaultOnRejection;
use super::service::{Shared, WebhookService};

/// Applies [`WebhookService`]: admits each request with a [`Guard`] (reads the body under its
/// limit within its read timeout, verifies, parses and, with dedup, claims) before the inner
/// service sees it. See the [crate docs](crate).
#[derive(Debug)]
pub struct WebhookLayer<P: Provider, R = DefaultOnRejection> {
    shared: Arc<Shared<P, R>>,
}

impl<P: Provider> WebhookLayer<P> {
    /// Verifies with a [`Verifier`](webhook_guard::Verifier) (its body limit and read timeout
    /// apply), or verifies and deduplicates with a [`Guard::with_dedup`]; answers rejections per
    /// the status table.
    pub fn new(guard: impl Into<Guard<P>>) -> Self {
        Self { shared: Arc::new(Shared { guard: guard.into(), on_rejection: DefaultOnRejection }) }
    }
}

impl<P: Provider, R: Clone> WebhookLayer<P, R> {
    /// Builds the response to refused deliveries (and to duplicates) with `on_rejection` instead.
    pub fn on_rejection<T>(self, on_rejection: T) -> WebhookLayer<P, T> {
        WebhookLayer { shared: Arc::new(Shared { guard: self.shared.guard.clone(), on_rejection }) }
    }
}

impl<S, P: Provider, R> Layer<S> for WebhookLayer<P, R> {
    type Service = WebhookService<S, P, R>;

    fn layer(&self, inner: S) -> Self::Service {
        WebhookService { inner, shared: Arc::clone(&self.shared) }
    }
}

// By hand: a derive would require `P: Clone` and `R: Clone`; the layer only shares a pointer.
impl<P: Provider, R> Clone for WebhookLayer<P, R> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}
