//! What the SQLite and Postgres test files share: a temporary directory, a claim admitted by a real
//! guard (the handler's `HeldClaim`), a receiver over real HTTP whose handler completes its claim
//! in its own transaction, and the cases themselves as macros expanded once per database
//! (`protocol::store_cases!`, `completion::completion_cases!`, `http::http_cases!`).
//!
//! A file that expands them defines `type Db` (the sqlx database), `async fn fixture() -> Fixture`
//! (a fresh, empty database) and `struct Fixture` with a field `pool: sqlx::Pool<Db>` and the
//! methods `async fn store(&self) -> SqlStore<Db>` (the default store on it, migrated) and
//! `async fn hold_writes(&self)` (another connection keeping every write waiting until dropped).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod completion;
pub mod http;
pub mod protocol;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use webhook_guard::providers::Botdog;
use webhook_guard::{ClaimHandle, Dedup, Guard};
pub use webhook_guard_test_support::dedup_scenarios::{PATH, blocking, body, guard, signed_headers};

/// The lease the cases use unless they test its expiry.
pub const LEASE: Duration = Duration::from_secs(60);
/// The ttl of completed ids in the cases.
pub const TTL: Duration = Duration::from_secs(3600);

/// The effects table the handlers write to: no key, so a second write of one id would show.
pub const EFFECTS_DDL: &str = "CREATE TABLE IF NOT EXISTS effects (id TEXT NOT NULL)";
/// One effect of delivery `$1` (both databases take `$1`).
pub const INSERT_EFFECT: &str = "INSERT INTO effects (id) VALUES ($1)";
/// How many effects delivery `$1` has.
pub const COUNT_EFFECTS: &str = "SELECT COUNT(*) FROM effects WHERE id = $1";

/// A directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty directory.
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name =
            format!("webhook-guard-sql-{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The guard the store-level completion cases admit through: Botdog, deduplicating on `dedup`.
pub fn guard_with(dedup: Dedup) -> Guard<Botdog> {
    guard(dedup)
}

/// A signed delivery `id` admitted by `guard`: its claim, held as the handler would hold it.
///
/// # Panics
///
/// When the guard refuses it (a duplicate, the store down).
pub async fn admitted(guard: &Guard<Botdog>, id: &str) -> ClaimHandle {
    let body = body(id);
    let headers = signed_headers(&body);
    let admitted = guard.admit_body(&headers, String::from_utf8(body).unwrap()).await.unwrap();
    admitted.claim.expect("a guard with dedup claims")
}

/// The key [`Dedup`] gives delivery `id` of Botdog with the default namespace.
pub fn key(id: &str) -> String {
    format!("webhook-guard:botdog:{id}")
}
