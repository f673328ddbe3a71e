//! The cost per delivery of transactional completion on each database, beside the plain
//! `DedupStore` completion on the same database and beside `MemoryStore`.
//!
//! Every row is one delivery through a real [`Guard`]: admitted (verified and claimed) from a
//! delivery signed beforehand, then settled as a handler would:
//!
//! - `plain`: the guard completes the claim after the handler (`ClaimHandle::finish(204)`): a claim
//!   and a complete, no effect written;
//! - `plain+insert`: the same, with the handler writing one effect row on its own (autocommit),
//!   the way a handler without transactional completion writes;
//! - `transactional`: `begin_completing`, the effect row in the completion's transaction, commit,
//!   then `finish(204)` (which leaves the committed claim alone).
//!
//! SQLite runs on a file in a temporary directory with the options the crate docs recommend (WAL,
//! sqlx's default `synchronous = FULL`); Postgres 15 on a server of the bench's own on loopback
//! (the test support's `PostgresServer`, which runs with `fsync = off`: its rows measure round
//! trips and the server's work, not flushes to disk). Run with
//! `cargo bench -p webhook-guard-sql --bench completion`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::StatusCode;
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{Dedup, Guard, MemoryStore, Verifier};
use webhook_guard_sql::SqlStore;
use webhook_guard_test_support::conformance::BotdogReceiver;
use webhook_guard_test_support::postgres_server::PostgresServer;

const SECRET: &str = "whsec_completion_bench";
const EFFECTS_DDL: &str = "CREATE TABLE IF NOT EXISTS effects (id TEXT NOT NULL)";
const INSERT_EFFECT: &str = "INSERT INTO effects (id) VALUES ($1)";

fn guard(dedup: Dedup) -> Guard<Botdog> {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    Guard::new(verifier).with_dedup(dedup).unwrap()
}

/// A delivery signed beforehand: its id, headers and body.
type Signed = (String, Vec<(String, String)>, String);

/// `count` deliveries with ids never used before, signed now.
fn deliveries(count: u64) -> Vec<Signed> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap();
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    (0..count)
        .map(|_| {
            let id = format!("bench_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            let body = BotdogReceiver::valid_body(&id, "LEAD_MESSAGE_SENT");
            let headers = signer.sign_delivery(&body, now, "", None).headers;
            (id, headers, String::from_utf8(body).unwrap())
        })
        .collect()
}

/// How a delivery is settled after its admission.
#[derive(Clone, Copy)]
enum Settle {
    Plain,
    PlainInsert,
    Transactional,
}

/// Times `iters` deliveries through `guard`, settled as `settle` says (the signing is not timed).
macro_rules! run {
    ($guard:expr, $store:expr, $settle:expr, $iters:expr) => {{
        let deliveries = deliveries($iters);
        let started = Instant::now();
        for (id, headers, body) in deliveries {
            let admitted = $guard.admit_body(&headers, body).await.unwrap();
            let claim = admitted.claim.unwrap();
            match $settle {
                Settle::Plain => {}
                Settle::PlainInsert => {
                    sqlx::query(INSERT_EFFECT).bind(&id).execute($store.pool()).await.unwrap();
                }
                Settle::Transactional => {
                    let mut completion = $store.begin_completing(&claim.held()).await.unwrap();
                    sqlx::query(INSERT_EFFECT).bind(&id).execute(&mut *completion).await.unwrap();
                    completion.commit().await.unwrap();
                }
            }
            claim.finish(StatusCode::NO_CONTENT).await;
        }
        started.elapsed()
    }};
}

fn completion(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut group = c.benchmark_group("delivery");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));

    let memory = guard(Dedup::new(MemoryStore::default()));
    group.bench_function("memory/plain", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let memory = &memory;
            async move {
                let deliveries = deliveries(iters);
                let started = Instant::now();
                for (_, headers, body) in deliveries {
                    let admitted = memory.admit_body(&headers, body).await.unwrap();
                    admitted.claim.unwrap().finish(StatusCode::NO_CONTENT).await;
                }
                started.elapsed()
            }
        });
    });

    let dir = std::env::temp_dir().join(format!("webhook-guard-sql-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = runtime.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("inbox.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(1));
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect_with(options).await.unwrap();
        sqlx::query(EFFECTS_DDL).execute(&pool).await.unwrap();
        SqlStore::new(pool).await.unwrap()
    });
    let sqlite_guard = guard(Dedup::new(sqlite.clone()));
    for (name, settle) in [
        ("sqlite/plain", Settle::Plain),
        ("sqlite/plain+insert", Settle::PlainInsert),
        ("sqlite/transactional", Settle::Transactional),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (guard, store) = (&sqlite_guard, &sqlite);
                async move { run!(guard, store, settle, iters) }
            });
        });
    }

    let server = PostgresServer::start();
    let url = server.create_database("bench");
    let postgres = runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&url).await.unwrap();
        sqlx::query(EFFECTS_DDL).execute(&pool).await.unwrap();
        SqlStore::new(pool).await.unwrap()
    });
    let postgres_guard = guard(Dedup::new(postgres.clone()));
    for (name, settle) in [
        ("postgres/plain", Settle::Plain),
        ("postgres/plain+insert", Settle::PlainInsert),
        ("postgres/transactional", Settle::Transactional),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (guard, store) = (&postgres_guard, &postgres);
                async move { run!(guard, store, settle, iters) }
            });
        });
    }
    group.finish();
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, completion);
criterion_main!(benches);
