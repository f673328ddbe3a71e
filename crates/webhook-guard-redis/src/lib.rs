//! [`RedisStore`]: webhook-guard's dedup protocol on Redis, for receivers that run as several
//! instances behind one load balancer.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use webhook_guard::{Dedup, Guard, Verifier};
//! use webhook_guard::providers::Botdog;
//! use webhook_guard_redis::RedisStore;
//!
//! let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
//! let verifier = Verifier::builder(Botdog::new()).secret("whsec-...").build()?;
//! let guard = Guard::new(verifier).with_dedup(Dedup::new(store))?;
//! # Ok(()) }
//! ```
//!
//! # The protocol on Redis
//!
//! Each delivery id is one string key (named by [`Dedup`](webhook_guard::Dedup), which namespaces
//! it). Its value is the claim's token while the delivery is in flight, and [`COMPLETED`] — which
//! can never equal a token (32 hex digits) — once it succeeded. Every operation is one Lua script,
//! so each is atomic and costs one round trip:
//!
//! - **claim**: `SET key token NX PX lease`; when the key exists, the same script reads it and
//!   answers `Completed`, or `InFlight` with its `PTTL` as `retry_after`.
//! - **complete**: if `GET key == token`, `SET key completed PX ttl` (compare-and-set).
//! - **release**: if `GET key == token`, `DEL key` (compare-and-delete).
//!
//! A delivery therefore costs at most two round trips: the claim, then the complete or the release
//! (a duplicate costs one). The scripts are loaded once when connecting (`SCRIPT LOAD`) and run
//! with `EVALSHA`; after a Redis restart has emptied the script cache, the first call reloads them.
//!
//! # Failures
//!
//! Every call is bounded by a per-call timeout ([`DEFAULT_TIMEOUT`], 2 s). A connection error, a
//! timeout or an error reply is a [`StoreError`]: the guard then answers 503 with `Retry-After`
//! and does not call the handler (unless its policy fails open) — never a silent pass. The
//! connection reconnects by itself (`redis::aio::ConnectionManager`, retrying with a backoff of at
//! most 1 s) once Redis is back; nothing needs rebuilding. A claim that timed out may still have been applied: the id then stays in
//! flight until its lease ends, and the sender's retry after that is processed. A `complete` that
//! failed after a successful handler leaves the claim to expire: a later retry processes the event
//! again (a duplicate, never a loss).
//!
//! Redis replication is asynchronous. After a failover, the promoted replica may not have seen the
//! latest writes: a completed id (or a live claim) can be lost, and the event processed a second
//! time. A failover can cause a duplicate, never a loss, because an id is only marked completed
//! after its handler succeeded. A Redis restarted without persistence forgets every id the same
//! way. Where a second run would hurt, make the handler idempotent too.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, FromRedisValue, Script, ToRedisArgs};
use webhook_guard::{Claim, ClaimToken, DedupStore, StoreError, clamp_duration};

/// The default per-call timeout: 2 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The value of a completed id. Tokens are 32 hex digits, so no token can equal it.
pub const COMPLETED: &str = "completed";

/// Acquired → `{0}`; completed → `{1}`; in flight → `{2, pttl}`.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
if redis.call('GET', KEYS[1]) == ARGV[3] then return {1} end
return {2, redis.call('PTTL', KEYS[1])}",
    )
});

static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1",
    )
});

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])",
    )
});

/// A [`DedupStore`] on Redis, shared by every instance of a receiver. Cloning shares the
/// connection (one multiplexed connection per [`RedisStore::connect`]).
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    timeout: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection's details may include a password: only the timeout is shown.
        f.debug_struct("RedisStore").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

/// Options for [`RedisStore`]: see [`RedisStore::builder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisStoreBuilder {
    timeout: Duration,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self { timeout: DEFAULT_TIMEOUT }
    }
}

impl RedisStoreBuilder {
    /// How long one call (claim, complete, release), and the initial connection, may take before
    /// it fails with a [`StoreError`]. Default [`DEFAULT_TIMEOUT`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to `url` (`redis://[user:password@]host:port/db`, or `rediss://` for TLS when the
    /// `redis` crate is built with a TLS feature) and loads the scripts.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the url does not parse, or Redis does not answer within the timeout.
    pub async fn connect(self, url: &str) -> Result<RedisStore, StoreError> {
        let client = Client::open(url).map_err(|error| StoreError::new(format!("redis: {error}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            // No response timeout inside the connection: `run` bounds every call, connecting
            // again included (a call waits for a reconnection in progress), and one timer per
            // call is enough (the connection's would be a second, armed and cancelled per call).
            .set_response_timeout(None)
            .set_max_delay(Duration::from_secs(1));
        let connect = async {
            let mut connection = ConnectionManager::new_with_config(client, config).await?;
            for script in [&*CLAIM, &*COMPLETE, &*RELEASE] {
                script.load_async(&mut connection).await?;
            }
            Ok::<_, redis::RedisError>(connection)
        };
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => Ok(RedisStore { connection, timeout: self.timeout }),
            Ok(Err(error)) => Err(StoreError::new(format!("redis: could not connect: {error}"))),
            Err(_) => Err(StoreError::new(format!("redis: no connection within {:?}", self.timeout))),
        }
    }
}

impl RedisStore {
    /// Connects to `url` with the defaults (see [`RedisStoreBuilder::connect`]).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the url does not parse, or Redis does not answer within 2 s.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder().connect(url).await
    }

    /// Options: the per-call timeout.
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::default()
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `script` on `key` with `args`: one round trip, bounded by the timeout.
    async fn run<T: FromRedisValue>(
        &self,
        operation: &str,
        script: &Script,
        key: &str,
        args: impl ToRedisArgs,
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        invocation.key(key).arg(args);
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(format!("redis {operation} of {key} failed: {error}"))),
            Err(_) => Err(StoreError::new(format!("redis {operation} of {key} timed out after {:?}", self.timeout))),
        }
    }
}

/// Whole milliseconds for `PX`: at least 1 (Redis refuses 0), at most
/// [`MAX_DURATION`](webhook_guard::MAX_DURATION) (Redis refuses expiries that overflow its
/// clock).
fn millis(duration: Duration) -> u64 {
    u64::try_from(clamp_duration(duration).as_millis()).unwrap_or(u64::MAX).max(1)
}

impl DedupStore for RedisStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random()?;
        let reply: Vec<i64> = self.run("claim", &CLAIM, key, (token.as_str(), millis(lease), COMPLETED)).await?;
        match reply.as_slice() {
            [0] => Ok(Claim::Acquired(token)),
            [1] => Ok(Claim::Completed),
            // A key without expiry (-1) was not written by this store: report a whole lease.
            [2, pttl] => Ok(Claim::InFlight { retry_after: u64::try_from(*pttl).map_or(lease, Duration::from_millis) }),
            _ => Err(StoreError::new(format!("redis claim of {key}: unexpected reply {reply:?}"))),
        }
    }

    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        if token.as_str() == COMPLETED {
            return Ok(false); // not a token: it would "hold" every completed id
        }
        let done: i64 = self.run("complete", &COMPLETE, key, (token.as_str(), COMPLETED, millis(ttl))).await?;
        Ok(done == 1)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        if token.as_str() == COMPLETED {
            return Ok(false); // never delete a completed id
        }
        let deleted: i64 = self.run("release", &RELEASE, key, token.as_str()).await?;
        Ok(deleted == 1)
    }
}
