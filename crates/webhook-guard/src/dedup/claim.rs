//! [`ClaimHandle`]: a claim held while the handler runs.
//!
//! [`Guard`](crate::Guard) claims a delivery's id after verifying it; the adapter runs its handler
//! and hands the handler's status to [`ClaimHandle::finish`]. If the handler panics or the request
//! future is dropped, the handle is dropped unfinished and releases the claim in the background.

use std::fmt;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::{ClaimToken, ErasedStore};

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
    pub(crate) fn new(store: Arc<dyn ErasedStore>, key: String, token: ClaimToken, ttl: Duration) -> Self {
        Self { store, key, token, ttl, settled: false }
    }

    /// The dedup key held.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Completes the claim on a 2xx `status`, releases it otherwise. Store failures are logged:
    /// after a success they can only cause a later duplicate, never a loss.
    ///
    /// A store that answers at once (`MemoryStore`) is answered inline. One that has to wait (a
    /// network round trip) is left to its own task on the tokio runtime, so the operation finishes
    /// even if the caller (a response future) is dropped while waiting for the store: a task per
    /// request only where a request waits.
    pub async fn finish(mut self, status: StatusCode) {
        self.settled = true;
        let (store, key, token, ttl) = (Arc::clone(&self.store), mem::take(&mut self.key), self.token, self.ttl);
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
        let mut settle = Box::pin(settle);
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(settle.as_mut().poll(cx))).await;
        if first.is_ready() {
            return;
        }
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
        let token = self.token;
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
