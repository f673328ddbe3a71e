//! Test support (feature `testing`): a [`Signer`] that produces exactly the headers each sender
//! sends, and the payload [`fixtures`](fixtures()) — one JSON file per documented event per sender.
//!
//! Used by this crate's tests, by the adapters' tests, by the `webhook-guard` CLI (`sign`) and
//! by the fuzz corpus; available to users for their own receiver tests. The suites that run
//! against a receiver over real HTTP are the workspace's own tests' business and live in the
//! unpublished `webhook-guard-test-support` crate.

mod fixtures;
mod header_source;
mod signer;

pub use fixtures::*;
pub use header_source::{values_looked_up, values_walked};
pub use signer::{SignedRequest, Signer, SigningKey};
