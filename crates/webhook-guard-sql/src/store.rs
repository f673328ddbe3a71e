//! [`SqlStore`]: the dedup protocol on one table, and its builder.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use webhook_guard::{Claim, ClaimToken, DedupStore, StoreError, clamp_duration};

use crate::backend::{Arg, Backend, PURGE_BATCH, Row, Statements};

/// The default per-call timeout: 2 seconds, as `RedisStore`'s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The default table: `webhook_guard_inbox`.
pub const DEFAULT_TABLE: &str = "webhook_guard_inbox";

/// The longest table name: the index is named `{table}_expires_at`, and Postgres cuts
/// identifiers at 63 bytes.
const MAX_TABLE_LEN: usize = 52;

/// How many times a claim reads and writes before it gives up: each round is lost only to
/// another request that changed the same row in between, so more than two is already rare.
const CLAIM_ROUNDS: usize = 4;

/// What a claim answers about an expired row that another transaction holds locked (a handler
/// that outlived its lease, committing): in flight, retry in a second.
const LOCKED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// A [`DedupStore`] on one SQL table (SQLite or Postgres), which can also complete a claim
/// inside the handler's own transaction ([`SqlStore::begin_completing`]). Cloning shares the
/// pool.
pub struct SqlStore<DB: Backend> {
    pub(crate) pool: sqlx::Pool<DB>,
    pub(crate) sql: Arc<Statements>,
    table: Arc<str>,
    pub(crate) timeout: Duration,
}

/// [`SqlStore`] on SQLite.
#[cfg(feature = "sqlite")]
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

/// [`SqlStore`] on PostgreSQL.
#[cfg(feature = "postgres")]
pub type PostgresStore = SqlStore<sqlx::Postgres>;

impl<DB: Backend> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            sql: Arc::clone(&self.sql),
            table: Arc::clone(&self.table),
            timeout: self.timeout,
        }
    }
}

impl<DB: Backend> fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool's options hold the database url and password: only the store's own settings.
        f.debug_struct("SqlStore")
            .field("database", &DB::LABEL)
            .field("table", &self.table)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Options for [`SqlStore`]: see [`SqlStore::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStoreBuilder {
    table: String,
    timeout: Duration,
}

impl Default for SqlStoreBuilder {
    fn default() -> Self {
        Self { table: DEFAULT_TABLE.to_owned(), timeout: DEFAULT_TIMEOUT }
    }
}

impl SqlStoreBuilder {
    /// The table's name: lowercase ASCII letters, digits and `_`, not starting with a digit, at
    /// most 52 bytes. Default [`DEFAULT_TABLE`]. One table per application sharing a database,
    /// or share one table and tell applications apart by [`Dedup::namespace`](webhook_guard::Dedup::namespace).
    #[must_use]
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// How long one call (claim, complete, release, beginning a completion, one purge batch),
    /// and the migration, may take before it fails with a [`StoreError`]. Default
    /// [`DEFAULT_TIMEOUT`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Creates the table and its index on `pool` if they do not exist (see the crate docs), and
    /// returns the store.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the table name is invalid, or the migration fails or does not
    /// finish within the timeout.
    pub async fn build<DB: Backend>(self, pool: sqlx::Pool<DB>) -> Result<SqlStore<DB>, StoreError> {
        validate_table(&self.table)?;
        let store = SqlStore {
            pool,
            sql: Arc::new(DB::statements(&self.table)),
            table: self.table.into(),
            timeout: self.timeout,
        };
        store.bounded("migration", "", store.migrate()).await?;
        Ok(store)
    }
}

fn validate_table(table: &str) -> Result<(), StoreError> {
    let mut bytes = table.bytes();
    let valid = matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && table.len() <= MAX_TABLE_LEN;
    if valid {
        Ok(())
    } else {
        Err(StoreError::new(format!(
            "invalid table name {table:?}: use lowercase letters, digits and `_`, not starting with a digit, \
             at most {MAX_TABLE_LEN} bytes"
        )))
    }
}

impl<DB: Backend> SqlStore<DB> {
    /// Creates the table on `pool` if need be (see [`SqlStoreBuilder::build`]), with the
    /// defaults: table [`DEFAULT_TABLE`], timeout [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the migration fails or does not finish within 2 s.
    pub async fn new(pool: sqlx::Pool<DB>) -> Result<Self, StoreError> {
        SqlStoreBuilder::default().build(pool).await
    }

    /// Options: the table's name and the per-call timeout.
    pub fn builder() -> SqlStoreBuilder {
        SqlStoreBuilder::default()
    }

    /// The pool the store runs on (the application's own: the same one its handlers use).
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Deletes expired rows — completed ids past their ttl, and claims whose lease ended (their
    /// holder can no longer complete them, so deleting them is the same as their expiry) — in
    /// batches of 1000, each bounded by the timeout. Run it periodically (hourly is plenty): the
    /// protocol never needs it, it only keeps the table small.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when a batch fails or times out; the batches before it stay deleted.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let args = [Arg::Int(PURGE_BATCH)];
            let deleted = self.bounded("purge", "", self.execute(&self.sql.purge, &args)).await?;
            purged += deleted;
            if deleted < u64::try_from(PURGE_BATCH).unwrap_or(u64::MAX) {
                return Ok(purged);
            }
        }
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let mut transaction = self.pool.begin_with(DB::BEGIN).await?;
        if let Some((lock, key)) = DB::lock_migration(&self.table) {
            DB::execute(&mut *transaction, Arc::from(lock), &[Arg::Int(key)]).await?;
        }
        for statement in &self.sql.migrate {
            DB::execute(&mut *transaction, Arc::clone(statement), &[]).await?;
        }
        transaction.commit().await
    }

    /// Runs `sql` on a connection from the pool.
    async fn execute(&self, sql: &Arc<str>, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        let mut connection = self.pool.acquire().await?;
        DB::execute(&mut *connection, Arc::clone(sql), args).await
    }

    async fn read(&self, key: &str) -> Result<Option<Row>, sqlx::Error> {
        let mut connection = self.pool.acquire().await?;
        DB::read(&mut *connection, Arc::clone(&self.sql.read), key).await
    }

    /// `operation` on `key` bounded by the timeout; every failure a [`StoreError`] that names the
    /// database, the operation and the key (never a token, never the url).
    pub(crate) async fn bounded<T>(
        &self,
        operation: &str,
        key: &str,
        work: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        let of = if key.is_empty() { String::new() } else { format!(" of {key}") };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::new(format!("{} {operation}{of} failed: {error}", DB::LABEL))),
            Err(_) => Err(StoreError::new(format!("{} {operation}{of} timed out after {:?}", DB::LABEL, self.timeout))),
        }
    }

    /// The claim's rounds: read (never waits for a lock), then insert or take over an expired
    /// row; a write that changed nothing lost a race, and the next round reads what won.
    async fn claim_rounds(&self, key: &str, token: &ClaimToken, lease: i64) -> Result<Claim, ClaimFailure> {
        let args = [Arg::Text(key), Arg::Text(token.as_str()), Arg::Int(lease)];
        let mut reclaim_skipped = false;
        for _ in 0..CLAIM_ROUNDS {
            match self.read(key).await? {
                Some(row) if row.expires_at > row.now => {
                    return Ok(if row.completed {
                        Claim::Completed
                    } else {
                        Claim::InFlight { retry_after: millis_to_duration(row.expires_at - row.now) }
                    });
                }
                None => {
                    if self.execute(&self.sql.insert, &args).await? == 1 {
                        return Ok(Claim::Acquired(*token));
                    }
                }
                Some(_expired) => {
                    // Still expired after a reclaim that changed nothing: a transaction holds the
                    // row (Postgres skips locked rows) — a completing handler past its lease. It
                    // is in flight until that transaction ends.
                    if reclaim_skipped {
                        return Ok(Claim::InFlight { retry_after: LOCKED_RETRY_AFTER });
                    }
                    if self.execute(&self.sql.reclaim, &args).await? == 1 {
                        return Ok(Claim::Acquired(*token));
                    }
                    reclaim_skipped = true;
                }
            }
        }
        Err(ClaimFailure::Contended)
    }
}

/// Why the claim's rounds ended without an answer.
enum ClaimFailure {
    Database(sqlx::Error),
    Contended,
}

impl From<sqlx::Error> for ClaimFailure {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

/// Whole milliseconds for the database: at least 1 (a zero lease would be expired when
/// written), at most [`MAX_DURATION`](webhook_guard::MAX_DURATION) (100 years: about 3.2e12 ms,
/// far from overflowing `expires_at` = now + it).
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(clamp_duration(duration).as_millis()).unwrap_or(i64::MAX).max(1)
}

fn millis_to_duration(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

impl<DB: Backend> DedupStore for SqlStore<DB> {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random()?;
        let rounds = async {
            match self.claim_rounds(key, &token, millis(lease)).await {
                Ok(claim) => Ok(Ok(claim)),
                Err(ClaimFailure::Database(error)) => Err(error),
                Err(ClaimFailure::Contended) => Ok(Err(())),
            }
        };
        match self.bounded("claim", key, rounds).await? {
            Ok(claim) => Ok(claim),
            Err(()) => Err(StoreError::new(format!(
                "{} claim of {key}: the row changed under {CLAIM_ROUNDS} reads in a row",
                DB::LABEL
            ))),
        }
    }

    async fn complete(&self, key: &str, token: &ClaimToken, ttl: Duration) -> Result<bool, StoreError> {
        let args = [Arg::Text(key), Arg::Text(token.as_str()), Arg::Int(millis(ttl))];
        Ok(self.bounded("complete", key, self.execute(&self.sql.complete, &args)).await? == 1)
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<bool, StoreError> {
        let args = [Arg::Text(key), Arg::Text(token.as_str())];
        Ok(self.bounded("release", key, self.execute(&self.sql.release, &args)).await? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers_or_refused() {
        for good in ["webhook_guard_inbox", "_x", "a1", &"a".repeat(52)] {
            assert!(validate_table(good).is_ok(), "{good}");
        }
        for bad in ["", "1a", "Inbox", "in-box", "x\"; DROP TABLE y; --", "é", &"a".repeat(53)] {
            let error = validate_table(bad).unwrap_err();
            assert!(error.to_string().contains("invalid table name"), "{bad}: {error}");
        }
    }

    #[test]
    fn durations_become_whole_milliseconds_without_overflow() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
        assert_eq!(millis(Duration::from_secs(60)), 60_000);
        assert_eq!(millis(Duration::MAX), 100 * 365 * 24 * 3600 * 1000);
        assert_eq!(millis_to_duration(-5), Duration::ZERO);
    }
}
