//! Test support (feature `testing`): a [`Signer`] that produces exactly the headers each sender
//! sends, and the payload [`fixtures`] — one JSON file per documented event per sender.
//!
//! Used by this crate's tests, by the adapters' tests, by the `webhook-guard` CLI (`sign`) and
//! by the fuzz corpus; available to users for their own receiver tests.

pub mod conformance;
mod fixtures;
mod hostile;
pub mod http_client;
pub mod process;
mod signer;
mod unreachable_store;

pub use fixtures::*;
pub use signer::{SignedRequest, Signer, SigningKey};
pub use unreachable_store::UnreachableStore;
