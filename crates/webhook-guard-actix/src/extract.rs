//! The [`Webhook<P>`] extractor.

use std::any::type_name;
use std::fmt;
use std::ops::Deref;

use actix_web::{FromRequest, HttpMessage as _, HttpRequest, dev, error::ErrorInternalServerError};
use futures_util::StreamExt;
use futures_util::future::{LocalBoxFuture, ready};
use http_body::Frame;
use http_body_util::StreamBody;
use webhook_guard::{Admitted, Delivery, Provider};

use crate::config::WebhookConfig;
use crate::dedup::ClaimSlot;
use crate::error::{WebhookError, ending_connection};
use crate::headers::ActixHeaders;

/// A verified, parsed delivery from provider `P`, extracted from the request with the
/// [`WebhookConfig<P>`] found in app data (see the [crate docs](crate) for each step).
///
/// A rejected delivery (or, with dedup on, a duplicate) never reaches the handler: the extractor
/// answers with a [`WebhookError`] (or the config's error handler).
///
/// An answer given before the body was read to its end (`413` for a body over the limit, `400
/// body_unreadable` for one not received within the read timeout, the `500` of a receiver that is
/// not configured) ends the connection, whoever built it: it says `Connection: close`, reads and
/// discards what the client still sends for at most
/// [`DISCARD_MAX_BYTES`](webhook_guard::DISCARD_MAX_BYTES) and
/// [`DISCARD_MAX_TIME`](webhook_guard::DISCARD_MAX_TIME) (so a client that writes its whole body
/// before reading gets the answer), then closes. Such an answer reaches middleware as an
/// `actix_web::Error` whose cause wraps the original one (its status, `Display` and `Debug`), so
/// `Error::as_error::<WebhookError>()` does not find it; read the status instead. A cut past those
/// bounds is logged by actix-http at `error` ("Response payload stream error: webhook-guard:
/// connection closed after the answer to a refused request…"): actix-http closes a connection at
/// once only when a response body fails.
pub struct Webhook<P: Provider>(pub Delivery<P::Event>);

impl<P: Provider> Webhook<P> {
    /// The delivery.
    pub fn into_inner(self) -> Delivery<P::Event> {
        self.0
    }
}

impl<P: Provider> Deref for Webhook<P> {
    type Target = Delivery<P::Event>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<P: Provider> fmt::Debug for Webhook<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Webhook").field(&self.0).finish()
    }
}

impl<P: Provider> FromRequest for Webhook<P> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        // Setup mistakes, not the sender's: answer 500 so it retries once the server is fixed. The
        // body is left unread, so the answer ends the connection (see `ending_connection`).
        let not_configured = |payload: &mut dev::Payload| -> Self::Future {
            let error = ErrorInternalServerError("the webhook receiver is not configured");
            Box::pin(ready(Err(ending_connection(error, payload.take()))))
        };
        let Some(config) = WebhookConfig::<P>::from_req(request).cloned() else {
            tracing::error!(
                path = request.path(),
                "no {0} (nor web::Data<{0}>) in app data: register one with `.app_data(..)`",
                type_name::<WebhookConfig<P>>()
            );
            return not_configured(payload);
        };
        let slot = request.extensions().get::<ClaimSlot>().cloned();
        if config.guard.deduplicates() && slot.is_none() {
            // Without the middleware no claim would ever be completed or released.
            tracing::error!(path = request.path(), "dedup is configured but `WebhookDedup` does not wrap this route");
            return not_configured(payload);
        }
        let request = request.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            // The payload as an `http_body::Body`, so the core's one request path reads it; by
            // reference, so that what a refusal leaves of it can be discarded by the answer.
            let body = StreamBody::new((&mut payload).map(|chunk| chunk.map(Frame::data)));
            let admitted = config.guard.admit_body(&ActixHeaders(request.headers()), body).await;
            match admitted {
                Ok(Admitted { delivery, claim }) => {
                    // `WebhookDedup` finishes the claim with the response's status; dropped, it releases.
                    if let Some(slot) = slot {
                        if let Some(claim) = &claim {
                            // For a handler that completes the claim in its own transaction
                            // (webhook-guard-sql): it reads `request.extensions()` in its body, as
                            // extractors all start before this future runs.
                            request.extensions_mut().insert(claim.held());
                        }
                        slot.0.set(claim);
                    }
                    Ok(Webhook(delivery))
                }
                Err(rejection) => {
                    let ends_connection = rejection.ends_connection();
                    let error = match &config.error_handler {
                        Some(handler) => handler(rejection, &request),
                        None => WebhookError::from(rejection).into(),
                    };
                    // Whatever the answer: the rest of an unread body must not be read as the
                    // next request, nor read for as long as it comes.
                    Err(if ends_connection { ending_connection(error, payload) } else { error })
                }
            }
        })
    }
}
