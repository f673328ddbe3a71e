//! `listen --forward`: the verified body, unchanged, POSTed to an internal URL.

use std::time::Duration;

use webhook_guard::Delivery;
use webhook_guard::providers::AnyEvent;

use crate::failure::Failure;
use crate::http_client;

/// Where verified deliveries are forwarded, and the client that does it.
#[derive(Debug)]
pub(crate) struct Forward {
    url: reqwest::Url,
    client: reqwest::Client,
    timeout: Duration,
}

impl Forward {
    /// A forwarder to `url` whose requests give up after `timeout`.
    ///
    /// # Errors
    ///
    /// A usage failure for a url that is not http(s), or a client that cannot be built.
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, Failure> {
        let url = reqwest::Url::parse(url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| Failure::usage(format!("--forward `{url}` is not an http:// or https:// url")))?;
        Ok(Self { url, client: http_client::build(timeout)?, timeout })
    }

    /// How long one forward may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs the delivery's body as received, with its provider, id and event type in headers.
    ///
    /// # Errors
    ///
    /// Why it was not handled: the url did not answer 2xx in time. The message never contains
    /// the body.
    pub(crate) async fn send(&self, delivery: &Delivery<AnyEvent>) -> Result<(), String> {
        // Every supported sender posts JSON (their docs' `Content-Type: application/json`).
        let request = self
            .client
            .post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("X-Webhook-Guard-Provider", delivery.provider())
            .header("X-Webhook-Guard-Id", header_value(delivery.id()))
            .header("X-Webhook-Guard-Event-Type", header_value(delivery.event_type()))
            .body(delivery.body().clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("the forward url answered {}", response.status())),
            Err(error) if error.is_timeout() => {
                Err(format!("the forward url did not answer within {:?}", self.timeout))
            }
            Err(error) => Err(format!("cannot reach the forward url: {}", without_url(&error))),
        }
    }
}

/// `text` as a header value: ids and event types come from the sender, and a byte a header
/// cannot carry is sent as `?` rather than failing the delivery.
fn header_value(text: &str) -> String {
    text.chars().map(|c| if c == '\t' || (' '..='~').contains(&c) { c } else { '?' }).collect()
}

/// The error and its causes, without the url (it was given on the command line and may carry
/// credentials).
fn without_url(error: &reqwest::Error) -> String {
    let mut message = String::from(if error.is_connect() { "connection failed" } else { "request failed" });
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
