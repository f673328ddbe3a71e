//! The protocol cases (the same steps `MemoryStore`'s and `RedisStore`'s tests take, through the
//! `DedupStore` trait, and what the table holds after them) and the transactional completion's
//! cases at the store level, each expanded once per database.

/// The `DedupStore` protocol on `fixture().await.store()`.
macro_rules! store_cases {
    () => {
        mod protocol {
            use std::time::{Duration, Instant};

            use webhook_guard::{Claim, ClaimToken, DedupStore};
            use webhook_guard_sql::{DEFAULT_TABLE, DEFAULT_TIMEOUT, SqlStore};

            use super::support::{LEASE, TTL};
            use super::{Db, fixture};

            async fn acquire(store: &SqlStore<Db>, key: &str, lease: Duration) -> ClaimToken {
                match store.claim(key, lease).await.unwrap() {
                    Claim::Acquired(token) => token,
                    other => panic!("{key}: expected Acquired, got {other:?}"),
                }
            }

            fn retry_after(claim: Claim) -> Duration {
                match claim {
                    Claim::InFlight { retry_after } => retry_after,
                    other => panic!("expected InFlight, got {other:?}"),
                }
            }

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
                let wait = retry_after(store.claim("app:botdog:1", LEASE).await.unwrap());
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
                let first = retry_after(store.claim("k", lease).await.unwrap());
                assert!(first <= lease && first > lease - Duration::from_millis(500), "{first:?}");
                tokio::time::sleep(Duration::from_millis(300)).await;
                let later = retry_after(store.claim("k", lease).await.unwrap());
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

/// The transactional completion at the store level, with claims admitted by a real guard.
macro_rules! completion_cases {
    () => {
        mod completion {
            use std::time::Duration;

            use http::StatusCode;
            use webhook_guard::{Claim, Dedup, DedupStore, RejectionKind};
            use webhook_guard_sql::{CompletionErrorKind, SqlStore};

            use super::support::{COUNT_EFFECTS, EFFECTS_DDL, INSERT_EFFECT, LEASE, admitted, guard_with, key};
            use super::{Db, fixture};

            async fn effects(store: &SqlStore<Db>, id: &str) -> i64 {
                sqlx::query_scalar(COUNT_EFFECTS).bind(id).fetch_one(store.pool()).await.unwrap()
            }

            async fn store_with_effects(fixture: &super::Fixture) -> SqlStore<Db> {
                let store = fixture.store().await;
                sqlx::query(EFFECTS_DDL).execute(store.pool()).await.unwrap();
                store
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_committed_completion_commits_the_effect_and_the_completed_claim_together() {
                let fixture = fixture().await;
                let store = store_with_effects(&fixture).await;
                let guard = guard_with(Dedup::new(store.clone()));
                let handle = admitted(&guard, "commit_1").await;
                let held = handle.held();

                let mut completion = store.begin_completing(&held).await.unwrap();
                assert_eq!(completion.claim().key(), key("commit_1"));
                sqlx::query(INSERT_EFFECT).bind("commit_1").execute(&mut *completion).await.unwrap();
                // Before the commit, the effect is not visible outside the transaction...
                assert_eq!(effects(&store, "commit_1").await, 0);
                assert!(!held.is_completed());
                completion.commit().await.unwrap();
                // ...after it, both are.
                assert!(held.is_completed());
                assert_eq!(effects(&store, "commit_1").await, 1);
                assert_eq!(store.claim(&key("commit_1"), LEASE).await.unwrap(), Claim::Completed);

                // One completion per claim.
                let error = store.begin_completing(&held).await.unwrap_err();
                assert_eq!(error.kind(), CompletionErrorKind::ClaimLost);
                assert!(error.to_string().contains("already handed over"), "{error}");
                // The guard leaves a committed claim alone, whatever the handler answered.
                handle.finish(StatusCode::INTERNAL_SERVER_ERROR).await;
                assert_eq!(store.claim(&key("commit_1"), LEASE).await.unwrap(), Claim::Completed);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_rolled_back_or_dropped_completion_leaves_nothing_and_the_claim_is_released() {
                let fixture = fixture().await;
                let store = store_with_effects(&fixture).await;
                let guard = guard_with(Dedup::new(store.clone()));

                let handle = admitted(&guard, "rollback_1").await;
                let mut completion = store.begin_completing(&handle.held()).await.unwrap();
                sqlx::query(INSERT_EFFECT).bind("rollback_1").execute(&mut *completion).await.unwrap();
                completion.rollback().await.unwrap();
                assert_eq!(effects(&store, "rollback_1").await, 0);
                assert!(matches!(store.claim(&key("rollback_1"), LEASE).await.unwrap(), Claim::InFlight { .. }));
                // Even on a 2xx: the handler's transaction did not commit, so the guard releases.
                handle.finish(StatusCode::OK).await;
                let retry = admitted(&guard, "rollback_1").await;

                let mut completion = store.begin_completing(&retry.held()).await.unwrap();
                sqlx::query(INSERT_EFFECT).bind("rollback_1").execute(&mut *completion).await.unwrap();
                drop(completion);
                retry.finish(StatusCode::OK).await;
                assert_eq!(effects(&store, "rollback_1").await, 0);

                let third = admitted(&guard, "rollback_1").await;
                let mut completion = store.begin_completing(&third.held()).await.unwrap();
                sqlx::query(INSERT_EFFECT).bind("rollback_1").execute(&mut *completion).await.unwrap();
                completion.commit().await.unwrap();
                third.finish(StatusCode::OK).await;
                assert_eq!(effects(&store, "rollback_1").await, 1, "applied once, by the run that committed");
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_holder_whose_lease_expired_cannot_begin_and_the_new_holder_commits() {
                let fixture = fixture().await;
                let store = store_with_effects(&fixture).await;
                let guard = guard_with(Dedup::new(store.clone()).lease(Duration::from_millis(200)));
                let stale = admitted(&guard, "stale_1").await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let other_stale = admitted(&guard, "stale_1").await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let fresh = admitted(&guard, "stale_1").await;

                let error = store.begin_completing(&stale.held()).await.unwrap_err();
                assert_eq!(error.kind(), CompletionErrorKind::ClaimLost);
                assert_eq!(error.status(), StatusCode::CONFLICT);
                assert_eq!(error.rejection().kind(), RejectionKind::InFlight);
                assert!(error.to_string().contains("lease expired"), "{error}");

                let mut completion = store.begin_completing(&fresh.held()).await.unwrap();
                sqlx::query(INSERT_EFFECT).bind("stale_1").execute(&mut *completion).await.unwrap();
                // A second stale holder trying while the fresh completion is open fails too: the
                // row is not its (Postgres), or the write lock is taken (SQLite waits its busy
                // timeout, then answers busy: a database error).
                assert!(store.begin_completing(&other_stale.held()).await.is_err());
                completion.commit().await.unwrap();
                stale.finish(StatusCode::CONFLICT).await;
                other_stale.finish(StatusCode::CONFLICT).await;
                fresh.finish(StatusCode::NO_CONTENT).await;
                assert_eq!(effects(&store, "stale_1").await, 1);
                assert_eq!(store.claim(&key("stale_1"), LEASE).await.unwrap(), Claim::Completed);

                // Expired with no newer claim: it cannot begin either.
                let lapsed = admitted(&guard, "stale_2").await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let error = store.begin_completing(&lapsed.held()).await.unwrap_err();
                assert_eq!(error.kind(), CompletionErrorKind::ClaimLost);
                lapsed.finish(StatusCode::CONFLICT).await;
                assert_eq!(effects(&store, "stale_2").await, 0);
                let _retry = admitted(&guard, "stale_2").await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_completion_outliving_its_lease_still_commits_and_no_copy_takes_the_claim_meanwhile() {
                let fixture = fixture().await;
                let store = store_with_effects(&fixture).await;
                let guard = guard_with(Dedup::new(store.clone()).lease(Duration::from_millis(200)));
                let first = admitted(&guard, "outlived_1").await;
                let mut completion = store.begin_completing(&first.held()).await.unwrap();
                sqlx::query(INSERT_EFFECT).bind("outlived_1").execute(&mut *completion).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                // The lease has expired, but the completing transaction holds the row: a copy
                // arriving now is in flight (Postgres skips the locked row), or waits for the
                // commit and sees it completed (SQLite's one writer).
                let store_for_copy = store.clone();
                let copy = tokio::spawn(async move { store_for_copy.claim(&key("outlived_1"), LEASE).await });
                tokio::time::sleep(Duration::from_millis(100)).await;
                completion.commit().await.unwrap();
                first.finish(StatusCode::NO_CONTENT).await;
                match copy.await.unwrap().unwrap() {
                    Claim::InFlight { .. } | Claim::Completed => {}
                    Claim::Acquired(_) => panic!("a copy took over a claim whose completion was committing"),
                }
                assert_eq!(effects(&store, "outlived_1").await, 1);
                assert_eq!(store.claim(&key("outlived_1"), LEASE).await.unwrap(), Claim::Completed);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_database_that_does_not_answer_is_a_503_before_any_effect() {
                let fixture = fixture().await;
                let store = store_with_effects(&fixture).await;
                let store = SqlStore::<Db>::builder()
                    .timeout(Duration::from_millis(300))
                    .build(store.pool().clone())
                    .await
                    .unwrap();
                let guard = guard_with(Dedup::new(store.clone()));
                let handle = admitted(&guard, "unanswered_1").await;
                let _held = fixture.hold_writes().await;
                let error = store.begin_completing(&handle.held()).await.unwrap_err();
                assert_eq!(error.kind(), CompletionErrorKind::Database);
                assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
                let response = error.rejection().to_response(|body| body);
                assert_eq!(response.headers()["retry-after"], "30");
                assert!(!error.to_string().contains(handle.held().token().as_str()), "{error}");
            }
        }
    };
}
pub(crate) use completion_cases;
