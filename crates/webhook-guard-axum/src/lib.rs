#![doc = include_str!("../README.md")]

mod webhook;

pub use webhook::{Webhook, WebhookRejection};
pub use webhook_guard_tower::WebhookLayer;
