//! [`ClaimHandle`]: a claim held while the handler runs, and [`HeldClaim`], the handler's view of
//! it.
//!
//! [`Guard`](crate::Guard) claims a delivery's id after verifying it; the adapter runs its handler
//! and hands the handler's status to [`ClaimHandle::finish`]. If the handler panics or the request
//! future is dropped, the handle is dropped unfinished and releases the claim in the background.
//!
//! A handler whose effects live in the same database as the store can complete the claim itself,
//! inside its own transaction (webhook-guard-sql's `begin_completing`): it takes the claim's
//! outcome out of the guard's hands with [`HeldClaim::hand_over`], and reports the commit with
//! [`HeldClaim::mark_completed`]. The guard then neither completes the claim a second time nor
//! completes one whose transaction never committed.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use http::StatusCode;

use super::{ClaimToken, ErasedStore, StoreError};

/// Who settles the claim: the guard (the default), or the handler's transaction.
const WITH_GUARD: u8 = 0;
/// The handler took the claim over: the guard releases it unless the handler's transaction
/// committed.
const HANDED_OVER: u8 = 1;
/// The handler's transaction completed the claim and committed: nothing is left to do.
const COMPLETED: u8 = 2;

/// What a [`ClaimHandle`] and the [`HeldClaim`]s handed to the handler share.
struct Shared {
    key: String,
    token: ClaimToken,
    ttl: Duration,
    state: AtomicU8,
}

/// A held claim on a delivery id. Finish it with the handler's status; dropped unfinished (a
/// panic, a cancelled request), it releases the claim in the background on the current tokio
/// runtime, or, outside one, leaves it to expire with its lease.
pub struct ClaimHandle {
    store: Arc<dyn ErasedStore>,
    shared: Arc<Shared>,
    settled: bool,
}

impl fmt::Debug for ClaimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimHandle")
            .field("key", &self.shared.key)
            .field("token", &self.shared.token)
            .finish_non_exhaustive()
    }
}

impl ClaimHandle {
    pub(crate) fn new(store: Arc<dyn ErasedStore>, key: String, token: ClaimToken, ttl: Duration) -> Self {
        let shared = Arc::new(Shared { key, token, ttl, state: AtomicU8::new(WITH_GUARD) });
        Self { store, shared, settled: false }
    }

    /// The dedup key held.
    pub fn key(&self) -> &str {
        &self.shared.key
    }

    /// The claim as the handler sees it (see [`HeldClaim`] for where each adapter puts it).
    pub fn held(&self) -> HeldClaim {
        HeldClaim { shared: Arc::clone(&self.shared) }
    }

    /// Completes the claim on a 2xx `status`, releases it otherwise. Store failures are logged:
    /// after a success they can only cause a later duplicate, never a loss.
    ///
    /// A claim the handler took over ([`HeldClaim::hand_over`]) is left alone once its
    /// transaction committed, and released otherwise, whatever the status: its effects were
    /// rolled back, so marking it completed would lose the event.
    ///
    /// A store that answers at once (`MemoryStore`) is answered inline. One that has to wait (a
    /// network round trip) is left to its own task on the tokio runtime, so the operation finishes
    /// even if the caller (a response future) is dropped while waiting for the store: a task per
    /// request only where a request waits.
    pub async fn finish(mut self, status: StatusCode) {
        self.settled = true;
        let complete = match self.shared.state.load(Ordering::Acquire) {
            COMPLETED => return,
            HANDED_OVER => {
                if status.is_success() {
                    tracing::warn!(
                        key = self.shared.key,
                        "the handler answered {status} without committing the transaction that completes the claim: released, the sender's retry runs it again"
                    );
                }
                false
            }
            _ => status.is_success(),
        };
        if let Some(memory) = self.store.as_memory() {
            let Shared { key, token, ttl, .. } = &*self.shared;
            if complete {
                completed(key, Ok(memory.complete_now(key, token, *ttl)));
            } else {
                memory.release_now(key, token);
            }
            return;
        }
        let (store, shared) = (Arc::clone(&self.store), Arc::clone(&self.shared));
        let settle = async move {
            let Shared { key, token, ttl, .. } = &*shared;
            if complete {
                completed(key, store.complete(key, token, *ttl).await);
            } else {
                release(&*store, key, token).await;
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

/// Logs what completing `key` came to, when it did not complete it.
fn completed(key: &str, result: Result<bool, StoreError>) {
    match result {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            key,
            "claim lost before completion (the handler outlived its lease): the event may be processed twice"
        ),
        Err(error) => {
            tracing::error!(%error, key, "could not mark the delivery completed: a retry will process it again");
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
        if self.settled || self.shared.state.load(Ordering::Acquire) == COMPLETED {
            return;
        }
        if let Some(memory) = self.store.as_memory() {
            memory.release_now(&self.shared.key, &self.shared.token);
            return;
        }
        let store = Arc::clone(&self.store);
        let shared = Arc::clone(&self.shared);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { release(&*store, &shared.key, &shared.token).await });
            }
            Err(_) => {
                tracing::warn!(
                    key = self.shared.key,
                    "claim dropped outside a tokio runtime: it frees itself when its lease expires"
                )
            }
        }
    }
}

/// The guard's claim on a delivery's id, as the handler sees it: its key, token and ttl, so that a
/// store able to complete a claim inside the handler's own database transaction
/// (webhook-guard-sql) does so, and the effects and the record "handled" commit together.
///
/// The tower layer puts it in the request's extensions (axum: `Extension<HeldClaim>`); the
/// actix-web `Webhook` extractor puts it in the request's extensions too, which the handler reads
/// in its body (`request.extensions().get::<HeldClaim>()`: `web::ReqData` would look before the
/// extractor ran). Only a guard with dedup claims, so only then is it there.
///
/// The protocol for a transaction that completes the claim: [`hand_over`](Self::hand_over) first
/// (from then on the guard releases the claim after the handler unless told otherwise), complete
/// the claim in the transaction with a compare-and-set on [`key`](Self::key) and
/// [`token`](Self::token), commit, then [`mark_completed`](Self::mark_completed). A transaction
/// rolled back, an error, a panic or a dropped request leave the claim handed over but not
/// completed: the guard releases it, and the sender's retry runs the handler again.
#[derive(Clone)]
pub struct HeldClaim {
    shared: Arc<Shared>,
}

impl fmt::Debug for HeldClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldClaim")
            .field("key", &self.shared.key)
            .field("token", &self.shared.token)
            .field("ttl", &self.shared.ttl)
            .finish_non_exhaustive()
    }
}

impl HeldClaim {
    /// The dedup key held: `{namespace}:{provider}:{id}`.
    pub fn key(&self) -> &str {
        &self.shared.key
    }

    /// The claim's token: the compare-and-set that completes the claim must match it.
    pub fn token(&self) -> &ClaimToken {
        &self.shared.token
    }

    /// How long the completed id is to be kept ([`Dedup::ttl`](crate::Dedup::ttl)).
    pub fn ttl(&self) -> Duration {
        self.shared.ttl
    }

    /// Takes the claim's outcome out of the guard's hands: the guard will no longer complete the
    /// claim when the handler answers 2xx, and releases it after the handler unless
    /// [`mark_completed`](Self::mark_completed) was called. `false` when the claim was already
    /// handed over (one completing transaction per claim).
    pub fn hand_over(&self) -> bool {
        self.shared.state.compare_exchange(WITH_GUARD, HANDED_OVER, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Records that the transaction completing the claim committed: the guard leaves the claim
    /// alone. Only meaningful after [`hand_over`](Self::hand_over); before it, it does nothing.
    pub fn mark_completed(&self) {
        let _ = self.shared.state.compare_exchange(HANDED_OVER, COMPLETED, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Whether the handler's transaction completed the claim and committed.
    pub fn is_completed(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) == COMPLETED
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::dedup::{Claim, DedupStore, MemoryStore, StoreError};

    const LEASE: Duration = Duration::from_secs(60);
    const TTL: Duration = Duration::from_secs(3600);

    /// A real `MemoryStore` that counts the completions and releases asked of it.
    #[derive(Default)]
    struct Counted {
        store: MemoryStore,
        completes: AtomicUsize,
        releases: AtomicUsize,
    }

    impl DedupStore for Counted {
        async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
            self.store.claim_now(key, lease)
        }

        async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
            self.completes.fetch_add(1, Ordering::SeqCst);
            Ok(self.store.complete_now(key, token, ttl))
        }

        async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
            self.releases.fetch_add(1, Ordering::SeqCst);
            Ok(self.store.release_now(key, token))
        }
    }

    async fn handle(store: &Arc<Counted>, key: &str) -> ClaimHandle {
        let Claim::Acquired(token) = store.store.claim_now(key, LEASE).unwrap() else { panic!("{key} not acquired") };
        ClaimHandle::new(Arc::clone(store) as Arc<dyn ErasedStore>, key.to_owned(), token, TTL)
    }

    async fn claim_again(store: &Counted, key: &str) -> Claim {
        store.store.claim_now(key, LEASE).unwrap()
    }

    fn memory_handle(store: &Arc<MemoryStore>, key: &str) -> ClaimHandle {
        let Claim::Acquired(token) = store.claim_now(key, LEASE).unwrap() else { panic!("{key} not acquired") };
        ClaimHandle::new(Arc::clone(store) as Arc<dyn ErasedStore>, key.to_owned(), token, TTL)
    }

    #[test]
    fn a_memory_store_is_answered_inline_without_a_runtime() {
        // No tokio runtime here: a `MemoryStore` is completed, released and released on drop
        // inline, where any other store would need a runtime (or the lease) to settle.
        let store = Arc::new(MemoryStore::new(10));
        let poll_once = |claim: ClaimHandle, status: StatusCode| {
            let mut finish = std::pin::pin!(claim.finish(status));
            let waker = std::task::Waker::noop();
            assert!(finish.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready());
        };
        poll_once(memory_handle(&store, "completed"), StatusCode::OK);
        assert_eq!(store.claim_now("completed", LEASE).unwrap(), Claim::Completed);
        poll_once(memory_handle(&store, "released"), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(matches!(store.claim_now("released", LEASE).unwrap(), Claim::Acquired(_)));
        drop(memory_handle(&store, "dropped"));
        assert!(matches!(store.claim_now("dropped", LEASE).unwrap(), Claim::Acquired(_)));
        // A claim left unsettled stays in flight: the three answers above are the handles'.
        let _held = memory_handle(&store, "held");
        assert!(matches!(store.claim_now("held", LEASE).unwrap(), Claim::InFlight { .. }));
    }

    #[tokio::test]
    async fn a_claim_left_with_the_guard_is_completed_on_2xx() {
        let store = Arc::new(Counted::default());
        let claim = handle(&store, "k").await;
        assert_eq!(claim.held().key(), "k");
        assert_eq!(claim.held().ttl(), TTL);
        claim.finish(StatusCode::NO_CONTENT).await;
        assert_eq!(claim_again(&store, "k").await, Claim::Completed);
        assert_eq!(store.completes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_handed_over_claim_whose_transaction_did_not_commit_is_released_even_on_2xx() {
        let store = Arc::new(Counted::default());
        let claim = handle(&store, "k").await;
        assert!(claim.held().hand_over());
        claim.finish(StatusCode::OK).await;
        assert_eq!(store.completes.load(Ordering::SeqCst), 0, "completing it would lose the rolled-back event");
        assert_eq!(store.releases.load(Ordering::SeqCst), 1);
        assert!(matches!(claim_again(&store, "k").await, Claim::Acquired(_)), "the retry runs the handler again");
    }

    #[tokio::test]
    async fn a_claim_completed_by_the_handlers_transaction_is_left_alone_whatever_the_status() {
        let store = Arc::new(Counted::default());
        let claim = handle(&store, "k").await;
        let held = claim.held();
        assert!(held.hand_over());
        // What a SQL store's transaction does: the compare-and-set on key and token, then commit.
        assert!(store.store.complete_now(held.key(), held.token(), held.ttl()));
        held.mark_completed();
        assert!(held.is_completed());
        claim.finish(StatusCode::INTERNAL_SERVER_ERROR).await;
        assert_eq!(store.completes.load(Ordering::SeqCst), 0);
        assert_eq!(store.releases.load(Ordering::SeqCst), 0);
        assert_eq!(claim_again(&store, "k").await, Claim::Completed);
    }

    #[tokio::test]
    async fn a_claim_is_handed_over_once() {
        let store = Arc::new(Counted::default());
        let claim = handle(&store, "k").await;
        let (first, second) = (claim.held(), claim.held());
        second.mark_completed();
        assert!(!second.is_completed(), "marking completed before handing over does nothing");
        assert!(first.hand_over());
        assert!(!second.hand_over(), "a second completing transaction for one claim");
        claim.finish(StatusCode::NO_CONTENT).await;
    }

    #[tokio::test]
    async fn a_handed_over_claim_dropped_unfinished_is_released_unless_completed() {
        let store = Arc::new(Counted::default());
        let dropped = handle(&store, "dropped").await;
        assert!(dropped.held().hand_over());
        drop(dropped);
        let committed = handle(&store, "committed").await;
        let held = committed.held();
        assert!(held.hand_over());
        assert!(store.store.complete_now(held.key(), held.token(), held.ttl()));
        held.mark_completed();
        drop(committed);
        // The release runs on its own task.
        for _ in 0..100 {
            if store.releases.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(store.releases.load(Ordering::SeqCst), 1);
        assert!(matches!(claim_again(&store, "dropped").await, Claim::Acquired(_)));
        assert_eq!(claim_again(&store, "committed").await, Claim::Completed);
    }
}
