//! `PostgresStore` on a real PostgreSQL server of the test's own (a database per test): the
//! protocol, the transactional completion at the store level and over real HTTP, and the server
//! killed mid-run and restarted.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection as _, PgConnection};
use support::blocking;
use webhook_guard::{ClaimToken, DedupStore as _};
use webhook_guard_sql::{PostgresStore, SqlStore};
use webhook_guard_test_support::postgres_server::PostgresServer;

type Db = sqlx::Postgres;

/// The pool the crate docs recommend: an acquire timeout below the store's 2 s timeout, so a
/// database that is down fails the call, not the wait for a connection.
async fn pool(url: &str) -> PgPool {
    PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(1)).connect(url).await.unwrap()
}

struct Fixture {
    server: PostgresServer,
    url: String,
    pool: PgPool,
}

async fn fixture() -> Fixture {
    let (server, url) = blocking(|| {
        let server = PostgresServer::start();
        let url = server.create_database("inbox");
        (server, url)
    })
    .await;
    let pool = pool(&url).await;
    Fixture { server, url, pool }
}

impl Fixture {
    async fn store(&self) -> PostgresStore {
        SqlStore::new(self.pool.clone()).await.unwrap()
    }

    /// Another connection holding the inbox table locked until dropped: every read and write of
    /// it waits.
    async fn hold_writes(&self) -> PgConnection {
        let mut connection = PgConnection::connect(&self.url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
        sqlx::query("LOCK TABLE webhook_guard_inbox IN ACCESS EXCLUSIVE MODE").execute(&mut connection).await.unwrap();
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
async fn a_server_that_is_down_is_a_store_error_within_the_timeout_without_the_password() {
    let mut fixture = fixture().await;
    let url = fixture.url.replace("postgres@", "postgres:hunter2@");
    let secret_pool = pool(&url).await;
    let store = PostgresStore::builder().timeout(Duration::from_millis(500)).build(secret_pool).await.unwrap();
    assert!(!format!("{store:?}").contains("hunter2"));
    let token = match store.claim("k", support::LEASE).await.unwrap() {
        webhook_guard::Claim::Acquired(token) => token,
        other => panic!("{other:?}"),
    };
    blocking(move || {
        fixture.server.kill();
        fixture
    })
    .await;
    let started = Instant::now();
    let error = store.claim("k2", support::LEASE).await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(error.contains("postgres claim of k2"), "{error}");
    let error = store.complete("k", &token, support::TTL).await.unwrap_err().to_string();
    assert!(!error.contains(token.as_str()) && !error.contains("hunter2"), "{error}");
    let error = store.release("k", &ClaimToken::random().unwrap()).await.unwrap_err().to_string();
    assert!(error.contains("postgres release of k"), "{error}");
    let error = PostgresStore::builder().timeout(Duration::from_millis(500)).build(pool_lazy(&url)).await.unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

fn pool_lazy(url: &str) -> PgPool {
    PgPoolOptions::new().acquire_timeout(Duration::from_millis(300)).connect_lazy(url).unwrap()
}

mod killed {
    super::support::http::receiver!();

    use super::fixture;
    use super::support::blocking;
    use super::support::http::{assert_handled, resend_while_in_flight, send};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_database_killed_mid_run_is_a_503_then_deliveries_succeed_after_its_restart() {
        let mut fixture = fixture().await;
        let receiver = serve(fixture.store().await, Duration::from_secs(2)).await;
        let addr = receiver.addr;
        let before = blocking(move || send(addr, "before_1").unwrap()).await;
        assert_handled(&before);

        // A handler inside its transaction when the server dies: its commit fails, nothing of it
        // survives the restart.
        let in_transaction = tokio::task::spawn_blocking(move || send(addr, "slow_killed_1").unwrap());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let server = blocking(move || {
            fixture.server.kill();
            fixture
        })
        .await;
        fixture = server;
        let in_transaction = in_transaction.await.unwrap();
        assert_eq!(in_transaction.status, 500, "{in_transaction:?}");

        // While it is down: 503 with Retry-After, the handler not called.
        let down = blocking(move || send(addr, "down_1").unwrap()).await;
        assert_eq!(down.status, 503, "{down:?}");
        assert_eq!(down.json()["error"], "store_unavailable", "{down:?}");
        assert_eq!(down.header("retry-after"), Some("30"), "{down:?}");
        assert_eq!(receiver.calls_of("down_1"), 0);

        let fixture = blocking(move || {
            fixture.server.restart();
            fixture
        })
        .await;
        // After the restart the pool reconnects by itself: every delivery succeeds, once. The one
        // killed mid-transaction waits for its claim's lease (2 s) to end.
        for id in ["down_1", "after_1", "slow_killed_1"] {
            let response = blocking(move || resend_while_in_flight(addr, id, Duration::from_secs(10))).await;
            assert_handled(&response);
            assert_eq!(receiver.effects(id).await, 1, "{id}");
        }
        assert_eq!(receiver.effects("before_1").await, 1, "committed before the crash: kept");
        assert_eq!(receiver.calls_of("down_1"), 1);
        drop(fixture);
    }
}
