//! [`MemoryStore`]: deduplication in this process, bounded and expiring, on moka.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::ops::compute::Op;
use moka::policy::Expiry;
use moka::sync::Cache;

use super::{Claim, ClaimToken, DedupStore, StoreError};

/// The state of one id. Each state carries its own deadline; the cache's expiry reads it.
#[derive(Debug, Clone)]
enum State {
    InFlight { token: ClaimToken, until: Instant },
    Completed { until: Instant },
}

impl State {
    fn until(&self) -> Instant {
        match self {
            Self::InFlight { until, .. } | Self::Completed { until } => *until,
        }
    }
}

struct UntilExpiry;

impl Expiry<String, State> for UntilExpiry {
    fn expire_after_create(&self, _: &String, state: &State, now: Instant) -> Option<Duration> {
        Some(state.until().saturating_duration_since(now))
    }

    fn expire_after_update(&self, _: &String, state: &State, now: Instant, _: Option<Duration>) -> Option<Duration> {
        Some(state.until().saturating_duration_since(now))
    }
}

/// Delivery ids kept in this process: for a receiver that runs as one instance.
///
/// Bounded: at most `capacity` ids (in flight or completed). When capacity forces out an id that
/// is still within its lease or ttl, the store counts it ([`MemoryStore::evicted_live`]): such an
/// id, delivered again, is processed again. Size the capacity for the sender's retry window (for
/// example 72 h of deliveries); each entry costs about 150 bytes plus its key. Each operation is
/// atomic per key (moka's `and_compute_with`). Cloning shares the store.
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<String, State>,
    evicted_live: Arc<AtomicU64>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.cache.entry_count())
            .field("evicted_live", &self.evicted_live())
            .finish()
    }
}

/// The default capacity: one million ids.
pub const DEFAULT_CAPACITY: u64 = 1_000_000;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` ids.
    pub fn new(capacity: u64) -> Self {
        let evicted_live = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&evicted_live);
        let cache = Cache::builder()
            .max_capacity(capacity)
            .expire_after(UntilExpiry)
            .eviction_listener(move |_key, state: State, cause| {
                if cause == RemovalCause::Size && state.until() > Instant::now() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        Self { cache, evicted_live }
    }

    /// How many ids were forced out by capacity while still within their lease or ttl.
    pub fn evicted_live(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.evicted_live.load(Ordering::Relaxed)
    }

    /// How many ids the store holds (approximate until pending maintenance has run).
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether the store holds no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The synchronous claim, shared by the trait's async one and the benchmark.
    pub fn claim_now(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut answer = Ok(Claim::Completed);
        self.cache.entry(key.to_owned()).and_compute_with(|entry| match entry.map(|e| e.into_value()) {
            Some(State::Completed { until }) if until > now => Op::Nop,
            Some(State::InFlight { until, .. }) if until > now => {
                answer = Ok(Claim::InFlight { retry_after: until - now });
                Op::Nop
            }
            // Absent, or expired but not yet swept. The token is drawn only here: duplicates, the
            // common case under retries, cost no trip to the random source.
            _ => match ClaimToken::random() {
                Ok(token) => {
                    answer = Ok(Claim::Acquired(token.clone()));
                    Op::Put(State::InFlight { token, until: now + lease })
                }
                Err(error) => {
                    answer = Err(error);
                    Op::Nop
                }
            },
        });
        answer
    }

    /// The synchronous compare-and-set to completed.
    pub fn complete_now(&self, key: &str, token: &ClaimToken, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut done = false;
        self.cache.entry(key.to_owned()).and_compute_with(|entry| match entry.map(|e| e.into_value()) {
            Some(State::InFlight { token: held, until }) if held == *token && until > now => {
                done = true;
                Op::Put(State::Completed { until: now + ttl })
            }
            _ => Op::Nop,
        });
        done
    }

    /// The synchronous compare-and-delete.
    pub fn release_now(&self, key: &str, token: &ClaimToken) -> bool {
        let now = Instant::now();
        let mut done = false;
        self.cache.entry(key.to_owned()).and_compute_with(|entry| match entry.map(|e| e.into_value()) {
            Some(State::InFlight { token: held, until }) if held == *token && until > now => {
                done = true;
                Op::Remove
            }
            _ => Op::Nop,
        });
        done
    }
}

impl DedupStore for MemoryStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.claim_now(key, lease)
    }

    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        Ok(self.complete_now(key, token, ttl))
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        Ok(self.release_now(key, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(60);
    const TTL: Duration = Duration::from_secs(3600);

    fn acquired(claim: Claim) -> ClaimToken {
        match claim {
            Claim::Acquired(token) => token,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    #[test]
    fn claim_complete_then_duplicates_are_completed() {
        let store = MemoryStore::new(100);
        let token = acquired(store.claim_now("k", LEASE).unwrap());
        assert!(
            matches!(store.claim_now("k", LEASE).unwrap(), Claim::InFlight { retry_after } if retry_after <= LEASE && retry_after > LEASE - Duration::from_secs(5))
        );
        assert!(store.complete_now("k", &token, TTL));
        assert_eq!(store.claim_now("k", LEASE).unwrap(), Claim::Completed);
        assert!(!store.release_now("k", &token), "a completed id cannot be released");
    }

    #[test]
    fn release_lets_the_next_delivery_claim() {
        let store = MemoryStore::new(100);
        let token = acquired(store.claim_now("k", LEASE).unwrap());
        assert!(store.release_now("k", &token));
        let again = acquired(store.claim_now("k", LEASE).unwrap());
        assert_ne!(again, token);
    }

    #[test]
    fn an_expired_lease_lets_the_next_delivery_in_and_the_stale_holder_out() {
        let store = MemoryStore::new(100);
        let stale = acquired(store.claim_now("k", Duration::from_millis(50)).unwrap());
        std::thread::sleep(Duration::from_millis(120));
        let fresh = acquired(store.claim_now("k", LEASE).unwrap());
        assert!(!store.complete_now("k", &stale, TTL), "stale holder completed over a newer claim");
        assert!(!store.release_now("k", &stale), "stale holder released a newer claim");
        assert!(matches!(store.claim_now("k", LEASE).unwrap(), Claim::InFlight { .. }));
        assert!(store.complete_now("k", &fresh, TTL));
    }

    #[test]
    fn an_expired_holder_cannot_complete_even_without_a_newer_claim() {
        let store = MemoryStore::new(100);
        let stale = acquired(store.claim_now("k", Duration::from_millis(30)).unwrap());
        std::thread::sleep(Duration::from_millis(80));
        assert!(!store.complete_now("k", &stale, TTL));
        acquired(store.claim_now("k", LEASE).unwrap());
    }

    #[test]
    fn completed_ids_expire_after_their_ttl() {
        let store = MemoryStore::new(100);
        let token = acquired(store.claim_now("k", LEASE).unwrap());
        assert!(store.complete_now("k", &token, Duration::from_millis(50)));
        std::thread::sleep(Duration::from_millis(120));
        acquired(store.claim_now("k", LEASE).unwrap());
    }

    #[test]
    fn capacity_evictions_of_live_ids_are_counted() {
        let store = MemoryStore::new(50);
        for n in 0..2_000 {
            let token = acquired(store.claim_now(&format!("k{n}"), LEASE).unwrap());
            assert!(store.complete_now(&format!("k{n}"), &token, TTL));
        }
        assert!(store.len() <= 50, "{} entries", store.len());
        assert!(store.evicted_live() >= 1_900, "{} counted", store.evicted_live());
    }

    #[test]
    fn claims_are_atomic_under_concurrency() {
        let store = MemoryStore::new(10_000);
        for trial in 0..200 {
            let key = format!("race{trial}");
            let winners: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| matches!(store.claim_now(&key, LEASE).unwrap(), Claim::Acquired(_))))
                    .collect();
                handles.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
            });
            assert_eq!(winners, 1, "trial {trial}");
        }
    }
}
