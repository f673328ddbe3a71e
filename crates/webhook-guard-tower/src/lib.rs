#![doc = include_str!("../README.md")]

mod verify;

pub use verify::{DefaultOnRejection, Delivered, OnRejection, ResponseFuture, WebhookLayer, WebhookService};
