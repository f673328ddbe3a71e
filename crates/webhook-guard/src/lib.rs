#![doc = "webhook-guard core (docs filled in below)."]

pub mod error;
pub mod event;
pub mod providers;

pub use error::{ConfigError, PayloadError, VerifyError, VerifyErrorKind};
pub use event::{Event, UnknownEvent};
