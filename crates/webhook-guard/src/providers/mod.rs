//! One module per sender, each behind its own cargo feature, plus [`Custom`] for any scheme the
//! engine can describe.

mod any;
#[cfg(feature = "botdog")]
pub mod botdog;
#[cfg(feature = "breakcold")]
pub mod breakcold;
#[cfg(feature = "breakcold-legacy")]
pub mod breakcold_legacy;
mod custom;
#[cfg(feature = "github")]
mod github;
mod json_event;
#[cfg(feature = "pollybot")]
pub mod pollybot;
mod presets;
#[cfg(feature = "shopify")]
mod shopify;
#[cfg(feature = "slack")]
mod slack;
#[cfg(feature = "standard")]
pub mod standard;
#[cfg(feature = "stripe")]
mod stripe;

pub use any::{AnyEvent, AnyProvider};
#[cfg(feature = "botdog")]
pub use botdog::{Botdog, BotdogEvent};
#[cfg(feature = "breakcold")]
pub use breakcold::{Breakcold, BreakcoldEvent};
#[cfg(feature = "breakcold-legacy")]
pub use breakcold_legacy::{BreakcoldLegacy, BreakcoldLegacyEvent};
pub use custom::Custom;
#[cfg(feature = "github")]
pub use github::Github;
pub use json_event::JsonEvent;
#[cfg(feature = "pollybot")]
pub use pollybot::{Pollybot, PollybotEvent};
#[cfg(feature = "shopify")]
pub use shopify::Shopify;
#[cfg(feature = "slack")]
pub use slack::Slack;
#[cfg(feature = "standard")]
pub use standard::{Standard, StandardEvent};
#[cfg(feature = "stripe")]
pub use stripe::Stripe;
