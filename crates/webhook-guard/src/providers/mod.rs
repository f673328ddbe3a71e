//! One module per sender, each behind its own cargo feature, plus [`Custom`] for any scheme the
//! engine can describe.
//!
//! A sender's module docs list the wire facts its preset follows, with the vendor pages they come
//! from. GitHub, Shopify, Slack and Stripe keep their events as [`JsonEvent`] and differ only in
//! those facts, so their presets are one type, [`JsonPreset`], with one description per sender.

mod any;
#[cfg(feature = "botdog")]
pub mod botdog;
#[cfg(feature = "breakcold")]
pub mod breakcold;
#[cfg(feature = "breakcold-legacy")]
pub mod breakcold_legacy;
mod custom;
#[cfg(feature = "github")]
pub mod github;
mod json_event;
#[cfg(any(feature = "github", feature = "shopify", feature = "slack", feature = "stripe"))]
mod json_preset;
#[cfg(feature = "pollybot")]
pub mod pollybot;
#[cfg(any(
    feature = "botdog",
    feature = "breakcold",
    feature = "stripe",
    feature = "github",
    feature = "shopify",
    feature = "pollybot"
))]
mod presets;
#[cfg(feature = "shopify")]
pub mod shopify;
#[cfg(feature = "slack")]
pub mod slack;
#[cfg(feature = "standard")]
pub mod standard;
#[cfg(feature = "stripe")]
pub mod stripe;

pub use any::{AnyEvent, AnyProvider};
#[cfg(feature = "botdog")]
pub use botdog::{Botdog, BotdogEvent};
#[cfg(feature = "breakcold")]
pub use breakcold::{Breakcold, BreakcoldEvent};
#[cfg(feature = "breakcold-legacy")]
pub use breakcold_legacy::{BreakcoldLegacy, BreakcoldLegacyEvent};
pub use custom::Custom;
#[cfg(feature = "github")]
pub use github::{Github, GithubWire};
pub use json_event::JsonEvent;
#[cfg(any(feature = "github", feature = "shopify", feature = "slack", feature = "stripe"))]
pub use json_preset::{JsonPreset, JsonWire};
#[cfg(feature = "pollybot")]
pub use pollybot::{Pollybot, PollybotEvent};
#[cfg(feature = "shopify")]
pub use shopify::{Shopify, ShopifyWire};
#[cfg(feature = "slack")]
pub use slack::{Slack, SlackWire};
#[cfg(feature = "standard")]
pub use standard::{Standard, StandardEvent};
#[cfg(feature = "stripe")]
pub use stripe::{Stripe, StripeWire};

pub use crate::provider::SentValue;
pub use crate::secret::SecretFormat;
