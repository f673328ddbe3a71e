//! [`WebhookConfig`]: the guard (verifier and dedup policy) and the error handler, found in app
//! data.

use std::fmt;
use std::sync::Arc;

use actix_web::{HttpRequest, web};
use webhook_guard::{Guard, Provider, Rejection};

pub(crate) type ErrorHandler = Arc<dyn Fn(Rejection, &HttpRequest) -> actix_web::Error + Send + Sync>;

/// Configures the [`Webhook<P>`](crate::Webhook) extractor; register it with `.app_data(config)`
/// (or as `web::Data<WebhookConfig<P>>`) on the app, a scope or a resource. The
/// [crate docs](crate) show every setting.
pub struct WebhookConfig<P: Provider> {
    pub(crate) guard: Guard<P>,
    pub(crate) error_handler: Option<ErrorHandler>,
}

impl<P: Provider> WebhookConfig<P> {
    /// A config that verifies with a `Verifier` (whose `body_limit` is the body limit), or
    /// verifies and deduplicates with a [`Guard::with_dedup`] (then `.wrap(`[`WebhookDedup`]`)`
    /// the app), with the status table's answers. The body limit and read timeout are the
    /// verifier's.
    ///
    /// [`WebhookDedup`]: crate::WebhookDedup
    pub fn new(guard: impl Into<Guard<P>>) -> Self {
        Self { guard: guard.into(), error_handler: None }
    }

    /// Replaces the answer to a rejected delivery. `handler` receives the core's
    /// [`Rejection`] (its status, headers and JSON body per the status table) and the request.
    /// The rejection has already been logged. When the rejection
    /// [ends the connection](Rejection::ends_connection) (the body was not read to its end), the
    /// answer `handler` builds ends it too, as the [`Webhook`](crate::Webhook) extractor's own
    /// does.
    pub fn error_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(Rejection, &HttpRequest) -> actix_web::Error + Send + Sync + 'static,
    {
        self.error_handler = Some(Arc::new(handler));
        self
    }

    /// The guard: the verifier and the dedup policy, if any.
    pub fn guard(&self) -> &Guard<P> {
        &self.guard
    }

    /// The config in the request's app data: the value, then `web::Data<Self>`.
    pub(crate) fn from_req(request: &HttpRequest) -> Option<&Self> {
        request.app_data::<Self>().or_else(|| request.app_data::<web::Data<Self>>().map(|data| data.get_ref()))
    }
}

impl<P: Provider> Clone for WebhookConfig<P> {
    fn clone(&self) -> Self {
        Self { guard: self.guard.clone(), error_handler: self.error_handler.clone() }
    }
}

impl<P: Provider> fmt::Debug for WebhookConfig<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("guard", &self.guard)
            .field("error_handler", &self.error_handler.as_ref().map(|_| "custom"))
            .finish()
    }
}
