//! [`Guard`]: verification and deduplication in the order the protocol needs, for adapters.
//!
//! An adapter calls [`Guard::verify`] with the headers and body, then [`Guard::claim`], runs its
//! handler, and hands the handler's status to [`ClaimHandle::finish`]. If the handler panics or
//! the request future is dropped, the [`ClaimHandle`] is dropped unfinished and releases the claim
//! in the background. Every rejection is logged here, so adapters only translate it.

use std::fmt;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use super::{Claim, ClaimToken, Dedup, ErasedStore, OnStoreError};
use crate::delivery::Delivery;
use crate::error::ConfigError;
use crate::headers::HeaderSource;
use crate::provider::Provider;
use crate::status::Rejection;
use crate::verifier::Verifier;

/// A verifier, and optionally a dedup policy. Cheap to clone.
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

    /// The dedup policy, if any.
    pub fn dedup(&self) -> Option<&Dedup> {
        self.dedup.as_ref()
    }

    /// Verifies and parses; a refusal is logged and returned as the response to send.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] to answer with.
    pub fn verify<H: HeaderSource + ?Sized>(&self, headers: &H, body: Bytes) -> Result<Delivery<P::Event>, Rejection> {
        self.verifier.verify(headers, body).map_err(|error| self.reject(Rejection::from(error)))
    }

    /// Claims the delivery's id (when deduplicating).
    ///
    /// # Errors
    ///
    /// The [`Rejection`] to answer with: a duplicate of a completed delivery (200), of one in
    /// flight (409), or an unreachable store (503, unless the policy fails open).
    pub async fn claim(&self, delivery: Delivery<P::Event>) -> Result<Admitted<P::Event>, Rejection> {
        let Some(dedup) = &self.dedup else { return Ok(Admitted { delivery, claim: None }) };
        let key = dedup.key(delivery.provider(), delivery.id());
        match dedup.store.claim(&key, dedup.lease).await {
            Ok(Claim::Acquired(token)) => {
                let claim = ClaimHandle { store: Arc::clone(&dedup.store), key, token, ttl: dedup.ttl, settled: false };
                Ok(Admitted { delivery, claim: Some(claim) })
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
                    Ok(Admitted { delivery, claim: None })
                }
            },
        }
    }

    /// [`Guard::verify`] then [`Guard::claim`].
    ///
    /// # Errors
    ///
    /// As those two.
    pub async fn admit<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: Bytes,
    ) -> Result<Admitted<P::Event>, Rejection> {
        let delivery = self.verify(headers, body)?;
        self.claim(delivery).await
    }

    fn reject(&self, rejection: Rejection) -> Rejection {
        rejection.log(self.verifier.provider().name());
        rejection
    }
}

/// A held claim on a delivery id. Finish it with the handler's status; dropped unfinished (a
/// panic, a cancelled request), it releases the claim in the background on the current tokio
/// runtime, or, outside one, leaves it to expire with its lease.
pub struct ClaimHandle {
    store: Arc<dyn ErasedStore>,
    key: String,
    token: ClaimToken,
    ttl: Duration,
    settled: bool,
}

impl fmt::Debug for ClaimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimHandle").field("key", &self.key).field("token", &self.token).finish_non_exhaustive()
    }
}

impl ClaimHandle {
    /// The dedup key held.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Completes the claim on a 2xx `status`, releases it otherwise. Store failures are logged:
    /// after a success they can only cause a later duplicate, never a loss.
    ///
    /// On a tokio runtime the store operation runs as its own task, so it finishes even if the
    /// caller (a response future) is dropped while waiting for the store.
    pub async fn finish(mut self, status: StatusCode) {
        self.settled = true;
        let (store, key, token, ttl) =
            (Arc::clone(&self.store), mem::take(&mut self.key), self.token.clone(), self.ttl);
        let settle = async move {
            if status.is_success() {
                match store.complete(&key, &token, ttl).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        key,
                        "claim lost before completion (the handler outlived its lease): the event may be processed twice"
                    ),
                    Err(error) => {
                        tracing::error!(%error, key, "could not mark the delivery completed: a retry will process it again");
                    }
                }
            } else {
                release(&*store, &key, &token).await;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let _ = runtime.spawn(settle).await;
            }
            Err(_) => settle.await,
        }
    }
}

async fn release(store: &dyn ErasedStore, key: &str, token: &ClaimToken) {
    match store.release(key, token).await {
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(%error, key, "could not release the claim: the next retry waits for its lease to expire")
        }
    }
}

impl Drop for ClaimHandle {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let store = Arc::clone(&self.store);
        let key = mem::take(&mut self.key);
        let token = self.token.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { release(&*store, &key, &token).await });
            }
            Err(_) => {
                tracing::warn!(key, "claim dropped outside a tokio runtime: it frees itself when its lease expires")
            }
        }
    }
}
