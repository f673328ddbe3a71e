//! The transactional completion at the store level, with claims admitted by a real guard:
//! commit, rollback, drop, stale holders, a completion outliving its lease, a database that does
//! not answer. Expanded once per database.

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
