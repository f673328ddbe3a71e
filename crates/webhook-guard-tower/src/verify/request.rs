use std::time::Duration;

use http::Request;
use http::request::Parts;
use http_body::Body;
use webhook_guard::body::{collect_or_discard, read_timed_out};
use webhook_guard::{Delivery, Provider, Rejection, Verifier};

pub use webhook_guard::body::DEFAULT_READ_TIMEOUT;

/// Reads `request`'s body under the verifier's body limit within `read_timeout`, then verifies and
/// parses it: the one path from a request to a [`Delivery`], shared by
/// [`WebhookService`](crate::WebhookService) and the axum extractor.
///
/// A body refused as too large is read on and discarded in the background for a bounded time
/// ([`collect_or_discard`]), so that a client that writes its whole body before reading gets the
/// 413; answer it with [`close_connection_after`](webhook_guard::body::close_connection_after).
///
/// # Errors
///
/// A [`Rejection`], already logged at `warn`: the body is over the limit or could not be read in
/// time, or the verifier refused the delivery.
pub async fn verify_request<P, B>(
    verifier: &Verifier<P>,
    request: Request<B>,
    read_timeout: Duration,
) -> Result<(Parts, Delivery<P::Event>), Rejection>
where
    P: Provider,
    B: Body + Send + 'static,
{
    let (parts, body) = request.into_parts();
    let read = collect_or_discard(body, verifier.body_limit(), &parts.headers);
    let verified = tokio::time::timeout(read_timeout, read)
        .await
        .unwrap_or_else(|_elapsed| Err(read_timed_out()))
        .and_then(|bytes| verifier.verify(&parts.headers, bytes));
    match verified {
        Ok(delivery) => Ok((parts, delivery)),
        Err(error) => {
            let rejection = Rejection::from(error);
            rejection.log(verifier.provider().name());
            Err(rejection)
        }
    }
}
