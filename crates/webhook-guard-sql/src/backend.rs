//! [`Backend`]: what differs between the databases — the SQL text, the clock expression, how a
//! completing transaction begins — behind one sealed trait, so the store's logic is written once.

use std::future::Future;
use std::sync::Arc;

/// A database [`SqlStore`](crate::SqlStore) runs on: [`sqlx::Sqlite`] (feature `sqlite`) and
/// [`sqlx::Postgres`] (feature `postgres`). Sealed: its methods are the store's own plumbing.
pub trait Backend: sealed::Sealed {}

// `pub` in this private module: they appear in the sealed trait's signatures, which must not
// name crate-private types; nothing outside the crate can reach them.

/// One bound parameter: the store binds only keys and tokens (text) and milliseconds (integers).
#[derive(Debug, Clone, Copy)]
#[allow(unreachable_pub)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

/// A row of the inbox as a claim reads it, with the database's clock at the time of the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(unreachable_pub)]
pub struct Row {
    pub(crate) completed: bool,
    pub(crate) expires_at: i64,
    pub(crate) now: i64,
}

/// Every statement the store runs, built once per store for its table name (validated to be
/// `[a-z_][a-z0-9_]*`, and quoted, so it cannot inject SQL nor collide with a keyword).
#[derive(Debug)]
#[allow(unreachable_pub)]
pub struct Statements {
    /// The DDL, in order, run in one transaction.
    pub(crate) migrate: Vec<Arc<str>>,
    /// `$1` key → one [`Row`] or none. A plain read: it never waits for a lock.
    pub(crate) read: Arc<str>,
    /// `$1` key, `$2` token, `$3` lease ms: inserts an in-flight row unless the key exists.
    pub(crate) insert: Arc<str>,
    /// `$1` key, `$2` token, `$3` lease ms: takes over an expired row.
    pub(crate) reclaim: Arc<str>,
    /// `$1` key, `$2` token, `$3` ttl ms: the compare-and-set to completed.
    pub(crate) complete: Arc<str>,
    /// `$1` key, `$2` token: the compare-and-delete.
    pub(crate) release: Arc<str>,
    /// `$1` batch size: deletes up to that many expired rows.
    pub(crate) purge: Arc<str>,
}

#[allow(unreachable_pub, missing_docs)]
pub(crate) mod sealed {
    use super::*;

    /// The per-database plumbing. Not nameable outside the crate, so no other type can implement
    /// [`Backend`](super::Backend).
    pub trait Sealed: sqlx::Database {
        /// `sqlite` or `postgres`, for error messages.
        const LABEL: &'static str;

        /// The statement that opens a completing transaction.
        const BEGIN: &'static str;

        /// The statements for `table` (already validated).
        fn statements(table: &str) -> Statements;

        /// Runs the migration's first statement with its arguments: Postgres serialises
        /// concurrent migrations on an advisory lock keyed by the table's name; SQLite's
        /// `BEGIN IMMEDIATE` already did.
        fn lock_migration(table: &str) -> Option<(&'static str, i64)>;

        /// Runs `sql` with `args`; the number of rows it changed.
        fn execute<'c>(
            connection: &'c mut Self::Connection,
            sql: Arc<str>,
            args: &'c [Arg<'c>],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

        /// Runs [`Statements::read`] for `key`.
        fn read<'c>(
            connection: &'c mut Self::Connection,
            sql: Arc<str>,
            key: &'c str,
        ) -> impl Future<Output = Result<Option<Row>, sqlx::Error>> + Send + 'c;
    }
}

/// The two query runners, the same text for both databases (their types differ).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! runners {
    () => {
        fn execute<'c>(
            connection: &'c mut Self::Connection,
            sql: Arc<str>,
            args: &'c [Arg<'c>],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
            async move {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for arg in args {
                    query = match *arg {
                        Arg::Text(text) => query.bind(text),
                        Arg::Int(int) => query.bind(int),
                    };
                }
                Ok(query.execute(&mut *connection).await?.rows_affected())
            }
        }

        fn read<'c>(
            connection: &'c mut Self::Connection,
            sql: Arc<str>,
            key: &'c str,
        ) -> impl Future<Output = Result<Option<Row>, sqlx::Error>> + Send + 'c {
            async move {
                use sqlx::Row as _;
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&mut *connection).await?;
                row.map(|row| Ok(Row { completed: row.try_get(0)?, expires_at: row.try_get(1)?, now: row.try_get(2)? }))
                    .transpose()
            }
        }
    };
}

/// How many expired rows one purge statement deletes: small enough that no statement holds its
/// locks (SQLite's one write lock) for long.
pub(crate) const PURGE_BATCH: i64 = 1000;

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    /// The database's clock in unix milliseconds. `clock_timestamp()`, not `now()`: `now()` is the
    /// start of the transaction, and a completing transaction must check the lease at the moment
    /// of its compare-and-set.
    /// <https://www.postgresql.org/docs/current/functions-datetime.html#FUNCTIONS-DATETIME-CURRENT>
    const NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    impl Backend for sqlx::Postgres {}

    impl sealed::Sealed for sqlx::Postgres {
        const LABEL: &'static str = "postgres";
        const BEGIN: &'static str = "BEGIN";

        fn statements(table: &str) -> Statements {
            let t = format!("\"{table}\"");
            let index = format!("\"{table}_expires_at\"");
            let s = |sql: String| Arc::<str>::from(sql);
            Statements {
                migrate: vec![
                    s(format!(
                        "CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, token TEXT NOT NULL, \
                         completed BOOLEAN NOT NULL, expires_at BIGINT NOT NULL)"
                    )),
                    s(format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)")),
                ],
                read: s(format!("SELECT completed, expires_at, {NOW} FROM {t} WHERE key = $1")),
                // `ON CONFLICT DO NOTHING`: of racing inserts one wins, the others change nothing
                // and read again. https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
                insert: s(format!(
                    "INSERT INTO {t} (key, token, completed, expires_at) VALUES ($1, $2, FALSE, {NOW} + $3) \
                     ON CONFLICT (key) DO NOTHING"
                )),
                // `SKIP LOCKED`: an expired row locked by an open completing transaction (a handler
                // that outlived its lease and is committing) is skipped, not waited for; the claim
                // then answers in flight. https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
                reclaim: s(format!(
                    "UPDATE {t} SET token = $2, completed = FALSE, expires_at = {NOW} + $3 WHERE key = \
                     (SELECT key FROM {t} WHERE key = $1 AND expires_at <= {NOW} FOR UPDATE SKIP LOCKED)"
                )),
                complete: s(format!(
                    "UPDATE {t} SET completed = TRUE, expires_at = {NOW} + $3 \
                     WHERE key = $1 AND token = $2 AND NOT completed AND expires_at > {NOW}"
                )),
                release: s(format!(
                    "DELETE FROM {t} WHERE key = $1 AND token = $2 AND NOT completed AND expires_at > {NOW}"
                )),
                purge: s(format!(
                    "DELETE FROM {t} WHERE key IN \
                     (SELECT key FROM {t} WHERE expires_at <= {NOW} LIMIT $1 FOR UPDATE SKIP LOCKED)"
                )),
            }
        }

        fn lock_migration(table: &str) -> Option<(&'static str, i64)> {
            // Two instances starting at once would both run `CREATE TABLE IF NOT EXISTS`, and one
            // can fail on the catalog's unique index; a transaction-scoped advisory lock makes the
            // second wait for the first, then find the table.
            // https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
            Some(("SELECT pg_advisory_xact_lock($1)", lock_key(table)))
        }

        runners!();
    }

    /// The advisory lock's key: FNV-1a of the crate's name and the table's, so two stores of
    /// different tables do not wait on each other.
    fn lock_key(table: &str) -> i64 {
        let hash = "webhook-guard-sql:"
            .bytes()
            .chain(table.bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
        i64::from_ne_bytes(hash.to_ne_bytes())
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    /// The database's clock in unix milliseconds (`unixepoch('subsec')` needs SQLite 3.42; the
    /// bundled SQLite is newer). https://www.sqlite.org/lang_datefunc.html
    const NOW: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

    impl Backend for sqlx::Sqlite {}

    impl sealed::Sealed for sqlx::Sqlite {
        const LABEL: &'static str = "sqlite";
        // `IMMEDIATE`: the write lock is taken at `BEGIN`, waiting up to the busy timeout, rather
        // than at the first write. https://www.sqlite.org/lang_transaction.html
        const BEGIN: &'static str = "BEGIN IMMEDIATE";

        fn statements(table: &str) -> Statements {
            let t = format!("\"{table}\"");
            let index = format!("\"{table}_expires_at\"");
            let s = |sql: String| Arc::<str>::from(sql);
            Statements {
                migrate: vec![
                    // `WITHOUT ROWID`: the key is the table's only index, no second b-tree.
                    // https://www.sqlite.org/withoutrowid.html
                    s(format!(
                        "CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY NOT NULL, token TEXT NOT NULL, \
                         completed INTEGER NOT NULL CHECK (completed IN (0, 1)), expires_at INTEGER NOT NULL) \
                         WITHOUT ROWID"
                    )),
                    s(format!("CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)")),
                ],
                read: s(format!("SELECT completed, expires_at, {NOW} FROM {t} WHERE key = ?1")),
                // https://www.sqlite.org/lang_upsert.html
                insert: s(format!(
                    "INSERT INTO {t} (key, token, completed, expires_at) VALUES (?1, ?2, 0, {NOW} + ?3) \
                     ON CONFLICT (key) DO NOTHING"
                )),
                // SQLite has no row locks: the statement waits for the one write lock (the busy
                // timeout), so an open completing transaction has committed or rolled back by
                // the time it runs, and its result is seen.
                reclaim: s(format!(
                    "UPDATE {t} SET token = ?2, completed = 0, expires_at = {NOW} + ?3 \
                     WHERE key = ?1 AND expires_at <= {NOW}"
                )),
                complete: s(format!(
                    "UPDATE {t} SET completed = 1, expires_at = {NOW} + ?3 \
                     WHERE key = ?1 AND token = ?2 AND completed = 0 AND expires_at > {NOW}"
                )),
                release: s(format!(
                    "DELETE FROM {t} WHERE key = ?1 AND token = ?2 AND completed = 0 AND expires_at > {NOW}"
                )),
                purge: s(format!(
                    "DELETE FROM {t} WHERE key IN (SELECT key FROM {t} WHERE expires_at <= {NOW} LIMIT ?1)"
                )),
            }
        }

        fn lock_migration(_table: &str) -> Option<(&'static str, i64)> {
            None
        }

        runners!();
    }
}
