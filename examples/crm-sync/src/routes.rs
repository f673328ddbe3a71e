//! The five routes, one per sender, and the one handler they share.
//!
//! Each route is guarded by its own `WebhookLayer`: the layer verifies the delivery and claims
//! its id in the database's inbox (a duplicate is answered `200` and a copy still in flight `409`
//! without reaching the handler). The handler then completes the claim inside its own
//! transaction, writes the contact and the activity in it and commits: the writes and "this
//! delivery is done" commit together, or nothing does and the sender's retry runs it again.

use std::io::Write as _;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use serde::Serialize;
use time::OffsetDateTime;
use webhook_guard::providers::{Botdog, Breakcold, BreakcoldLegacy, Pollybot, Standard};
use webhook_guard::{Dedup, Guard, HeldClaim, Provider, Rejection, Verifier};
use webhook_guard_axum::{Webhook, WebhookLayer};
use webhook_guard_sql::SqlStore;

use crate::activity::{Activity, record};
use crate::database::CrmDatabase;
use crate::effect::time_text;
use crate::senders::Describe;

/// The senders crm-sync receives: `(path, environment variable holding its secret)`.
pub(crate) const SENDERS: [(&str, &str); 5] = [
    ("/webhooks/botdog", "BOTDOG_SECRET"),
    ("/webhooks/pollybot", "POLLYBOT_SECRET"),
    ("/webhooks/breakcold", "BREAKCOLD_SECRET"),
    ("/webhooks/breakcold-legacy", "BREAKCOLD_LEGACY_SECRET"),
    ("/webhooks/standard", "STANDARD_SECRET"),
];

/// What the handler needs: the store, to complete claims in a transaction.
struct App<DB: CrmDatabase> {
    store: SqlStore<DB>,
}

impl<DB: CrmDatabase> Clone for App<DB> {
    fn clone(&self) -> Self {
        Self { store: self.store.clone() }
    }
}

/// The router with a route for each sender whose secret `secret` returns (by environment
/// variable name), and the paths routed, in [`SENDERS`] order.
///
/// # Errors
///
/// A secret the sender's scheme cannot use, named by its variable (never its value); or no
/// secret at all.
pub(crate) fn router<DB: CrmDatabase>(
    store: &SqlStore<DB>,
    secret: impl Fn(&str) -> Option<String>,
) -> Result<(Router, Vec<&'static str>), String> {
    let mut routes = Routes { router: Router::new(), paths: Vec::new(), store, secret: &secret };
    let [botdog, pollybot, breakcold, legacy, standard] = SENDERS;
    routes.add(botdog, Botdog::new())?;
    routes.add(pollybot, Pollybot::new())?;
    routes.add(breakcold, Breakcold::new())?;
    routes.add(legacy, BreakcoldLegacy::new())?;
    routes.add(standard, Standard::new())?;
    if routes.paths.is_empty() {
        let names: Vec<&str> = SENDERS.iter().map(|(_, variable)| *variable).collect();
        return Err(format!("set at least one sender's secret: {}", names.join(", ")));
    }
    Ok((routes.router, routes.paths))
}

/// The router being built.
struct Routes<'a, DB: CrmDatabase> {
    router: Router,
    paths: Vec<&'static str>,
    store: &'a SqlStore<DB>,
    secret: &'a dyn Fn(&str) -> Option<String>,
}

impl<DB: CrmDatabase> Routes<'_, DB> {
    /// Adds `path` for `provider`, guarded by its own layer (verifier and dedup on the store),
    /// when the secret in `variable` is set.
    fn add<P>(&mut self, (path, variable): (&'static str, &str), provider: P) -> Result<(), String>
    where
        P: Provider,
        P::Event: Describe + Serialize + Clone,
    {
        let Some(secret) = (self.secret)(variable) else { return Ok(()) };
        let verifier =
            Verifier::builder(provider).secret(&secret).build().map_err(|error| format!("{variable}: {error}"))?;
        let dedup = Dedup::new(self.store.clone());
        let guard = Guard::new(verifier).with_dedup(dedup).map_err(|error| format!("{path}: {error}"))?;
        let app = App { store: self.store.clone() };
        let sender =
            Router::new().route(path, post(receive::<DB, P>)).route_layer(WebhookLayer::new(guard)).with_state(app);
        self.router = std::mem::take(&mut self.router).merge(sender);
        self.paths.push(path);
        Ok(())
    }
}

/// Applies one verified, claimed delivery: completes the claim, writes the contact and the
/// activity in that transaction, commits, answers `204`. Any failure rolls everything back and
/// answers an error, so the sender retries.
async fn receive<DB: CrmDatabase, P>(
    State(app): State<App<DB>>,
    Extension(claim): Extension<HeldClaim>,
    Webhook(delivery): Webhook<P>,
) -> Response
where
    P: Provider,
    P::Event: Describe + Serialize + Clone,
{
    let (provider, id, event_type) = (delivery.provider(), delivery.id(), delivery.event_type());
    let effect = delivery.event().effect();
    let now = OffsetDateTime::now_utc();
    // The body's own time; else the signed header's (Standard Webhooks without `timestamp`);
    // else the time it arrived (Breakcold legacy events without dates).
    let occurred_at = time_text(effect.occurred_at.or_else(|| delivery.timestamp()).unwrap_or(now));
    let received_at = time_text(now);
    let payload = match serde_json::to_string(delivery.event()) {
        Ok(payload) => payload,
        Err(error) => return failed(provider, id, "payload", &error, StatusCode::INTERNAL_SERVER_ERROR),
    };
    let activity = Activity {
        provider,
        delivery_id: id,
        event_type,
        occurred_at: &occurred_at,
        received_at: &received_at,
        payload: &payload,
    };

    let mut completion = match app.store.begin_completing(&claim).await {
        Ok(completion) => completion,
        Err(error) => {
            log_error(provider, id, "completion", &error);
            return error.rejection().to_response(Body::from);
        }
    };
    // Dropped on an early return: rolled back, and the guard releases the claim.
    let recorded = match record(&mut *completion, &activity, &effect).await {
        Ok(recorded) => recorded,
        Err(error) => return failed(provider, id, "write", &error, status_of(&error)),
    };
    if let Err(error) = completion.commit().await {
        return failed(provider, id, "commit", &error, status_of(&error));
    }
    let line = serde_json::json!({
        "provider": provider,
        "id": id,
        "event_type": event_type,
        "contact_id": recorded.contact_id,
        "outcome": if recorded.already { "already recorded" } else { "applied" },
    });
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not fail a delivery that is already committed.
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    StatusCode::NO_CONTENT.into_response()
}

/// 503 with `Retry-After` when the database is out of reach (as the guard answers when its store
/// is), 500 for anything else (a failed statement): both make the sender retry.
fn status_of(error: &sqlx::Error) -> StatusCode {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn failed(provider: &str, id: &str, step: &str, error: &dyn std::fmt::Display, status: StatusCode) -> Response {
    log_error(provider, id, step, error);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return Rejection::store_unavailable(Duration::from_secs(30)).to_response(Body::from);
    }
    status.into_response()
}

/// One line on stderr: the delivery and the error, never the body or a secret.
fn log_error(provider: &str, id: &str, step: &str, error: &dyn std::fmt::Display) {
    eprintln!("crm-sync: {provider} delivery {id}: {step} failed: {error}");
}
