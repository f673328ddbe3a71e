//! One POST of a signed delivery, and how its answer is shown.

use std::fmt;
use std::time::{Duration, Instant};

use http::StatusCode;
use webhook_guard::DUPLICATE_HEADER;
use webhook_guard::testing::SignedRequest;

/// What a receiver answered to one attempt.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The status, or why there was none (connection refused, timeout).
    pub(crate) outcome: Result<StatusCode, String>,
    /// The `error` of a webhook-guard JSON answer (`signature_mismatch`, …), when there is one.
    pub(crate) kind: Option<String>,
    /// The answer carried `webhook-guard-duplicate: completed`.
    pub(crate) duplicate: bool,
    /// The answer's `Retry-After`, in seconds (RFC 9110 §10.2.3; an HTTP date is not read).
    pub(crate) retry_after: Option<Duration>,
    /// From sending the request to the answer's end.
    pub(crate) latency: Duration,
}

impl Answer {
    /// Whether the sender counts the delivery as delivered: a 2xx (Standard Webhooks, Botdog,
    /// Breakcold: anything else is retried).
    pub(crate) fn acknowledged(&self) -> bool {
        self.outcome.as_ref().is_ok_and(StatusCode::is_success)
    }

    /// The status code, when there was an answer.
    pub(crate) fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(StatusCode::as_u16)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(status) => {
                write!(f, "{} {:<21}", status.as_str(), status.canonical_reason().unwrap_or(""))?;
            }
            Err(_) => write!(f, "--- {:<21}", "no answer")?,
        }
        write!(f, " {:>5} ms", self.latency.as_millis())
    }
}

impl Answer {
    /// What follows the status: `duplicate (already handled)`, the answer's `error` kind, or why
    /// there was no answer.
    pub(crate) fn note(&self) -> String {
        match (&self.outcome, &self.kind) {
            (Err(reason), _) => reason.clone(),
            (Ok(_), _) if self.duplicate => "duplicate: already handled".to_owned(),
            (Ok(_), Some(kind)) => kind.clone(),
            (Ok(_), None) => String::new(),
        }
    }
}

/// POSTs `request` to `url`.
pub(crate) async fn post(client: &reqwest::Client, url: &reqwest::Url, request: SignedRequest) -> Answer {
    let mut builder = client.post(url.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let started = Instant::now();
    let answer = async {
        let response = builder.body(request.body).send().await?;
        let status = response.status();
        let duplicate = response.headers().get(DUPLICATE_HEADER).is_some_and(|value| value == "completed");
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok()?.trim().parse().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await?;
        let kind = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json.get("error")?.as_str().map(str::to_owned));
        Ok::<_, reqwest::Error>(Answer { outcome: Ok(status), kind, duplicate, retry_after, latency: Duration::ZERO })
    };
    let mut answer = answer.await.unwrap_or_else(|error| Answer {
        outcome: Err(reason(&error)),
        kind: None,
        duplicate: false,
        retry_after: None,
        latency: Duration::ZERO,
    });
    answer.latency = started.elapsed();
    answer
}

/// Why a request got no answer, in a few words, without the url.
fn reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut reason = String::from(if error.is_connect() { "connection failed" } else { "request failed" });
    // The innermost cause says what happened ("Connection refused (os error 111)").
    let mut source = std::error::Error::source(error);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    if let Some(cause) = innermost {
        reason.push_str(": ");
        reason.push_str(&cause);
    }
    reason
}
