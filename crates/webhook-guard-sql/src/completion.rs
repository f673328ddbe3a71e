//! [`Completion`]: the handler's transaction, in which the delivery's claim is completed first.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use webhook_guard::{HeldClaim, Rejection};

use crate::backend::{Arg, Backend};
use crate::store::{SqlStore, millis};

/// The `Retry-After` suggested when the claim was lost: the copy that holds it now answers the
/// next retry itself (409 with its own lease's time left, or 200 once completed).
pub const CLAIM_LOST_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The `Retry-After` suggested when the database did not answer: the guard's own default when a
/// store fails ([`Dedup`](webhook_guard::Dedup) fails closed with 30 s).
pub const DATABASE_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A database transaction whose first statement completed the delivery's claim. Run the
/// handler's own queries on it (`&mut *completion` is an [`sqlx::Executor`]), then
/// [`commit`](Completion::commit): the effects and the record "this delivery is done" commit
/// together or not at all.
///
/// Dropped without a commit (an error returned early, a panic, the request cancelled), the
/// transaction rolls back (sqlx does it when the connection goes back to the pool) and the guard
/// releases the claim after the handler: the sender's retry runs the handler again.
#[must_use = "a completion dropped without `commit` rolls back, and the guard releases the claim"]
pub struct Completion<DB: Backend> {
    transaction: sqlx::Transaction<'static, DB>,
    claim: HeldClaim,
}

impl<DB: Backend> fmt::Debug for Completion<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion").field("database", &DB::LABEL).field("claim", &self.claim).finish_non_exhaustive()
    }
}

impl<DB: Backend> Completion<DB> {
    /// Commits the handler's writes and the completed claim together, then tells the guard the
    /// claim is completed (it leaves it alone after the handler).
    ///
    /// # Errors
    ///
    /// The database's error when the commit fails: nothing was committed — unless only the
    /// acknowledgement was lost (the connection broke after the database committed). Either way
    /// the guard releases the claim, which, if the commit did happen, changes nothing: a
    /// completed row is never released, and the sender's retry is answered as a duplicate.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let Self { transaction, claim } = self;
        transaction.commit().await?;
        claim.mark_completed();
        Ok(())
    }

    /// Rolls the handler's writes and the completion back; the guard releases the claim after
    /// the handler. Dropping the completion does the same (the rollback then runs when the
    /// connection returns to the pool).
    ///
    /// # Errors
    ///
    /// The database's error when the rollback fails (the connection is then closed, which rolls
    /// back too).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.transaction.rollback().await
    }

    /// The claim being completed.
    pub fn claim(&self) -> &HeldClaim {
        &self.claim
    }
}

impl<DB: Backend> Deref for Completion<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.transaction
    }
}

impl<DB: Backend> DerefMut for Completion<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.transaction
    }
}

/// Why [`SqlStore::begin_completing`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompletionErrorKind {
    /// The claim no longer holds: its lease expired (another copy may hold or have completed the
    /// delivery), or it was already handed over to another completion. Nothing was written.
    ClaimLost,
    /// The database did not answer, or not within the store's timeout. Nothing was written.
    Database,
}

/// [`SqlStore::begin_completing`] failed: the handler must not run its effects. Answer with
/// [`CompletionError::rejection`], which follows webhook-guard's status table:
///
/// | kind | status | why |
/// |---|---|---|
/// | [`ClaimLost`](CompletionErrorKind::ClaimLost) | 409 `in_flight`, `Retry-After: 1` | the row "duplicate of a delivery still in flight": another copy holds the id or just completed it; the sender's retry is answered by the guard from the store (409 again, or 200 duplicate) |
/// | [`Database`](CompletionErrorKind::Database) | 503 `store_unavailable`, `Retry-After: 30` | the row "dedup store unreachable", and the guard's default `Retry-After` for it |
///
/// Either answer is not a 2xx, so the guard releases the claim (a no-op when it was lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionError {
    kind: CompletionErrorKind,
    message: String,
}

impl CompletionError {
    fn claim_lost(message: impl Into<String>) -> Self {
        Self { kind: CompletionErrorKind::ClaimLost, message: message.into() }
    }

    fn database(message: impl Into<String>) -> Self {
        Self { kind: CompletionErrorKind::Database, message: message.into() }
    }

    /// Why.
    pub fn kind(&self) -> CompletionErrorKind {
        self.kind
    }

    /// The status to answer: 409 for a lost claim, 503 for the database.
    pub fn status(&self) -> StatusCode {
        self.rejection().status()
    }

    /// The `Retry-After` to send: [`CLAIM_LOST_RETRY_AFTER`] or [`DATABASE_RETRY_AFTER`].
    pub fn retry_after(&self) -> Duration {
        match self.kind {
            CompletionErrorKind::ClaimLost => CLAIM_LOST_RETRY_AFTER,
            CompletionErrorKind::Database => DATABASE_RETRY_AFTER,
        }
    }

    /// The whole answer from webhook-guard's status table (status, `Retry-After`, JSON body):
    /// `error.rejection().to_response(Body::from)` in a handler.
    pub fn rejection(&self) -> Rejection {
        match self.kind {
            CompletionErrorKind::ClaimLost => Rejection::in_flight(self.retry_after()),
            CompletionErrorKind::Database => Rejection::store_unavailable(self.retry_after()),
        }
    }
}

impl fmt::Display for CompletionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompletionError {}

impl<DB: Backend> SqlStore<DB> {
    /// Begins the transaction that completes `claim`: takes the claim over from the guard
    /// ([`HeldClaim::hand_over`]), begins a transaction, and runs the compare-and-set to completed
    /// as its first statement. The handler then writes its effects through the returned
    /// [`Completion`] and commits.
    ///
    /// The compare-and-set coming first is what makes the guarantee: it holds the row's lock
    /// (Postgres) or the database's write lock (SQLite) until the commit, so no other copy of the
    /// delivery can take the claim over meanwhile, even if this handler outlives its lease; and a
    /// holder whose lease already expired fails here, before any effect is written.
    ///
    /// # Errors
    ///
    /// [`CompletionErrorKind::ClaimLost`] when the claim was already handed over, or its lease
    /// expired; [`CompletionErrorKind::Database`] when the database fails or does not answer
    /// within the store's timeout. Nothing is written in either case; answer with
    /// [`CompletionError::rejection`].
    pub async fn begin_completing(&self, claim: &HeldClaim) -> Result<Completion<DB>, CompletionError> {
        if !claim.hand_over() {
            return Err(CompletionError::claim_lost(format!(
                "{} completion of {}: the claim was already handed over to another completion",
                DB::LABEL,
                claim.key()
            )));
        }
        let begin = async {
            let mut transaction = self.pool.begin_with(DB::BEGIN).await?;
            let args = [Arg::Text(claim.key()), Arg::Text(claim.token().as_str()), Arg::Int(millis(claim.ttl()))];
            let completed = DB::execute(&mut *transaction, Arc::clone(&self.sql.complete), &args).await?;
            if completed == 1 {
                Ok(Some(transaction))
            } else {
                transaction.rollback().await?;
                Ok::<_, sqlx::Error>(None)
            }
        };
        match tokio::time::timeout(self.timeout, begin).await {
            Ok(Ok(Some(transaction))) => Ok(Completion { transaction, claim: claim.clone() }),
            Ok(Ok(None)) => Err(CompletionError::claim_lost(format!(
                "{} completion of {}: the claim's lease expired (another copy may hold or have completed it)",
                DB::LABEL,
                claim.key()
            ))),
            Ok(Err(error)) => {
                Err(CompletionError::database(format!("{} completion of {} failed: {error}", DB::LABEL, claim.key())))
            }
            Err(_) => Err(CompletionError::database(format!(
                "{} completion of {} timed out after {:?}",
                DB::LABEL,
                claim.key(),
                self.timeout
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(rejection: &Rejection, name: &str) -> Option<String> {
        rejection.headers().into_iter().find(|(n, _)| n == name).map(|(_, v)| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_lost_claim_is_the_in_flight_row_409_with_retry_after_1() {
        let error = CompletionError::claim_lost("sqlite completion of k: the claim's lease expired");
        assert_eq!(error.kind(), CompletionErrorKind::ClaimLost);
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(error.retry_after(), CLAIM_LOST_RETRY_AFTER);
        let rejection = error.rejection();
        assert_eq!(rejection.kind(), webhook_guard::RejectionKind::InFlight);
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("1"));
        assert_eq!(error.to_string(), "sqlite completion of k: the claim's lease expired");
    }

    #[test]
    fn a_database_failure_is_the_store_unavailable_row_503_with_retry_after_30() {
        let error = CompletionError::database("postgres completion of k timed out after 2s");
        assert_eq!(error.kind(), CompletionErrorKind::Database);
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        let rejection = error.rejection();
        assert_eq!(rejection.kind(), webhook_guard::RejectionKind::StoreUnavailable);
        assert_eq!(header(&rejection, "retry-after").as_deref(), Some("30"));
    }
}
