//! crm-sync: an axum service that receives Botdog, Pollybot, Breakcold, Breakcold legacy and
//! Standard Webhooks (Arbol) deliveries and keeps `contacts` and `activities` in SQLite or
//! PostgreSQL, each delivery applied exactly once (webhook-guard-sql's transactional completion).
//! See the README next to this crate.
//!
//! Environment: `BOTDOG_SECRET`, `POLLYBOT_SECRET`, `BREAKCOLD_SECRET`,
//! `BREAKCOLD_LEGACY_SECRET`, `STANDARD_SECRET` (each enables its route; at least one),
//! `DATABASE_URL` (default `sqlite://crm-sync.db`; `sqlite://PATH` is created when missing;
//! `postgres://…`), `ADDR` (default `127.0.0.1:3000`). Exits with status 2 on a configuration
//! or startup error.

mod activity;
mod contact;
mod database;
mod effect;
mod routes;
mod senders;

use std::process::ExitCode;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use webhook_guard_sql::SqlStore;

use crate::database::CrmDatabase;

/// The database when `DATABASE_URL` is not set: a file in the working directory.
const DEFAULT_DATABASE_URL: &str = "sqlite://crm-sync.db";

/// How often expired inbox rows are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("crm-sync: error: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    if routes::SENDERS.iter().all(|(_, variable)| secret(variable).is_none()) {
        let names: Vec<&str> = routes::SENDERS.iter().map(|(_, variable)| *variable).collect();
        return Err(format!("set at least one sender's secret: {}", names.join(", ")));
    }
    // The url is never printed: it may hold a password.
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // An acquire timeout below the store's 2 s (webhook-guard-sql's recommendation): a
        // database that is down fails the claim fast (503) instead of queueing requests.
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(1))
            .connect(&url)
            .await
            .map_err(|error| format!("DATABASE_URL (postgres): {error}"))?;
        serve(pool, &addr).await
    } else if url.starts_with("sqlite:") {
        if url.contains(":memory:") || url.contains("mode=memory") {
            // Each pooled connection would see its own empty database.
            return Err("DATABASE_URL: an in-memory SQLite database cannot be shared by a pool: use a file".to_owned());
        }
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|error| format!("DATABASE_URL (sqlite): {error}"))?
            .create_if_missing(true)
            // As webhook-guard-sql recommends: WAL, so reads (a duplicate's claim) never wait for
            // the one writer (https://www.sqlite.org/wal.html); a busy timeout below the store's
            // 2 s, so a write that cannot get the lock fails before the store gives up on it.
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(1));
        let pool = SqlitePoolOptions::new()
            .acquire_timeout(Duration::from_secs(1))
            .connect_with(options)
            .await
            .map_err(|error| format!("DATABASE_URL (sqlite): {error}"))?;
        serve(pool, &addr).await
    } else {
        Err("DATABASE_URL must start with sqlite: or postgres://".to_owned())
    }
}

async fn serve<DB: CrmDatabase>(pool: sqlx::Pool<DB>, addr: &str) -> Result<(), String> {
    database::create_schema(&pool).await.map_err(|error| format!("creating the tables: {error}"))?;
    let store = SqlStore::new(pool.clone()).await.map_err(|error| format!("creating the inbox: {error}"))?;
    let (router, paths) = routes::router(&store, secret)?;

    let purging = store.clone();
    let purge = tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            if let Err(error) = purging.purge_expired().await {
                eprintln!("crm-sync: purging expired inbox rows failed: {error}");
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|error| format!("ADDR {addr}: {error}"))?;
    let local = listener.local_addr().map_err(|error| error.to_string())?;
    eprintln!("crm-sync: listening on {local} ({} on {})", paths.join(", "), pool_kind::<DB>());
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown()).await;
    purge.abort();
    pool.close().await;
    served.map_err(|error| format!("serving: {error}"))?;
    eprintln!("crm-sync: stopped");
    Ok(())
}

/// The secret in environment variable `variable`, unless unset or empty.
fn secret(variable: &str) -> Option<String> {
    std::env::var(variable).ok().filter(|secret| !secret.is_empty())
}

fn pool_kind<DB: CrmDatabase>() -> &'static str {
    <DB as sqlx::Database>::NAME
}

/// Resolves on ctrl-c or SIGTERM: the server stops accepting, finishes the requests in flight
/// (their transactions commit or roll back), then exits.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
