//! One request: route, admit through the core, handle, answer, settle the claim.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use webhook_guard::Admitted;
use webhook_guard::providers::AnyEvent;

use super::exec::Command;
use super::forward::Forward;
use super::{ListenArgs, Receiver};
use crate::event_line;
use crate::failure::Failure;

/// What is done with an accepted delivery.
#[derive(Debug)]
pub(crate) enum Handling {
    /// Printing its JSON line is the handling.
    Print,
    /// `--exec`: a command per delivery.
    Exec(Command),
    /// `--forward`: a POST to an internal URL.
    Forward(Forward),
}

impl Handling {
    /// The handling the arguments choose.
    ///
    /// # Errors
    ///
    /// A usage failure for an empty or unparsable command, or a bad url.
    pub(crate) fn from_args(args: &ListenArgs) -> Result<Self, Failure> {
        match (&args.exec, &args.forward) {
            (Some(command), _) => Ok(Self::Exec(Command::parse(command, args.exec_timeout)?)),
            (None, Some(url)) => Ok(Self::Forward(Forward::new(url, args.forward_timeout)?)),
            (None, None) => Ok(Self::Print),
        }
    }

    /// The longest one handling may take.
    pub(crate) fn longest_run(&self) -> Duration {
        match self {
            Self::Print => Duration::ZERO,
            Self::Exec(command) => command.timeout(),
            Self::Forward(forward) => forward.timeout(),
        }
    }
}

/// How long a sender is asked to wait when every handling slot is taken: handlings take seconds,
/// and most senders retry later than this anyway.
const BUSY_RETRY_AFTER_SECS: u32 = 5;

/// Answers one request.
pub(crate) async fn respond(receiver: Arc<Receiver>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if request.uri().path() != receiver.path {
        return answer(StatusCode::NOT_FOUND, "not_found", "no webhook endpoint at this path");
    }
    if request.method() != Method::POST {
        let mut response = answer(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "deliveries are POSTed");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let (_parts, Admitted { delivery, claim }) = match receiver.guard.admit(request).await {
        Ok(admitted) => admitted,
        // Already logged by the core, with its kind.
        Err(rejection) => return rejection.to_response(|body| Full::new(Bytes::from(body))),
    };
    let (status, response) = match Arc::clone(&receiver.permits).try_acquire_owned() {
        Ok(_permit) => handle(&receiver.handling, &delivery).await,
        Err(_) => {
            tracing::warn!(
                provider = delivery.provider(),
                id = delivery.id(),
                "every handling slot is taken (--concurrency): answering 503"
            );
            let mut response =
                answer(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many deliveries are being handled; retry later");
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER_SECS));
            (StatusCode::SERVICE_UNAVAILABLE, response)
        }
    };
    if let Some(claim) = claim {
        claim.finish(status).await;
    }
    response
}

/// Runs the handling of one accepted delivery and prints its line when it succeeded: the
/// status for the claim, and the answer.
async fn handle(
    handling: &Handling,
    delivery: &webhook_guard::Delivery<AnyEvent>,
) -> (StatusCode, Response<Full<Bytes>>) {
    let (provider, id, event_type) = (delivery.provider(), delivery.id(), delivery.event_type());
    let line = match event_line::json_line(delivery) {
        Ok(line) => line,
        Err(message) => {
            tracing::error!(provider, id, "{message}");
            return failed(StatusCode::INTERNAL_SERVER_ERROR, "handler_failed", &message);
        }
    };
    let outcome = match handling {
        Handling::Print => Ok(()),
        Handling::Exec(command) => command
            .run(&line, provider, id, event_type)
            .await
            .map_err(|message| (StatusCode::INTERNAL_SERVER_ERROR, message)),
        Handling::Forward(forward) => {
            forward.send(delivery).await.map_err(|message| (StatusCode::BAD_GATEWAY, message))
        }
    };
    if let Err((status, message)) = outcome {
        tracing::warn!(provider, id, event_type, status = status.as_u16(), "delivery not handled: {message}");
        let kind = if status == StatusCode::BAD_GATEWAY { "forward_failed" } else { "handler_failed" };
        return failed(status, kind, &message);
    }
    // The line is printed once the handling succeeded, so stdout lists each event once.
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        let message = format!("cannot write to stdout: {error}");
        tracing::error!(provider, id, "{message}");
        return failed(StatusCode::INTERNAL_SERVER_ERROR, "handler_failed", &message);
    }
    drop(stdout);
    tracing::info!(provider, id, event_type, "delivery handled");
    (StatusCode::OK, handled())
}

/// A failed handling: its status and answer.
fn failed(status: StatusCode, kind: &str, message: &str) -> (StatusCode, Response<Full<Bytes>>) {
    (status, answer(status, kind, message))
}

/// A refusal in the status table's shape: `{"error": kind, "message": …}`.
fn answer(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &serde_json::json!({ "error": kind, "message": message }))
}

/// The answer to a handled delivery: 200 `{"status":"handled"}`.
fn handled() -> Response<Full<Bytes>> {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "handled" }))
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
