//! The deduplication protocol (see [`DedupStore`]), its policy ([`Dedup`]) and [`MemoryStore`].

mod claim;
mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub use claim::{ClaimHandle, HeldClaim};
pub use memory::{DEFAULT_CAPACITY, MemoryStore};

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The id was free: it is now in flight under this token until the lease ends.
    Acquired(ClaimToken),
    /// The id was processed successfully before.
    Completed,
    /// Another request holds the id; its lease ends in `retry_after`.
    InFlight {
        /// The time left on the holder's lease.
        retry_after: Duration,
    },
}

/// The proof of a claim: 128 bits as 32 lowercase hex digits, unique per claim and unpredictable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken([u8; 32]);

/// Where tokens come from: a counter (unique within the process) run through SipHash under keys
/// the standard library draws from the operating system once (unpredictable without them, and
/// distinct across processes). A claim then costs one keyed hash, not a system call: the random
/// source is read once per process, not once per delivery.
///
/// A token's first half is the keyed hash of the counter, its second half the counter masked with
/// a random word of this process: two tokens of one process differ in the second half (the
/// counter never repeats), two processes' tokens in both halves but with negligible probability.
struct TokenSource {
    keys: std::hash::RandomState,
    mask: u64,
    counter: std::sync::atomic::AtomicU64,
}

static TOKENS: std::sync::OnceLock<TokenSource> = std::sync::OnceLock::new();

impl ClaimToken {
    /// A fresh token.
    ///
    /// # Errors
    ///
    /// None today; stores that draw tokens elsewhere may fail.
    pub fn random() -> Result<Self, StoreError> {
        use std::hash::BuildHasher;
        let source = TOKENS.get_or_init(|| {
            let keys = std::hash::RandomState::new();
            let mask = keys.hash_one(u64::MAX);
            TokenSource { keys, mask, counter: std::sync::atomic::AtomicU64::new(0) }
        });
        let n = source.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (high, low) = (source.keys.hash_one(n), n ^ source.mask);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        let mut text = [0u8; 32];
        // `hex` writes exactly 32 ASCII digits for 16 bytes: it cannot fail.
        hex::encode_to_slice(bytes, &mut text).map_err(|_| StoreError::new("token encoding failed"))?;
        Ok(Self(text))
    }

    /// The token's text: 32 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A token is not a secret, but only its holder needs it: show a prefix to tell claims apart.
        write!(f, "ClaimToken({}…)", self.as_str().get(..8).unwrap_or(""))
    }
}

/// The dedup store could not answer (unreachable, timed out, refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dedup store error: {message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// A store error described by `message` (no keys' values, no tokens).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// Where delivery ids are kept: the claim / complete / release protocol that processes each event
/// once and loses none. Implementations must make each operation atomic.
///
/// Senders deliver at least once and retry until they see a 2xx (Botdog for ~31 minutes, Svix for
/// ~27.5 hours), so a delivery id may only be marked done once the handler succeeded:
///
/// 1. Verify first: an unauthenticated caller can never claim an id. The key is
///    `{namespace}:{provider}:{delivery id}`.
/// 2. [`DedupStore::claim`] atomically: an absent key becomes in flight under a random token with a
///    lease ([`Claim::Acquired`]); a completed key answers [`Claim::Completed`]; a key in flight
///    under a live lease answers [`Claim::InFlight`] with the time left.
/// 3. Run the handler. On a 2xx, [`DedupStore::complete`] keeps the id for `ttl` (which must cover
///    the sender's whole retry window); on anything else — an error status, a panic, the request
///    future dropped — [`DedupStore::release`] deletes the claim so the sender's retry can claim
///    again. Both are compare-and-set on the token: a holder whose lease expired can neither
///    complete nor release over a newer claim.
/// 4. A crash releases nothing: the lease expires and the sender's next retry claims again.
///
/// What this guarantees, and what it does not: an event is never lost to deduplication (an id is
/// only kept after success) and is processed once while the store keeps its promises. It can be
/// processed twice when a handler outlives its lease (another retry claims meanwhile), when the
/// store loses a completed id (capacity eviction in [`MemoryStore`], a Redis failover), or when
/// marking it completed fails after the handler succeeded.
pub trait DedupStore: Send + Sync + 'static {
    /// Claims `key` for `lease` (see [`Claim`]).
    fn claim(&self, key: &str, lease: Duration) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Marks `key` completed for `ttl` if `token` still holds it; `Ok(false)` when it does not (the
    /// lease expired and the key was released or claimed again).
    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the claim on `key` if `token` still holds it; `Ok(false)` when it does not.
    fn release(&self, key: &str, token: &ClaimToken) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`DedupStore`] behind a pointer: the guard holds any store without a type parameter.
pub(crate) trait ErasedStore: Send + Sync + 'static {
    /// The store as a [`MemoryStore`], whose operations answer at once: the guard then calls them
    /// inline, without the boxed future of each call below (three allocations per delivery).
    fn as_memory(&self) -> Option<&MemoryStore>;
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Result<Claim, StoreError>>;
    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a ClaimToken,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn release<'a>(&'a self, key: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<bool, StoreError>>;
}

impl<S: DedupStore> ErasedStore for S {
    fn as_memory(&self) -> Option<&MemoryStore> {
        (self as &dyn std::any::Any).downcast_ref::<MemoryStore>()
    }

    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(DedupStore::claim(self, key, lease))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a ClaimToken,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(DedupStore::complete(self, key, token, ttl))
    }

    fn release<'a>(&'a self, key: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(DedupStore::release(self, key, token))
    }
}

/// What to do when the store cannot answer a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnStoreError {
    /// Answer 503 with `Retry-After` and do not call the handler: nothing is processed twice, and
    /// the sender retries (the default).
    FailClosed {
        /// The `Retry-After` to send.
        retry_after: Duration,
    },
    /// Call the handler without deduplication: nothing waits on the store, but an event may be
    /// processed twice while the store is down.
    FailOpen,
}

/// The deduplication policy: a store, the key namespace, the lease, how long completed ids are
/// kept, and what to do when the store fails.
#[derive(Clone)]
pub struct Dedup {
    pub(crate) store: Arc<dyn ErasedStore>,
    namespace: String,
    pub(crate) lease: Duration,
    pub(crate) ttl: Duration,
    pub(crate) on_store_error: OnStoreError,
}

impl fmt::Debug for Dedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dedup")
            .field("namespace", &self.namespace)
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("on_store_error", &self.on_store_error)
            .finish_non_exhaustive()
    }
}

/// How long a claim holds an id by default: longer than any sane handler, shorter than the first
/// retry of most senders after a crash.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How long a completed id is kept by default: 72 hours, more than every preset's retry window.
pub const DEFAULT_TTL: Duration = Duration::from_secs(72 * 3600);

/// The longest lease or ttl a store is asked to keep: 100 years. Longer durations, up to
/// `Duration::MAX`, mean "as long as possible" and are clamped to this, by [`Dedup`] and by every
/// store, so no deadline computation can overflow a clock (an `Instant` in memory, Redis's
/// millisecond expiry).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `duration`, at most [`MAX_DURATION`]. Stores call it on every lease and ttl they are given.
pub fn clamp_duration(duration: Duration) -> Duration {
    duration.min(MAX_DURATION)
}

impl Dedup {
    /// Deduplicates on `store` with the defaults: namespace `webhook-guard`, lease
    /// [`DEFAULT_LEASE`], ttl [`DEFAULT_TTL`], fail closed with `Retry-After: 30`.
    pub fn new(store: impl DedupStore) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// As [`Dedup::new`], for a store shared with other code (tests, several receivers).
    pub fn from_arc<S: DedupStore>(store: Arc<S>) -> Self {
        Self {
            store,
            namespace: "webhook-guard".to_owned(),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            on_store_error: OnStoreError::FailClosed { retry_after: Duration::from_secs(30) },
        }
    }

    /// The first part of every key (one per application sharing a store).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How long a claim holds an id before another delivery of it may claim again. Must exceed the
    /// handler's longest run. Clamped to [`MAX_DURATION`].
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = clamp_duration(lease);
        self
    }

    /// How long a completed id is kept. [`Guard::with_dedup`](crate::Guard::with_dedup) refuses a ttl shorter than the
    /// provider's retry window. Clamped to [`MAX_DURATION`].
    ///
    /// The store must be able to hold every id for this long: for [`MemoryStore`], a capacity of
    /// at least *deliveries per second × ttl* (see its docs).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = clamp_duration(ttl);
        self
    }

    /// What to do when the store fails.
    #[must_use]
    pub fn on_store_error(mut self, policy: OnStoreError) -> Self {
        self.on_store_error = policy;
        self
    }

    /// The key of a delivery: `{namespace}:{provider}:{id}`, where an id longer than
    /// [`MAX_ID_LEN`](crate::MAX_ID_LEN) bytes is replaced by
    /// `sha256-id:<hex of its SHA-256>`, so no sender (nor a replay with a forged unsigned id
    /// header) can make a store keep arbitrarily long keys.
    pub fn key(&self, provider: &str, id: &str) -> String {
        // Built in one allocation of the right size: `format!` grows its string as it writes
        // (1.7k instructions per request under callgrind, against ~0.1k for this).
        let id = crate::delivery_id::key_part(id);
        let mut key = String::with_capacity(self.namespace.len() + provider.len() + id.len() + 2);
        for part in [self.namespace.as_str(), ":", provider, ":", &id] {
            key.push_str(part);
        }
        key
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespace_provider_and_id_in_one_allocation() {
        let dedup = Dedup::new(MemoryStore::default());
        let key = dedup.key("botdog", "evt_1");
        assert_eq!(key, "webhook-guard:botdog:evt_1");
        assert_eq!(key.capacity(), key.len());
        let key = dedup.namespace("crm").key("standard", &"x".repeat(crate::MAX_ID_LEN + 1));
        assert!(key.starts_with("crm:standard:sha256-id:"), "{key}");
        assert_eq!(key.len(), "crm:standard:sha256-id:".len() + 64);
    }

    /// (Format and uniqueness: `memory::tests::tokens_are_32_hex_digits_and_never_repeat`.)
    #[test]
    fn both_halves_of_a_token_change_from_one_claim_to_the_next() {
        let (a, b) = (ClaimToken::random().unwrap(), ClaimToken::random().unwrap());
        assert_ne!(a.as_str()[..16], b.as_str()[..16], "the keyed hash");
        assert_ne!(a.as_str()[16..], b.as_str()[16..], "the masked counter");
    }
}
