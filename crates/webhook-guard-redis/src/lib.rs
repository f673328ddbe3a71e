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
//! can never equal a token (32 hex digits) — once it succeeded. Each command below is atomic and
//! costs one round trip:
//!
//! - **claim**, on Redis 7.0 or later: `SET key token NX PX lease GET`, one command and no script
//!   (7.0 accepts `NX` together with `GET`: <https://redis.io/docs/latest/commands/set/>). It sets
//!   the key only if it is absent and answers its previous value: none → `Acquired`;
//!   [`COMPLETED`] → `Completed`; anything else (another claim's token, or a value this store did
//!   not write) → in flight. Only then, on that rare path, a second round trip asks for the time
//!   left: the claim script below, run atomically, which answers `InFlight` with the key's `PTTL`
//!   as `retry_after` — or `Completed`, or `Acquired`, when the holder completed or released the
//!   id between the two calls.
//! - **claim**, on older servers (where `SET` refuses `NX` with `GET`): one Lua script that runs
//!   `SET key token NX PX lease` and, when the key exists, reads it and answers `Completed`, or
//!   `InFlight` with its `PTTL` as `retry_after`.
//! - **complete**: a Lua script, if `GET key == token`, `SET key completed PX ttl`
//!   (compare-and-set).
//! - **release**: a Lua script, if `GET key == token`, `DEL key` (compare-and-delete).
//!
//! Complete and release stay scripts: a holder whose lease expired must neither complete nor
//! release a newer claim of the same id, so the comparison and the write must be one atomic step
//! (Redis 8.4's `SET ... IFEQ` could do the compare-and-set without a script; it is not used).
//! The server's version is read once when connecting (`INFO server`); a store connected to 7.0 or
//! later that later reconnects to an older server (a failover to an older replica) gets an error
//! reply to each claim (a syntax error there) — 503s, never a wrong answer — until the store is
//! connected again with [`RedisStore::connect`].
//!
//! A delivery therefore costs at most two round trips: the claim, then the complete or the release
//! (a duplicate of a completed id costs one; one still in flight costs two on Redis 7.0 and later).
//! The scripts are loaded once when connecting (`SCRIPT LOAD`) and run with `EVALSHA`; after a Redis
//! restart has emptied the script cache, the first call reloads them.
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
use redis::{Client, Cmd, ErrorKind, Script, ServerErrorKind, ToRedisArgs, Value};
use webhook_guard::{Claim, ClaimToken, DedupStore, StoreError, clamp_duration};

/// The default per-call timeout: 2 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The value of a completed id. Tokens are 32 hex digits, so no token can equal it.
pub const COMPLETED: &str = "completed";

/// Acquired → `{0}`; completed → `{1}`; in flight → `{2, pttl}`. The claim on servers older than
/// 7.0, and on newer ones the second step of a claim that found the key held (see the module docs).
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
    claim: ClaimWith,
}

/// How [`RedisStore::claim`](DedupStore::claim) asks Redis, chosen once when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimWith {
    /// `SET key token NX PX lease GET` (Redis 7.0 or later), then, only when the key is held by
    /// another claim, the [`CLAIM`] script for the time left.
    SetNxGet,
    /// The [`CLAIM`] script alone (older servers, whose `SET` refuses `NX` with `GET`).
    Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection's details may include a password: only the timeout is shown.
        f.debug_struct("RedisStore").field("timeout", &self.timeout).field("claim", &self.claim).finish_non_exhaustive()
    }
}

/// Options for [`RedisStore`]: see [`RedisStore::builder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisStoreBuilder {
    timeout: Duration,
    claim_by_script: bool,
}

impl Default for RedisStoreBuilder {
    fn default() -> Self {
        Self { timeout: DEFAULT_TIMEOUT, claim_by_script: false }
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

    /// Claims with the Lua script, as on a server older than Redis 7.0, even when the server
    /// takes `SET ... NX GET`: for the tests of the path that older servers take. Not part of the
    /// API: it may change or go at any release.
    #[doc(hidden)]
    #[must_use]
    pub fn claim_by_script_as_before_redis_7(mut self) -> Self {
        self.claim_by_script = true;
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
            // `INFO server` is answered by every version; a server (or proxy) that refuses it
            // gets the script, which works everywhere.
            let info = connection.send_packed_command(redis::cmd("INFO").arg("server")).await?;
            let info = match &info {
                Value::BulkString(info) => info.as_slice(),
                Value::VerbatimString { text, .. } => text.as_bytes(), // RESP3
                _ => &[],
            };
            let claim = if !self.claim_by_script && set_takes_nx_with_get(info) {
                ClaimWith::SetNxGet
            } else {
                ClaimWith::Script
            };
            // Loaded on every version: newer servers run CLAIM too, for a key found held.
            for script in [&*CLAIM, &*COMPLETE, &*RELEASE] {
                script.load_async(&mut connection).await?;
            }
            Ok::<_, redis::RedisError>((connection, claim))
        };
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok((connection, claim))) => Ok(RedisStore { connection, timeout: self.timeout, claim }),
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

    /// Sends `command` (about `key`) and answers its reply: one round trip, bounded by the
    /// timeout. A command that runs `script` by its hash (`EVALSHA`) and finds the server's script
    /// cache without it (`NOSCRIPT`: a restarted or flushed server) loads it and sends the command
    /// again, within the same timeout.
    ///
    /// Straight through `ConnectionManager::send_packed_command`, not redis's `query_async` or
    /// `ScriptInvocation`: those box a future per call (`ConnectionLike::req_packed_command`) and
    /// copy every key and argument into vectors of their own before packing them into the command
    /// (callgrind, `examples/claim_complete.rs`: a claim + complete cost the client 31,054
    /// instructions that way, 27,017 this way). The per-call timer is kept: it bounds every call
    /// (fail closed, never hang) and costs about 1,200 instructions of the 13,500 a call takes.
    async fn send(
        &self,
        operation: &str,
        command: &Cmd,
        key: &str,
        script: Option<&Script>,
    ) -> Result<Value, StoreError> {
        // A clone shares the connection (an `Arc`); sending needs `&mut`.
        let mut connection = self.connection.clone();
        let call = async {
            match (connection.send_packed_command(command).await?.extract_error(), script) {
                (Err(error), Some(script)) if error.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    script.load_async(&mut connection).await?;
                    connection.send_packed_command(command).await?.extract_error()
                }
                (reply, _) => reply,
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(format!("redis {operation} of {key} failed: {error}"))),
            Err(_) => Err(StoreError::new(format!("redis {operation} of {key} timed out after {:?}", self.timeout))),
        }
    }

    /// Runs `script` on `key` with the `count` arguments `args` (`EVALSHA sha 1 key args...`),
    /// whose reply must be an integer: one round trip, bounded by the timeout.
    async fn run(
        &self,
        operation: &str,
        script: &Script,
        key: &str,
        count: usize,
        args: impl ToRedisArgs,
    ) -> Result<i64, StoreError> {
        let command = evalsha(script, key, count, ARGS_BYTES, args);
        match self.send(operation, &command, key, Some(script)).await? {
            Value::Int(reply) => Ok(reply),
            other => {
                Err(StoreError::new(format!("redis {operation} of {key}: unexpected reply of type {}", kind(&other))))
            }
        }
    }

    /// The claim by the [`CLAIM`] script: one round trip, atomic.
    async fn claim_by_script(&self, key: &str, token: ClaimToken, lease: Duration) -> Result<Claim, StoreError> {
        let command = evalsha(&CLAIM, key, 3, ARGS_BYTES, (token.as_str(), millis(lease), COMPLETED));
        let reply = self.send("claim", &command, key, Some(&CLAIM)).await?;
        match reply.as_sequence().unwrap_or_default() {
            [Value::Int(0)] => Ok(Claim::Acquired(token)),
            [Value::Int(1)] => Ok(Claim::Completed),
            // A key without expiry (-1) was not written by this store: report a whole lease.
            [Value::Int(2), Value::Int(pttl)] => {
                Ok(Claim::InFlight { retry_after: u64::try_from(*pttl).map_or(lease, Duration::from_millis) })
            }
            _ => Err(StoreError::new(format!("redis claim of {key}: unexpected reply of type {}", kind(&reply)))),
        }
    }
}

/// `EVALSHA sha 1 key args...` (<https://redis.io/docs/latest/commands/evalsha/>), written
/// straight into a command sized for it (`count` arguments after the key, of at most `bytes`
/// bytes in all): one allocation for its bytes, one for its arguments' ends.
fn evalsha(script: &Script, key: &str, count: usize, bytes: usize, args: impl ToRedisArgs) -> Cmd {
    let mut command = Cmd::with_capacity(4 + count, "EVALSHA".len() + 40 + 1 + key.len() + bytes);
    command.arg("EVALSHA").arg(script.get_hash()).arg(1).arg(key).arg(args);
    command
}

/// The most bytes of a token, [`COMPLETED`] and a number of milliseconds, as arguments.
const ARGS_BYTES: usize = 32 + COMPLETED.len() + 20;

/// Whether the `INFO server` text `info` names a server whose `SET` takes `NX` together with
/// `GET`: Redis 7.0 or later (`redis_version`; Valkey reports a compatible one, 7.2.4 for its
/// 7.2 and later). An unreadable version is an old one: the script works everywhere.
fn set_takes_nx_with_get(info: &[u8]) -> bool {
    let Ok(info) = std::str::from_utf8(info) else { return false };
    info.lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .and_then(|version| version.trim().split('.').next()?.parse::<u32>().ok())
        .is_some_and(|major| major >= 7)
}

/// The kind of a reply, for errors that must not show the reply's value.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "bulk string",
        Value::Array(_) => "array",
        Value::SimpleString(_) => "simple string",
        Value::Okay => "OK",
        _ => "other",
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
        if self.claim == ClaimWith::Script {
            return self.claim_by_script(key, token, lease).await;
        }
        // Sets the key only if it is absent, and answers its previous value (nil when absent) in
        // the same atomic command: https://redis.io/docs/latest/commands/set/ ("NX" and "GET"
        // together since 7.0). A key holding another type is an error reply (WRONGTYPE), and
        // nothing is set.
        let mut set = Cmd::with_capacity(7, "SETNXPXGET".len() + key.len() + ARGS_BYTES);
        set.arg("SET").arg(key).arg(token.as_str()).arg("NX").arg("PX").arg(millis(lease)).arg("GET");
        match self.send("claim", &set, key, None).await? {
            Value::Nil => Ok(Claim::Acquired(token)),
            Value::BulkString(value) if value == COMPLETED.as_bytes() => Ok(Claim::Completed),
            // Held: another claim's token, or a value this store did not write. The time left
            // costs a second round trip on this path only (racing copies of one delivery), where
            // a PTTL pipelined with every SET would cost every new delivery a second command on
            // the server. That second call is the CLAIM script rather than a bare `PTTL`: the
            // holder may have completed or released the id, or its lease ended, since the SET
            // (a bare PTTL would then answer the completed id's ttl, or -2); the script decides
            // again, atomically, and claims the id for this token if it is free now.
            Value::BulkString(_) => self.claim_by_script(key, token, lease).await,
            // Never the value itself: it may be another claim's token.
            other => Err(StoreError::new(format!("redis claim of {key}: unexpected reply of type {}", kind(&other)))),
        }
    }

    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        if token.as_str() == COMPLETED {
            return Ok(false); // not a token: it would "hold" every completed id
        }
        let args = (token.as_str(), COMPLETED, millis(ttl));
        Ok(self.run("complete", &COMPLETE, key, 3, args).await? == 1)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        if token.as_str() == COMPLETED {
            return Ok(false); // never delete a completed id
        }
        Ok(self.run("release", &RELEASE, key, 1, token.as_str()).await? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::set_takes_nx_with_get;

    #[test]
    fn set_takes_nx_with_get_from_redis_7_0_on() {
        let info = |version: &str| format!("# Server\r\nredis_version:{version}\r\nredis_git_sha1:00000000\r\n");
        for version in ["7.0.0", "7.0.15", "7.2.4", "8.4.0", "10.0.0"] {
            assert!(set_takes_nx_with_get(info(version).as_bytes()), "{version}");
        }
        for version in ["6.2.14", "6.0.0", "5.0.7", "", "x.y", "-7.0.0"] {
            assert!(!set_takes_nx_with_get(info(version).as_bytes()), "{version}");
        }
        assert!(!set_takes_nx_with_get(b"# Server\r\nredis_mode:standalone\r\n"), "no version");
        assert!(!set_takes_nx_with_get(b"\xff\xfe"), "not UTF-8");
    }
}
