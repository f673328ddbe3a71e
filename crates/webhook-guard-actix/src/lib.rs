#![doc = include_str!("../README.md")]

mod config;
mod dedup;
mod error;
mod extract;
mod headers;

pub use config::WebhookConfig;
pub use dedup::{WebhookDedup, WebhookDedupService};
pub use error::WebhookError;
pub use extract::Webhook;
pub use headers::ActixHeaders;
