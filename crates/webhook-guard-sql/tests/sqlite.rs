//! `SqliteStore` on SQLite files in a temporary directory (never an in-memory database: the
//! cases need several pool connections on one database): the protocol, the transactional
//! completion at the store level and over real HTTP.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions as _, SqliteConnection};
use support::TempDir;
use webhook_guard::DedupStore as _;
use webhook_guard_sql::{SqlStore, SqliteStore};

type Db = sqlx::Sqlite;

/// The options the crate docs recommend: WAL (readers never wait for the writer), and a busy
/// timeout below the store's 2 s timeout.
fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(1))
}

struct Fixture {
    dir: TempDir,
    pool: SqlitePool,
}

async fn fixture() -> Fixture {
    let dir = TempDir::new();
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(options(&dir.path().join("inbox.db")))
        .await
        .unwrap();
    Fixture { dir, pool }
}

impl Fixture {
    async fn store(&self) -> SqliteStore {
        SqlStore::new(self.pool.clone()).await.unwrap()
    }

    /// Another connection holding SQLite's one write lock until dropped: every write waits.
    async fn hold_writes(&self) -> SqliteConnection {
        let mut connection = options(&self.dir.path().join("inbox.db")).connect().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut connection).await.unwrap();
        connection
    }
}

// The protocol's rules every DedupStore passes (the workspace's shared suite), on a fresh
// database per rule; then this store's own cases: the table after each step, purge, migrations.
webhook_guard_test_support::store_protocol_suite!(async {
    let fixture = fixture().await;
    (fixture.store().await, fixture)
});
support::protocol::store_cases!();
support::completion::completion_cases!();
support::http::http_cases!();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_opened_is_a_store_error() {
    let dir = TempDir::new();
    let path = dir.path().join("missing-directory").join("inbox.db");
    let pool = SqlitePoolOptions::new().acquire_timeout(Duration::from_millis(500)).connect_lazy_with(options(&path));
    let error = SqliteStore::new(pool).await.unwrap_err().to_string();
    assert!(error.contains("sqlite migration failed"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_is_answered_while_another_delivery_holds_the_write_lock() {
    // WAL: a claim reads first, and a read never waits for the writer, so a duplicate (the
    // common case under retries) is answered at once even while a completing transaction holds
    // the database's one write lock.
    let fixture = fixture().await;
    let store = fixture.store().await;
    let webhook_guard::Claim::Acquired(token) = store.claim("done", support::LEASE).await.unwrap() else {
        panic!("not acquired")
    };
    assert!(store.complete("done", &token, support::TTL).await.unwrap());
    let _in_flight = store.claim("busy", support::LEASE).await.unwrap();
    // Held for good: a claim that tried to write first would wait out the busy timeout and fail.
    let _held = fixture.hold_writes().await;
    assert_eq!(store.claim("done", support::LEASE).await.unwrap(), webhook_guard::Claim::Completed);
    assert!(matches!(store.claim("busy", support::LEASE).await.unwrap(), webhook_guard::Claim::InFlight { .. }));
}
