//! [`WebhookConfig`]: the guard (verifier and dedup policy), the read timeout and the error
//! handler, found in app data.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, web};
use webhook_guard::{Guard, Provider, Rejection};

pub use webhook_guard::body::DEFAULT_READ_TIMEOUT;

pub(crate) type ErrorHandler = Arc<dyn Fn(Rejection, &HttpRequest) -> actix_web::Error + Send + Sync>;

/// Configures the [`Webhook<P>`](crate::Webhook) extractor; register it with `.app_data(config)`
/// (or as `web::Data<WebhookConfig<P>>`) on the app, a scope or a resource. The
/// [crate docs](crate) show every setting.
pub struct WebhookConfig<P: Provider> {
    pub(crate) guard: Guard<P>,
    pub(crate) read_timeout: Duration,
    pub(crate) error_handler: Option<ErrorHandler>,
}

impl<P: Provider> WebhookConfig<P> {
    /// A config that verifies with a `Verifier` (whose `body_limit` is the body limit), or
    /// verifies and deduplicates with a [`Guard::with_dedup`] (then `.wrap(`[`WebhookDedup`]`)`
    /// the app), with the default read timeout and the status table's answers.
    ///
    /// [`WebhookDedup`]: crate::WebhookDedup
    pub fn new(guard: impl Into<Guard<P>>) -> Self {
        Self { guard: guard.into(), read_timeout: DEFAULT_READ_TIMEOUT, error_handler: None }
    }

    /// How long the whole body may take to arrive, from the moment the extractor starts reading.
    /// Past it the request is answered `400 body_unreadable`: a client trickling bytes would
    /// otherwise hold a connection and a buffer. Default [`DEFAULT_READ_TIMEOUT`].
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Replaces the answer to a rejected delivery. `handler` receives the core's
    /// [`Rejection`] (its status, headers and JSON body per the status table) and the request.
    /// The rejection has already been logged.
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
        Self { guard: self.guard.clone(), read_timeout: self.read_timeout, error_handler: self.error_handler.clone() }
    }
}

impl<P: Provider> fmt::Debug for WebhookConfig<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("guard", &self.guard)
            .field("read_timeout", &self.read_timeout)
            .field("error_handler", &self.error_handler.as_ref().map(|_| "custom"))
            .finish()
    }
}
