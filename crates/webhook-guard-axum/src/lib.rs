#![doc = include_str!("../README.md")]

mod webhook;

pub use webhook::{VerifiedWebhook, Webhook, WebhookRejection};
pub use webhook_guard_tower::WebhookLayer;
