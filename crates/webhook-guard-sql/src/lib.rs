#![doc = include_str!("../README.md")]

mod backend;
mod completion;
mod store;

pub use backend::Backend;
pub use completion::{CLAIM_LOST_RETRY_AFTER, Completion, CompletionError, CompletionErrorKind, DATABASE_RETRY_AFTER};
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{DEFAULT_TABLE, DEFAULT_TIMEOUT, SqlStore, SqlStoreBuilder};
