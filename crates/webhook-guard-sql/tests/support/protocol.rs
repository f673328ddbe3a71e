//! The protocol cases beyond the shared suite's rules: the same steps `RedisStore`'s tests take,
//! through the `DedupStore` trait, and what the table holds after them; racing claims over an
//! expired row; purge; migrations; timeouts. Expanded once per database.

/// The `DedupStore` protocol on `fixture().await.store()`.
macro_rules! store_cases {
    () => {
        mod protocol {
            use std::time::{Duration, Instant};

            use webhook_guard::{Claim, ClaimToken, DedupStore};
            use webhook_guard_sql::{DEFAULT_TABLE, DEFAULT_TIMEOUT, SqlStore};

            use super::support::{LEASE, TTL};
            use super::{Db, fixture};
            use webhook_guard_test_support::store_protocol::{acquire, in_flight};

            /// The row of `key`: token, completed, milliseconds left before it expires.
            async fn row(store: &SqlStore<Db>, key: &str) -> Option<(String, bool, i64)> {
                let sql = "SELECT token, completed, expires_at FROM webhook_guard_inbox WHERE key = $1";
                let row: Option<(String, bool, i64)> =
                    sqlx::query_as(sql).bind(key).fetch_optional(store.pool()).await.unwrap();
                let now = i64::try_from(
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
                )
                .unwrap();
                row.map(|(token, completed, expires_at)| (token, completed, expires_at - now))
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn claim_complete_then_a_duplicate_is_completed() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                assert_eq!(store.timeout(), DEFAULT_TIMEOUT);
                assert_eq!(store.table(), DEFAULT_TABLE);

                let token = acquire(&store, "app:botdog:1", LEASE).await;
                let (held, completed, left) = row(&store, "app:botdog:1").await.unwrap();
                assert_eq!((held.as_str(), completed), (token.as_str(), false), "in flight: the token");
                assert!((55_000..=61_000).contains(&left), "the lease: {left} ms");
                let wait = in_flight(&store, "app:botdog:1").await;
                assert!(wait <= LEASE && wait > LEASE - Duration::from_secs(5), "{wait:?}");

                assert!(store.complete("app:botdog:1", &token, TTL).await.unwrap());
                assert_eq!(store.claim("app:botdog:1", LEASE).await.unwrap(), Claim::Completed);
                let (kept, completed, left) = row(&store, "app:botdog:1").await.unwrap();
                assert_eq!((kept.as_str(), completed), (token.as_str(), true), "completed, the token kept");
                assert!((3_595_000..=3_601_000).contains(&left), "completed ids are kept for the ttl: {left} ms");

                // Completing twice is refused (the token no longer holds the id), and so is releasing it.
                assert!(!store.complete("app:botdog:1", &token, TTL).await.unwrap());
                assert!(!store.release("app:botdog:1", &token).await.unwrap());
                assert_eq!(store.claim("app:botdog:1", LEASE).await.unwrap(), Claim::Completed);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_id_in_flight_answers_the_time_left_on_its_lease() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let lease = Duration::from_secs(10);
                let _token = acquire(&store, "k", lease).await;
                let first = in_flight(&store, "k").await;
                assert!(first <= lease && first > lease - Duration::from_millis(500), "{first:?}");
                tokio::time::sleep(Duration::from_millis(300)).await;
                let later = in_flight(&store, "k").await;
                assert!(later <= first - Duration::from_millis(250), "the time left shrinks: {first:?} then {later:?}");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn release_lets_the_next_claim_in_and_only_the_holder_can_release() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let first = acquire(&store, "k", LEASE).await;
                assert!(!store.release("k", &ClaimToken::random().unwrap()).await.unwrap(), "a stranger's token");
                assert!(!store.complete("k", &ClaimToken::random().unwrap(), TTL).await.unwrap(), "a stranger's token");
                assert!(store.release("k", &first).await.unwrap());
                assert_eq!(row(&store, "k").await, None, "released: the row is gone");
                let second = acquire(&store, "k", LEASE).await;
                assert_ne!(first, second, "every claim has its own token");
                assert!(!store.release("k", &first).await.unwrap(), "released twice");
                assert!(matches!(store.claim("k", LEASE).await.unwrap(), Claim::InFlight { .. }));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_expired_lease_lets_the_next_retry_in_and_the_stale_holder_can_neither_complete_nor_release() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let stale = acquire(&store, "slow", Duration::from_millis(100)).await;
                tokio::time::sleep(Duration::from_millis(150)).await;
                let fresh = acquire(&store, "slow", LEASE).await;

                assert!(!store.complete("slow", &stale, TTL).await.unwrap(), "stale complete");
                assert!(!store.release("slow", &stale).await.unwrap(), "stale release");
                assert_eq!(row(&store, "slow").await.unwrap().0, fresh.as_str(), "the fresh claim holds");
                assert!(matches!(store.claim("slow", LEASE).await.unwrap(), Claim::InFlight { .. }));

                assert!(store.complete("slow", &fresh, TTL).await.unwrap());
                assert_eq!(store.claim("slow", LEASE).await.unwrap(), Claim::Completed);
                assert!(!store.release("slow", &stale).await.unwrap(), "a stale release cannot delete a completed id");
                assert_eq!(store.claim("slow", LEASE).await.unwrap(), Claim::Completed);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_expired_holder_can_neither_complete_nor_release_even_without_a_newer_claim() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let stale = acquire(&store, "k", Duration::from_millis(50)).await;
                tokio::time::sleep(Duration::from_millis(120)).await;
                assert!(!store.complete("k", &stale, TTL).await.unwrap());
                assert!(!store.release("k", &stale).await.unwrap());
                let _again = acquire(&store, "k", LEASE).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn completed_ids_expire_after_their_ttl() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let token = acquire(&store, "k", LEASE).await;
                assert!(store.complete("k", &token, Duration::from_millis(200)).await.unwrap());
                assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Completed);
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _again = acquire(&store, "k", LEASE).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn extreme_durations_are_clamped_and_a_zero_lease_is_one_millisecond() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let token = acquire(&store, "max", Duration::MAX).await;
                assert!(matches!(store.claim("max", LEASE).await.unwrap(), Claim::InFlight { .. }));
                assert!(store.complete("max", &token, Duration::MAX).await.unwrap());
                assert_eq!(store.claim("max", Duration::MAX).await.unwrap(), Claim::Completed);
                let left = row(&store, "max").await.unwrap().2;
                assert!(left > 3_000_000_000_000, "a hundred years: {left} ms");

                let _token = acquire(&store, "zero", Duration::ZERO).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _again = acquire(&store, "zero", LEASE).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn claims_are_atomic_under_concurrency() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                for trial in 0..30 {
                    let key = format!("race{trial}");
                    let claims: Vec<_> = (0..8)
                        .map(|_| {
                            let (store, key) = (store.clone(), key.clone());
                            tokio::spawn(async move { store.claim(&key, LEASE).await.unwrap() })
                        })
                        .collect();
                    let mut winners = 0;
                    for claim in claims {
                        match claim.await.unwrap() {
                            Claim::Acquired(_) => winners += 1,
                            Claim::InFlight { .. } => {}
                            Claim::Completed => panic!("{key}: nothing completed it"),
                        }
                    }
                    assert_eq!(winners, 1, "trial {trial}");
                }
                // The same over an expired claim: of the copies racing to take it over, one wins.
                for trial in 0..10 {
                    let key = format!("expired{trial}");
                    let _stale = acquire(&store, &key, Duration::from_millis(20)).await;
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    let claims: Vec<_> = (0..8)
                        .map(|_| {
                            let (store, key) = (store.clone(), key.clone());
                            tokio::spawn(async move { store.claim(&key, LEASE).await.unwrap() })
                        })
                        .collect();
                    let mut winners = 0;
                    for claim in claims {
                        winners += usize::from(matches!(claim.await.unwrap(), Claim::Acquired(_)));
                    }
                    assert_eq!(winners, 1, "expired trial {trial}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn purge_deletes_expired_rows_only() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                // 1,500 expired completed ids (more than one batch), 3 expired claims, and live ids of
                // both kinds that must stay.
                for n in 0..1_500 {
                    let key = format!("done{n}");
                    let token = acquire(&store, &key, LEASE).await;
                    assert!(store.complete(&key, &token, Duration::from_millis(1)).await.unwrap());
                }
                for n in 0..3 {
                    let _ = acquire(&store, &format!("lapsed{n}"), Duration::from_millis(1)).await;
                }
                let live = acquire(&store, "live-claim", LEASE).await;
                let kept = acquire(&store, "live-completed", LEASE).await;
                assert!(store.complete("live-completed", &kept, TTL).await.unwrap());
                tokio::time::sleep(Duration::from_millis(20)).await;

                assert_eq!(store.purge_expired().await.unwrap(), 1_503);
                assert_eq!(store.purge_expired().await.unwrap(), 0, "nothing left to purge");
                let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_guard_inbox")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                assert_eq!(left, 2);
                assert_eq!(store.claim("live-completed", LEASE).await.unwrap(), Claim::Completed);
                assert!(store.complete("live-claim", &live, TTL).await.unwrap(), "the live claim still holds");
                let _again = acquire(&store, "done0", LEASE).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_migration_is_idempotent_and_safe_when_instances_start_at_once() {
                let fixture = fixture().await;
                let starts: Vec<_> = (0..8)
                    .map(|_| {
                        let pool = fixture.pool.clone();
                        tokio::spawn(async move { SqlStore::new(pool).await })
                    })
                    .collect();
                let mut stores = Vec::new();
                for start in starts {
                    stores.push(start.await.unwrap().unwrap());
                }
                // Every instance sees one table: a claim by one is in flight for the others.
                let _token = acquire(&stores[0], "shared", LEASE).await;
                for store in &stores[1..] {
                    assert!(matches!(store.claim("shared", LEASE).await.unwrap(), Claim::InFlight { .. }));
                }
                // Starting again over an existing table keeps its rows.
                let again = SqlStore::<Db>::new(fixture.pool.clone()).await.unwrap();
                assert!(matches!(again.claim("shared", LEASE).await.unwrap(), Claim::InFlight { .. }));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tables_are_named_by_the_builder_and_kept_apart() {
                let fixture = fixture().await;
                let store = fixture.store().await;
                let other = SqlStore::<Db>::builder()
                    .table("other_inbox")
                    .timeout(Duration::from_millis(700))
                    .build(fixture.pool.clone())
                    .await
                    .unwrap();
                assert_eq!((other.table(), other.timeout()), ("other_inbox", Duration::from_millis(700)));
                let _token = acquire(&store, "k", LEASE).await;
                let _other = acquire(&other, "k", LEASE).await;
                let debug = format!("{other:?}");
                assert!(debug.contains("other_inbox") && debug.contains("SqlStore"), "{debug}");

                for bad in ["Inbox", "1inbox", "inbox\"; DROP TABLE effects; --", ""] {
                    let error = SqlStore::<Db>::builder().table(bad).build(fixture.pool.clone()).await.unwrap_err();
                    assert!(error.to_string().contains("invalid table name"), "{bad}: {error}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_call_is_bounded_by_the_timeout() {
                let fixture = fixture().await;
                let store = SqlStore::<Db>::builder()
                    .timeout(Duration::from_millis(300))
                    .build(fixture.pool.clone())
                    .await
                    .unwrap();
                let _token = acquire(&store, "k", LEASE).await;
                let token = ClaimToken::random().unwrap();
                // Something holds the database (a lock for Postgres' row, SQLite's write lock)
                // longer than the timeout: every write waits for it, and fails in time.
                let _held = fixture.hold_writes().await;
                let started = Instant::now();
                let error = store.claim("fresh", LEASE).await.unwrap_err().to_string();
                assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
                assert!(error.contains("claim of fresh"), "{error}");
                let error = store.release("k", &token).await.unwrap_err().to_string();
                assert!(error.contains("release of k"), "{error}");
                assert!(!error.contains(token.as_str()), "no token in errors: {error}");
            }
        }
    };
}
pub(crate) use store_cases;
