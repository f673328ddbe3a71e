//! [`UnreachableStore`]: a dedup store that fails every call, as an unreachable server does.

use std::time::Duration;

use webhook_guard::{Claim, ClaimToken, DedupStore, StoreError};

/// A [`DedupStore`] whose every call fails with "connection refused": for testing the
/// store-unavailable row (503 + `Retry-After`, or fail open) without stopping a real server.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnreachableStore;

impl DedupStore for UnreachableStore {
    async fn claim(&self, _: &str, _: Duration) -> Result<Claim, StoreError> {
        Err(StoreError::new("connection refused"))
    }

    async fn complete(&self, _: &str, _: &ClaimToken, _: Duration) -> Result<bool, StoreError> {
        Err(StoreError::new("connection refused"))
    }

    async fn release(&self, _: &str, _: &ClaimToken) -> Result<bool, StoreError> {
        Err(StoreError::new("connection refused"))
    }
}
