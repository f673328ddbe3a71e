//! The harness the webhook-guard workspace's own tests share; not published.
//!
//! Every receiver this workspace builds — the tower layer, the axum and actix-web extractors, the
//! Redis store behind them, the example binaries — must answer the one status table and survive
//! the same hostile input. Their tests start a receiver and hand it to the suites here, so each
//! row is asserted in one place:
//!
//! - [`conformance`]: the status table over real HTTP against any Botdog receiver
//!   ([`BotdogReceiver`](conformance::BotdogReceiver)), with its dedup rows and the hostile-input
//!   checks (non-ASCII headers, lying lengths, oversized, trickling and endless bodies, idle
//!   connections).
//! - [`http_client`]: a loopback HTTP/1.1 client that can also send what a well-behaved client
//!   library refuses to (a body that stops halfway, raw header bytes).
//! - [`process`]: runs a receiver binary and collects what it prints; the example binaries'
//!   checks.
//! - [`dedup_scenarios`](mod@dedup_scenarios): the dedup scenarios every adapter built on the
//!   tower layer passes, as the [`dedup_scenarios!`](macro@dedup_scenarios) macro.
//! - `chaos` (feature `chaos`): 10,000 events with racing copies and a failing handler over two
//!   axum receivers sharing one store.
//! - [`store_protocol`](mod@store_protocol): the `DedupStore` protocol's rules (claim, complete,
//!   release, leases, ttls, tokens, keys, concurrent claims), one async check each, run against
//!   every store — `MemoryStore`, the Redis store, the SQL stores — as the
//!   [`store_protocol_suite!`](macro@store_protocol_suite) macro.
//! - [`UnreachableStore`]: a `DedupStore` that always fails, for the store-unavailable row.
//! - [`redis_server`]: a real `redis-server` on a free loopback port, for the Redis store's and
//!   the CLI's tests.
//! - [`postgres_server`]: a real PostgreSQL server (its own cluster in a temporary directory) on a
//!   free loopback port, with a database per test, crash-like kills and restarts on the same data,
//!   for the SQL store's tests.
//!
//! What users and the CLI need at run time — the `Signer` and the payload fixtures — stays in
//! `webhook_guard::testing`. The core's own in-`src` unit tests cannot use this crate (it depends
//! on the core, so they would see two different copies of its types); its integration tests can.
//!
//! | feature | adds |
//! |---|---|
//! | `chaos` | the `chaos` module (depends on axum and webhook-guard-axum) |

// Everything here runs inside tests, where a panic with its message is the failure report.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "chaos")]
pub mod chaos;
pub mod conformance;
pub mod dedup_scenarios;
mod hostile;
pub mod http_client;
pub mod postgres_server;
pub mod process;
pub mod redis_server;
pub mod store_protocol;
mod unreachable_store;

pub use unreachable_store::UnreachableStore;
