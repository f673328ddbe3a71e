//! [`MemoryStore`]: deduplication in this process, bounded and expiring.
//!
//! Why not a general-purpose cache (moka, as before): a cache's admission policy (TinyLFU) keeps
//! the entries seen most often and refuses newcomers seen less, which is the opposite of what
//! deduplication needs. A fresh claim, seen once, lost to old completed ids, so at capacity a
//! retry racing its first attempt ran the handler again while ids older than any retry window
//! stayed. Here the order is explicit: ids are forgotten least recently claimed or completed
//! first, and claims in flight only when no completed id is left to forget.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use std::hash::BuildHasher;

use hashlink::linked_hash_map::RawEntryMut;
use hashlink::{DefaultHashBuilder, LinkedHashMap};

use super::{Claim, ClaimToken, DedupStore, StoreError, clamp_duration};

/// How many expired entries one operation sweeps from the old end of each list: more than the one
/// entry an operation can add, so expired ids never pile up, and few enough that no single call
/// pays for a burst of expiries.
const SWEEP_PER_OPERATION: usize = 4;

/// Claims in flight the store makes room for up front (it grows past it if need be).
const IN_FLIGHT_RESERVED: usize = 4096;

/// The most completed ids the store makes room for up front: a larger capacity (up to `u64::MAX`)
/// is honoured by growing past it, never by reserving memory for it.
const COMPLETED_RESERVED_MAX: usize = 4 << 20;

/// A claim in flight.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    token: ClaimToken,
    until: Instant,
}

/// Both lists keep insertion order: the front is the least recently claimed (or completed) id.
/// A key is in at most one of them.
///
/// Both hash with the same keys (`hasher`), so an operation hashes its key once and looks it up
/// in both lists with that hash: a claim used to hash it four times, a completion three.
#[derive(Debug)]
struct Entries {
    in_flight: LinkedHashMap<Box<str>, InFlight>,
    completed: LinkedHashMap<Box<str>, Instant>,
    hasher: DefaultHashBuilder,
    capacity: usize,
    evicted_live: u64,
}

impl Entries {
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    fn len(&self) -> usize {
        self.in_flight.len() + self.completed.len()
    }

    /// Drops a few expired entries from the old end of each list.
    fn sweep(&mut self, now: Instant) {
        for _ in 0..SWEEP_PER_OPERATION {
            match self.completed.front() {
                Some((_, until)) if *until <= now => self.completed.pop_front(),
                _ => break,
            };
        }
        for _ in 0..SWEEP_PER_OPERATION {
            match self.in_flight.front() {
                Some((_, claim)) if claim.until <= now => self.in_flight.pop_front(),
                _ => break,
            };
        }
    }

    /// Forgets ids until the store is within its capacity: the least recently completed first,
    /// then, only when no completed id is left, the least recently claimed.
    fn evict_over_capacity(&mut self, now: Instant) {
        while self.len() > self.capacity {
            let until = match self.completed.pop_front() {
                Some((_, until)) => until,
                None => match self.in_flight.pop_front() {
                    Some((_, claim)) => claim.until,
                    None => return,
                },
            };
            if until > now {
                self.evicted_live += 1;
            }
        }
    }
}

/// Delivery ids kept in this process: for a receiver that runs as one instance.
///
/// Bounded: at most `capacity` ids, in flight or completed. At capacity it forgets the ids least
/// recently claimed or completed first, and a claim in flight only when no completed id is left
/// to forget (a duplicate lookup does not count as use). Forgetting an id still within its lease
/// or ttl is counted ([`MemoryStore::evicted_live`]): such an id, delivered again, is processed
/// again.
///
/// **Sizing.** Every id must stay for the sender's whole retry window, so the capacity must be at
/// least *ids per second × ttl*: the default ttl of 72 h ([`DEFAULT_TTL`](super::DEFAULT_TTL))
/// at 4 deliveries per second is about 1 M ids, the default capacity. Each id costs about
/// 100 bytes plus its key (a Botdog key is ~50 bytes). When `evicted_live` grows, raise the
/// capacity or move to a shared store.
///
/// Each operation is atomic (one lock around both lists; it is held for a hash lookup and an
/// insert, never across an `.await`). Cloning shares the store.
#[derive(Clone)]
pub struct MemoryStore {
    entries: Arc<Mutex<Entries>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.lock();
        f.debug_struct("MemoryStore")
            .field("in_flight", &entries.in_flight.len())
            .field("completed", &entries.completed.len())
            .field("capacity", &entries.capacity)
            .field("evicted_live", &entries.evicted_live)
            .finish()
    }
}

/// The default capacity: one million ids, 72 h of deliveries at about 4 per second.
pub const DEFAULT_CAPACITY: u64 = 1_000_000;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl MemoryStore {
    /// A store holding at most `capacity` ids (at least one). See the type's docs for sizing.
    pub fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).max(1);
        let hasher = DefaultHashBuilder::default();
        let entries = Entries {
            // Sized once for the whole capacity: a table that doubles as it fills rehashes
            // every key under the lock, a pause of milliseconds at hundreds of thousands of
            // ids. Only the control bytes of an untouched table are resident (about 2 MB
            // for the default million ids); claims in flight are bounded by concurrency.
            in_flight: LinkedHashMap::with_capacity_and_hasher(capacity.min(IN_FLIGHT_RESERVED), hasher.clone()),
            completed: LinkedHashMap::with_capacity_and_hasher(capacity.min(COMPLETED_RESERVED_MAX), hasher.clone()),
            hasher,
            capacity,
            evicted_live: 0,
        };
        Self { entries: Arc::new(Mutex::new(entries)) }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // No code panics while holding the lock; a poisoned lock still holds consistent lists.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many ids were forgotten for capacity while still within their lease or ttl.
    pub fn evicted_live(&self) -> u64 {
        self.lock().evicted_live
    }

    /// How many ids the store holds, in flight or completed (expired ones not yet swept included).
    pub fn len(&self) -> u64 {
        u64::try_from(self.lock().len()).unwrap_or(u64::MAX)
    }

    /// Whether the store holds no id.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The synchronous claim behind the trait's async one.
    ///
    /// # Errors
    ///
    /// When the system's random source fails to draw a token.
    pub(crate) fn claim_now(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        let hash = entries.hash(key);
        let entries = &mut *entries;
        if let RawEntryMut::Occupied(completed) = entries.completed.raw_entry_mut().from_key_hashed_nocheck(hash, key) {
            if *completed.get() > now {
                return Ok(Claim::Completed);
            }
            completed.remove();
        }
        let claim = match entries.in_flight.raw_entry_mut().from_key_hashed_nocheck(hash, key) {
            RawEntryMut::Occupied(claim) if claim.get().until > now => {
                return Ok(Claim::InFlight { retry_after: claim.get().until - now });
            }
            RawEntryMut::Occupied(mut expired) => {
                // Taken over: the key's allocation is kept, the claim moves to the back.
                let claim = new_claim(now, lease)?;
                *expired.get_mut() = claim;
                expired.to_back();
                claim
            }
            RawEntryMut::Vacant(vacant) => {
                let claim = new_claim(now, lease)?;
                vacant.insert_hashed_nocheck(hash, key.into(), claim);
                claim
            }
        };
        entries.evict_over_capacity(now);
        Ok(Claim::Acquired(claim.token))
    }

    /// The synchronous compare-and-set to completed.
    pub(crate) fn complete_now(&self, key: &str, token: &ClaimToken, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        let hash = entries.hash(key);
        let entries = &mut *entries;
        let RawEntryMut::Occupied(claim) = entries.in_flight.raw_entry_mut().from_key_hashed_nocheck(hash, key) else {
            return false;
        };
        if !holds(claim.get(), token, now) {
            return false;
        }
        // The key moves from one list to the other: its allocation is reused, not copied.
        let (key, _) = claim.remove_entry();
        let until = deadline(now, ttl);
        match entries.completed.raw_entry_mut().from_key_hashed_nocheck(hash, &key) {
            // Not reached (a key is in one list at a time), but never two entries for one key.
            RawEntryMut::Occupied(mut completed) => {
                *completed.get_mut() = until;
                completed.to_back();
            }
            RawEntryMut::Vacant(vacant) => {
                vacant.insert_hashed_nocheck(hash, key, until);
            }
        }
        true
    }

    /// The synchronous compare-and-delete.
    pub(crate) fn release_now(&self, key: &str, token: &ClaimToken) -> bool {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        let hash = entries.hash(key);
        match entries.in_flight.raw_entry_mut().from_key_hashed_nocheck(hash, key) {
            RawEntryMut::Occupied(claim) if holds(claim.get(), token, now) => {
                claim.remove();
                true
            }
            _ => false,
        }
    }
}

/// A claim drawn now for `lease`. The token is drawn only once a claim is granted: duplicates, the
/// common case under retries, cost no token.
fn new_claim(now: Instant, lease: Duration) -> Result<InFlight, StoreError> {
    Ok(InFlight { token: ClaimToken::random()?, until: deadline(now, lease) })
}

/// Whether `token` holds `claim` and its lease is still live.
fn holds(claim: &InFlight, token: &ClaimToken, now: Instant) -> bool {
    claim.token == *token && claim.until > now
}

/// `now + duration`, clamped to [`MAX_DURATION`](super::MAX_DURATION) and to what the platform's
/// clock can represent: a ttl of `Duration::MAX` means "as long as possible", never a panic.
fn deadline(now: Instant, duration: Duration) -> Instant {
    let duration = clamp_duration(duration);
    now.checked_add(duration).unwrap_or_else(|| {
        // Halve until it fits: platforms differ in how far an Instant reaches.
        let mut step = duration;
        loop {
            step /= 2;
            if let Some(until) = now.checked_add(step) {
                break until;
            }
        }
    })
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

// The protocol's rules (claim, complete, release, leases, ttls, clamping, concurrent claims) are
// checked as every store's are, in tests/store_protocol.rs; here, what is MemoryStore's own.
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
    fn any_capacity_builds_without_reserving_it() {
        let store = MemoryStore::new(u64::MAX);
        let token = acquired(store.claim_now("k", LEASE).unwrap());
        assert!(store.complete_now("k", &token, TTL));
        assert_eq!(store.len(), 1);
        assert_eq!(MemoryStore::new(0).len(), 0);
    }

    #[test]
    fn tokens_are_32_hex_digits_and_never_repeat() {
        let tokens: std::collections::HashSet<ClaimToken> =
            (0..100_000).map(|_| ClaimToken::random().unwrap()).collect();
        assert_eq!(tokens.len(), 100_000);
        assert!(tokens.iter().all(|t| t.as_str().len() == 32 && t.as_str().bytes().all(|b| b.is_ascii_hexdigit())));
        assert!(tokens.iter().all(|t| t.as_str() == t.as_str().to_ascii_lowercase()));
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

    /// The realistic pattern at capacity: a receiver full of completed ids keeps taking new
    /// deliveries; every retry of the newest ones must be recognised.
    #[test]
    fn at_capacity_the_newest_ids_are_kept_and_the_oldest_forgotten() {
        let store = MemoryStore::new(64);
        for n in 0..10_000 {
            let key = format!("old{n}");
            let token = acquired(store.claim_now(&key, LEASE).unwrap());
            assert!(store.complete_now(&key, &token, TTL));
            // Old ids are looked up again now and then (duplicates), as real traffic does.
            if n % 3 == 0 {
                assert_eq!(store.claim_now(&key, LEASE).unwrap(), Claim::Completed);
            }
        }
        let mut in_flight = Vec::new();
        for n in 0..48 {
            let key = format!("new{n}");
            let token = acquired(store.claim_now(&key, LEASE).unwrap());
            if n % 4 == 0 {
                in_flight.push(key);
            } else {
                assert!(store.complete_now(&key, &token, TTL), "{key} lost its claim before completing");
            }
        }
        for n in 0..48 {
            let key = format!("new{n}");
            let retry = store.claim_now(&key, LEASE).unwrap();
            if in_flight.contains(&key) {
                assert!(matches!(retry, Claim::InFlight { .. }), "{key}: {retry:?}");
            } else {
                assert_eq!(retry, Claim::Completed, "{key}");
            }
        }
        assert!(store.len() <= 64, "{} entries", store.len());
        // The oldest ids went first.
        assert!(matches!(store.claim_now("old0", LEASE).unwrap(), Claim::Acquired(_)));
    }

    #[test]
    fn at_capacity_an_in_flight_claim_outlives_every_completed_id() {
        let store = MemoryStore::new(64);
        let first = acquired(store.claim_now("slow", LEASE).unwrap());
        for n in 0..5_000 {
            let key = format!("k{n}");
            let token = acquired(store.claim_now(&key, LEASE).unwrap());
            assert!(store.complete_now(&key, &token, TTL));
        }
        // The sender's retry racing the slow first attempt is still held off...
        assert!(matches!(store.claim_now("slow", LEASE).unwrap(), Claim::InFlight { .. }));
        // ...and the first attempt can still complete.
        assert!(store.complete_now("slow", &first, TTL));
        assert_eq!(store.claim_now("slow", LEASE).unwrap(), Claim::Completed);
    }

    #[test]
    fn at_capacity_with_only_claims_in_flight_the_least_recently_claimed_goes() {
        let store = MemoryStore::new(4);
        for n in 0..6 {
            acquired(store.claim_now(&format!("k{n}"), LEASE).unwrap());
        }
        assert_eq!(store.len(), 4);
        assert!(matches!(store.claim_now("k0", LEASE).unwrap(), Claim::Acquired(_)));
        assert!(matches!(store.claim_now("k5", LEASE).unwrap(), Claim::InFlight { .. }));
        assert!(store.evicted_live() >= 2);
    }
}
