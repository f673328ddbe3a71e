//! [`Guard`]: the one path from an HTTP request to a delivery the handler may process.
//!
//! Every adapter (tower, axum, actix-web) and the CLI's receiver call [`Guard::admit`] (or
//! [`Guard::admit_body`] for bodies that are not `Send`), which, in this order:
//!
//! 1. reads the body under the verifier's limit (a `Content-Length` over it is refused before a
//!    byte is read, a chunked body is cut as soon as it passes the limit) within the read timeout;
//! 2. verifies the signature and timestamp, then parses the typed event;
//! 3. claims the delivery id when deduplicating (see [`DedupStore`](crate::DedupStore));
//! 4. logs any refusal at `warn` with its kind.
//!
//! The adapter then only translates: the [`Rejection`] into the framework's response, or the
//! [`Admitted`] delivery into the handler's input, and the handler's status into
//! [`ClaimHandle::finish`].

use std::fmt;
use std::future::Future;
use std::task::Poll;

use bytes::Bytes;
use http::Request;
use http::request::Parts;
use http_body::Body;

use crate::body::{collect_body, collect_or_discard, content_length, read_timed_out};
use crate::dedup::{Claim, ClaimHandle, Dedup, OnStoreError};
use crate::delivery::Delivery;
use crate::error::{ConfigError, VerifyError};
use crate::headers::HeaderSource;
use crate::provider::Provider;
use crate::status::Rejection;
use crate::verifier::Verifier;

/// A verifier, and optionally a dedup policy: everything a receiver needs to admit a request.
/// Cheap to clone (shared).
pub struct Guard<P: Provider> {
    verifier: Verifier<P>,
    dedup: Option<Dedup>,
}

impl<P: Provider> Clone for Guard<P> {
    fn clone(&self) -> Self {
        Self { verifier: self.verifier.clone(), dedup: self.dedup.clone() }
    }
}

impl<P: Provider> fmt::Debug for Guard<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("verifier", &self.verifier).field("dedup", &self.dedup).finish()
    }
}

impl<P: Provider> From<Verifier<P>> for Guard<P> {
    fn from(verifier: Verifier<P>) -> Self {
        Self::new(verifier)
    }
}

/// A delivery that may be handed to the handler, with its claim when deduplicating.
pub struct Admitted<E> {
    /// The verified, parsed delivery.
    pub delivery: Delivery<E>,
    /// The claim on its id: finish it with the handler's status.
    pub claim: Option<ClaimHandle>,
}

impl<E: crate::Event> fmt::Debug for Admitted<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted").field("delivery", &self.delivery).field("claim", &self.claim).finish()
    }
}

impl<P: Provider> Guard<P> {
    /// Verification only.
    pub fn new(verifier: Verifier<P>) -> Self {
        Self { verifier, dedup: None }
    }

    /// Adds deduplication.
    ///
    /// # Errors
    ///
    /// [`ConfigError::TtlShorterThanRetryWindow`] when the policy would forget a completed id
    /// before the sender stops retrying it.
    pub fn with_dedup(mut self, dedup: Dedup) -> Result<Self, ConfigError> {
        let provider = self.verifier.provider();
        let window = provider.retry_window();
        if dedup.ttl < window {
            return Err(ConfigError::TtlShorterThanRetryWindow {
                provider: provider.name(),
                ttl_secs: dedup.ttl.as_secs(),
                window_secs: window.as_secs(),
            });
        }
        self.dedup = Some(dedup);
        Ok(self)
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier<P> {
        &self.verifier
    }

    /// Whether this guard deduplicates.
    pub fn deduplicates(&self) -> bool {
        self.dedup.is_some()
    }

    /// Admits a request: reads its body under the limit within the read timeout, verifies it,
    /// parses the event and claims its id. Returns the request's head with the delivery.
    ///
    /// A body refused as too large is read on and discarded in the background for a bounded time
    /// and size, so a client that writes its whole body before reading gets the 413 instead of a
    /// reset connection. Many clients (Python's `http.client`, most SDKs) write their whole
    /// request before reading a byte of the response; a server that closes the connection while
    /// such a client is still writing makes its kernel answer with a reset, and the client sees a
    /// broken pipe. nginx answers the same problem with its "lingering close"
    /// (<https://nginx.org/en/docs/http/ngx_http_core_module.html#lingering_close>): keep reading
    /// and discarding for at most `lingering_time` (30 s) in all and `lingering_timeout` (5 s)
    /// between reads, then close. This does the same with tighter bounds, since a webhook sender
    /// is a server on a good network: at most [`DISCARD_MAX_BYTES`](crate::DISCARD_MAX_BYTES),
    /// [`DISCARD_MAX_TIME`](crate::DISCARD_MAX_TIME) in all and
    /// [`DISCARD_IDLE_TIMEOUT`](crate::DISCARD_IDLE_TIMEOUT) between reads, keeping nothing. The
    /// rejection [ends the connection](Rejection::ends_connection). A client that sent
    /// `Expect: 100-continue` is answered at once without reading its body.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] to answer with (already logged): any row of the status table but the
    /// handler's own.
    pub fn admit<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<(Parts, Admitted<P::Event>), Rejection>> + '_
    where
        B: Body + Send + 'static,
    {
        // Split before the future: an `async fn` would keep the whole request as its argument
        // beside the parts taken from it, in every adapter's future, for the whole request.
        let (parts, body) = request.into_parts();
        async move {
            // In a block: the read (hundreds of bytes) is gone from the future once the body is
            // read.
            let body = {
                let read = std::pin::pin!(collect_or_discard(body, self.verifier.body_limit(), &parts.headers));
                self.read_within_timeout(read).await?
            };
            let admitted = self.admit_read(&parts.headers, body).await?;
            Ok((parts, admitted))
        }
    }

    /// [`Guard::admit`] for a body that is not `Send` (actix-web's payload) and headers of any
    /// kind. A body left unread by a refusal ([`Rejection::ends_connection`]) is the caller's to
    /// discard, within a [`DiscardBudget`](crate::DiscardBudget), and the connection's to close:
    /// the body cannot be moved to a background task here (webhook-guard-actix's answer body does
    /// it).
    ///
    /// # Errors
    ///
    /// As [`Guard::admit`].
    pub async fn admit_body<H, B>(&self, headers: &H, body: B) -> Result<Admitted<P::Event>, Rejection>
    where
        H: HeaderSource + ?Sized,
        B: Body,
    {
        let body = {
            let read = std::pin::pin!(collect_body(body, self.verifier.body_limit(), content_length(headers)));
            self.read_within_timeout(read).await?
        };
        self.admit_read(headers, body).await
    }

    /// Takes the read pinned where the caller is: an `async fn` keeps a future passed by value
    /// twice in its own (once as the argument, once as the pinned local), and every adapter's
    /// future would carry both.
    async fn read_within_timeout(
        &self,
        mut read: std::pin::Pin<&mut impl Future<Output = Result<Bytes, VerifyError>>>,
    ) -> Result<Bytes, Rejection> {
        // Most bodies have fully arrived by the time the head is read: those need no timer. Only
        // a body still on its way is raced against the read timeout.
        let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        let read = match first {
            Poll::Ready(read) => read,
            Poll::Pending => {
                // One more look after yielding once, before arming a timer: actix-web calls the
                // handler as soon as it has parsed the head and feeds the body bytes it already
                // holds just after, so on the second poll most bodies are there. The task wakes
                // itself, so a body that never comes still reaches the timer below.
                let mut yielded = false;
                let second = std::future::poll_fn(|cx| {
                    if !yielded {
                        yielded = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    Poll::Ready(read.as_mut().poll(cx))
                })
                .await;
                match second {
                    Poll::Ready(read) => read,
                    Poll::Pending => tokio::time::timeout(self.verifier.read_timeout(), read)
                        .await
                        .unwrap_or_else(|_elapsed| Err(read_timed_out())),
                }
            }
        };
        read.map_err(|error| self.reject(Rejection::from(error)))
    }

    /// Verifies a body read whole, then claims.
    async fn admit_read<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: Bytes,
    ) -> Result<Admitted<P::Event>, Rejection> {
        let delivery = self.verifier.verify(headers, body).map_err(|error| self.reject(Rejection::from(error)))?;
        // Claimed by reference: the delivery (hundreds of bytes) stays where it is while the
        // store answers, instead of being moved into the claim's future and out again.
        let claim = self.claim(&delivery).await?;
        Ok(Admitted { delivery, claim })
    }

    /// Claims the delivery's id (when deduplicating): a duplicate of a completed delivery (200),
    /// of one in flight (409), or an unreachable store (503, unless the policy fails open) is a
    /// rejection. `None`: no dedup, or a store failure with the policy failing open.
    async fn claim(&self, delivery: &Delivery<P::Event>) -> Result<Option<ClaimHandle>, Rejection> {
        let Some(dedup) = &self.dedup else { return Ok(None) };
        let key = dedup.key(delivery.provider(), delivery.id());
        let claimed = match dedup.store.as_memory() {
            Some(memory) => memory.claim_now(&key, dedup.lease),
            None => dedup.store.claim(&key, dedup.lease).await,
        };
        match claimed {
            Ok(Claim::Acquired(token)) => {
                Ok(Some(ClaimHandle::new(std::sync::Arc::clone(&dedup.store), key, token, dedup.ttl)))
            }
            Ok(Claim::Completed) => Err(self.reject(Rejection::duplicate_completed())),
            Ok(Claim::InFlight { retry_after }) => Err(self.reject(Rejection::in_flight(retry_after))),
            Err(error) => match dedup.on_store_error {
                OnStoreError::FailClosed { retry_after } => {
                    tracing::error!(%error, key, "dedup store failed: refusing the delivery (fail closed)");
                    Err(self.reject(Rejection::store_unavailable(retry_after)))
                }
                OnStoreError::FailOpen => {
                    tracing::warn!(%error, key, "dedup store failed: handling the delivery without dedup (fail open)");
                    Ok(None)
                }
            },
        }
    }

    #[cold]
    #[inline(never)]
    fn reject(&self, rejection: Rejection) -> Rejection {
        rejection.log(self.verifier.provider().name());
        rejection
    }
}
