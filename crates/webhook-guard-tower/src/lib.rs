#![doc = include_str!("../README.md")]

mod verify;

pub use verify::{
    DEFAULT_READ_TIMEOUT, DefaultOnRejection, OnRejection, ResponseFuture, WebhookLayer, WebhookService, verify_request,
};
