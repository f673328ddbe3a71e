//! Claims and completes COUNT new ids, one after another, on one `RedisStore`: what one delivery
//! costs the receiver's process, for a profiler. Run it under callgrind twice, with two counts, and
//! divide the difference by the difference of the counts: the cost of one claim + complete without
//! the process's start-up and the connection.
//!
//! ```text
//! redis-server --port 6390 --save '' --appendonly no &
//! cargo build --release -p webhook-guard-redis --example claim_complete
//! valgrind --tool=callgrind target/release/examples/claim_complete redis://127.0.0.1:6390/ 200
//! valgrind --tool=callgrind target/release/examples/claim_complete redis://127.0.0.1:6390/ 1200
//! ```
//!
//! A third argument, `duplicates`, claims one completed id COUNT times instead (one round trip each).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use webhook_guard::{Claim, DedupStore};
use webhook_guard_redis::RedisStore;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "redis://127.0.0.1:6379/".to_owned());
    let count: u64 = args.next().map_or(1000, |count| count.parse().unwrap());
    let duplicates = args.next().as_deref() == Some("duplicates");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = RedisStore::connect(&url).await.unwrap();
        // Distinct ids in each run, so that a run against a server that kept the last one's keys
        // still claims new ids.
        let run = std::process::id();
        let (lease, ttl) = (Duration::from_secs(60), Duration::from_secs(3600));
        if duplicates {
            let key = format!("webhook-guard:botdog:evt_profile_{run}_duplicate");
            if let Claim::Acquired(token) = store.claim(&key, lease).await.unwrap() {
                assert!(store.complete(&key, &token, ttl).await.unwrap());
            }
            for _ in 0..count {
                assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::Completed);
            }
        } else {
            for n in 0..count {
                let key = format!("webhook-guard:botdog:evt_profile_{run}_{n:012}");
                match store.claim(&key, lease).await.unwrap() {
                    Claim::Acquired(token) => assert!(store.complete(&key, &token, ttl).await.unwrap()),
                    other => panic!("{key} was not new: {other:?}"),
                }
            }
        }
        println!("{count} {}", if duplicates { "duplicate claims" } else { "claims + completes" });
    });
}
