//! The two databases behind one small trait, so the CRM logic is written once.
//!
//! sqlx's `Any` driver cannot carry webhook-guard-sql's typed store, and a function generic over
//! `sqlx::Database` needs a bound per bound type and executor. The CRM's queries only ever bind
//! text and integers and read text and integers, so [`Sql`] offers exactly that on one connection,
//! implemented for SQLite and Postgres by the same macro. The SQL text is shared: `$1`
//! placeholders (SQLite reads `$1` as a named parameter and numbers parameters by first
//! appearance, so every statement here uses them in increasing order), `INSERT … ON CONFLICT`,
//! `RETURNING`. Only the DDL, row locks and the migration lock differ.

use std::future::Future;

use sqlx::AssertSqlSafe;

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// Text, or SQL `NULL`.
    Text(Option<&'a str>),
    /// A 64-bit integer, or SQL `NULL`.
    Int(Option<i64>),
}

/// What a column holds, to decode it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Nullable text.
    Text,
    /// Nullable 64-bit integer.
    Int,
}

/// One decoded column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    /// Nullable text.
    Text(Option<String>),
    /// Nullable 64-bit integer.
    Int(Option<i64>),
}

impl Cell {
    /// The text, `None` for `NULL` or an integer.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => text.as_deref(),
            Self::Int(_) => None,
        }
    }

    /// The integer, `None` for `NULL` or text.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Self::Int(int) => *int,
            Self::Text(_) => None,
        }
    }
}

/// A connection (or transaction) the CRM's queries run on.
pub(crate) trait Sql: Send {
    /// Appended to a `SELECT` that reads rows about to be updated: `FOR UPDATE` on Postgres; empty
    /// on SQLite, whose writing transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
    const FOR_UPDATE: &'static str;

    /// Runs `sql` with `args`; the number of rows it changed.
    fn execute<'c>(
        &'c mut self,
        sql: &'c str,
        args: &'c [Arg<'c>],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// Runs `sql` with `args` and decodes each row's columns as `kinds`.
    fn fetch<'c>(
        &'c mut self,
        sql: &'c str,
        args: &'c [Arg<'c>],
        kinds: &'c [Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Cell>>, sqlx::Error>> + Send + 'c;

    /// Holds transaction-scoped locks on `keys` (sorted, so two transactions never wait on each
    /// other in a cycle) until the transaction ends: Postgres advisory locks. A no-op on SQLite,
    /// where one writing transaction runs at a time.
    fn lock_keys<'c>(&'c mut self, keys: &'c [i64]) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;
}

/// A database crm-sync runs on: its store, its connection type and its DDL.
pub(crate) trait CrmDatabase: webhook_guard_sql::Backend + sqlx::Database<Connection: Sql> {
    /// The statements that create crm-sync's tables, in order, each `IF NOT EXISTS`.
    fn schema() -> Vec<String>;

    /// A statement run first in the schema's transaction, so that two instances starting at once
    /// do not race on `CREATE TABLE` (Postgres); `None` on SQLite.
    const SCHEMA_LOCK: Option<&'static str>;
}

/// The execute and fetch bodies, the same text for both databases (their types differ).
macro_rules! runners {
    () => {
        fn execute<'c>(
            &'c mut self,
            sql: &'c str,
            args: &'c [Arg<'c>],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
            async move {
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for arg in args {
                    query = match *arg {
                        Arg::Text(text) => query.bind(text),
                        Arg::Int(int) => query.bind(int),
                    };
                }
                Ok(query.execute(&mut *self).await?.rows_affected())
            }
        }

        fn fetch<'c>(
            &'c mut self,
            sql: &'c str,
            args: &'c [Arg<'c>],
            kinds: &'c [Kind],
        ) -> impl Future<Output = Result<Vec<Vec<Cell>>, sqlx::Error>> + Send + 'c {
            async move {
                use sqlx::Row as _;
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for arg in args {
                    query = match *arg {
                        Arg::Text(text) => query.bind(text),
                        Arg::Int(int) => query.bind(int),
                    };
                }
                let rows = query.fetch_all(&mut *self).await?;
                rows.iter()
                    .map(|row| {
                        kinds
                            .iter()
                            .enumerate()
                            .map(|(index, kind)| match kind {
                                Kind::Text => row.try_get::<Option<String>, _>(index).map(Cell::Text),
                                Kind::Int => row.try_get::<Option<i64>, _>(index).map(Cell::Int),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    };
}

/// The DDL, with the auto-increment key spelled per database.
fn schema(id: &str, int: &str) -> Vec<String> {
    // Each field has the occurred_at of the event that set it (`<field>_at`): a field takes an
    // event's value only when that event is at least as new as the one that set it, whatever
    // order the events arrive in (see `contact.rs`). Times are RFC 3339 UTC text of fixed width,
    // so they compare as text on both databases.
    let fields = ["name", "email", "phone", "linkedin_url", "company", "title"]
        .map(|field| format!("{field} TEXT, {field}_at TEXT"))
        .join(", ");
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS contacts (id {id}, {fields}, last_event_at TEXT NOT NULL, \
             created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        ),
        // How a contact is found: the sender's own lead id (kind = the sender's name), or a
        // normalised email, phone or LinkedIn URL. One owner per identity.
        format!(
            "CREATE TABLE IF NOT EXISTS contact_identities (kind TEXT NOT NULL, value TEXT NOT NULL, \
             contact_id {int} NOT NULL REFERENCES contacts (id), PRIMARY KEY (kind, value))"
        ),
        "CREATE INDEX IF NOT EXISTS contact_identities_contact ON contact_identities (contact_id)".to_owned(),
        // One row per handled delivery. `lead_id`: the sender's lead the event is about, kept so a
        // note or task that arrives before its lead is linked when the lead arrives.
        format!(
            "CREATE TABLE IF NOT EXISTS activities (id {id}, provider TEXT NOT NULL, delivery_id TEXT NOT NULL, \
             event_type TEXT NOT NULL, occurred_at TEXT NOT NULL, received_at TEXT NOT NULL, \
             contact_id {int} REFERENCES contacts (id), lead_id TEXT, payload TEXT NOT NULL, \
             UNIQUE (provider, delivery_id))"
        ),
        "CREATE INDEX IF NOT EXISTS activities_contact ON activities (contact_id)".to_owned(),
        "CREATE INDEX IF NOT EXISTS activities_unlinked ON activities (provider, lead_id) WHERE contact_id IS NULL"
            .to_owned(),
    ]
}

impl Sql for sqlx::SqliteConnection {
    const FOR_UPDATE: &'static str = "";

    runners!();

    fn lock_keys<'c>(&'c mut self, _keys: &'c [i64]) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c {
        std::future::ready(Ok(()))
    }
}

impl CrmDatabase for sqlx::Sqlite {
    const SCHEMA_LOCK: Option<&'static str> = None;

    fn schema() -> Vec<String> {
        schema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER")
    }
}

impl Sql for sqlx::PgConnection {
    const FOR_UPDATE: &'static str = " FOR UPDATE";

    runners!();

    async fn lock_keys(&mut self, keys: &[i64]) -> Result<(), sqlx::Error> {
        // https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
        for key in keys {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(&mut *self).await?;
        }
        Ok(())
    }
}

impl CrmDatabase for sqlx::Postgres {
    const SCHEMA_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7305598126373290865)");

    fn schema() -> Vec<String> {
        schema("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT")
    }
}

/// Creates crm-sync's tables (not the inbox: the store creates its own) in one transaction.
///
/// # Errors
///
/// The database's error.
pub(crate) async fn create_schema<DB: CrmDatabase>(pool: &sqlx::Pool<DB>) -> Result<(), sqlx::Error> {
    let mut transaction = pool.begin().await?;
    if let Some(lock) = DB::SCHEMA_LOCK {
        Sql::execute(&mut *transaction, lock, &[]).await?;
    }
    for statement in DB::schema() {
        Sql::execute(&mut *transaction, &statement, &[]).await?;
    }
    transaction.commit().await
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A fresh SQLite file database with crm-sync's schema, in a directory removed with the guard.
    pub(crate) async fn sqlite() -> (sqlx::SqlitePool, TempDir) {
        let dir = TempDir::new();
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.0.join("crm.db")).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        create_schema(&pool).await.unwrap();
        (pool, dir)
    }

    /// A directory under the system's temporary directory, removed on drop.
    #[derive(Debug)]
    pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

    impl TempDir {
        fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let name = format!("crm-sync-unit-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            let path = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[tokio::test]
    async fn placeholders_bind_by_first_appearance_on_sqlite_and_the_schema_is_idempotent() {
        let (pool, _dir) = sqlite().await;
        create_schema(&pool).await.unwrap();
        let mut connection = pool.acquire().await.unwrap();
        let rows = connection
            .fetch(
                "SELECT $1 || $2 || $1, $3 + 1",
                &[Arg::Text(Some("a")), Arg::Text(Some("b")), Arg::Int(Some(41))],
                &[Kind::Text, Kind::Int],
            )
            .await
            .unwrap();
        assert_eq!(rows, [vec![Cell::Text(Some("aba".into())), Cell::Int(Some(42))]]);
    }
}
