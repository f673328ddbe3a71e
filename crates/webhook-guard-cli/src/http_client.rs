//! The HTTP client of `send` and `listen --forward`: reqwest over rustls with ring's crypto.
//!
//! `send` targets receivers before they go live, which are often behind https (a staging host, a
//! tunnel), so the client speaks TLS. reqwest is built without its default provider (aws-lc-rs,
//! which compiles a C library for minutes); ring's is installed here instead, before any client
//! is built, as reqwest's `rustls-no-provider` feature requires. Certificates are checked against
//! the platform's trust store.

use std::time::Duration;

use crate::failure::Failure;

/// A client whose every request must complete within `timeout`, that follows no redirects (a
/// sender treats a 3xx as a failure: Standard Webhooks, "Retries") and uses no proxy.
///
/// # Errors
///
/// A usage failure when the TLS configuration cannot be built (no usable trust store).
pub(crate) fn build(timeout: Duration) -> Result<reqwest::Client, Failure> {
    // Installing twice (listen builds one client, send one) is harmless: the first one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("webhook-guard/", env!("CARGO_PKG_VERSION")))
        // A receiver on loopback or an internal host is reached directly, whatever the
        // environment's proxy variables say.
        .no_proxy()
        .build()
        .map_err(|error| Failure::usage(format!("cannot build the HTTP client: {error}")))
}
