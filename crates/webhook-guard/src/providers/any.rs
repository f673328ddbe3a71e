//! [`AnyProvider`]: one of the presets, chosen at run time by name (the CLI, config files).

use std::borrow::Cow;
use std::time::Duration;

use serde::Serialize;

use crate::headers::HeaderSource;
use crate::provider::SentValue;
use crate::scheme::Scheme;
use crate::secret::{Key, SecretFormat};
use crate::{ConfigError, Event, PayloadError, Provider, Verified};

macro_rules! any_provider {
    ($($feature:literal => $variant:ident($provider:ty, $event:ty) = $name:literal;)*) => {
        /// One of the preset providers, chosen at run time.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum AnyProvider {
            $(
                #[doc = concat!("`", $name, "`")]
                #[cfg(feature = $feature)]
                $variant($provider),
            )*
            /// A sender described at run time.
            Custom(super::Custom),
        }

        /// The event of an [`AnyProvider`].
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        // Each delivery holds one event, moved a few times at most: boxing would cost an
        // allocation per delivery to save stack space nobody is short of.
        #[allow(clippy::large_enum_variant)]
        pub enum AnyEvent {
            $(
                #[doc = concat!("An event of `", $name, "`.")]
                #[cfg(feature = $feature)]
                $variant($event),
            )*
            /// An event of a [`super::Custom`] sender.
            Custom(serde_json::Value),
        }

        impl AnyProvider {
            /// The names of the presets compiled in, as [`AnyProvider::from_name`] takes them.
            pub const NAMES: &'static [&'static str] = &[$(#[cfg(feature = $feature)] $name,)*];

            /// The preset called `name` (`botdog`, `pollybot`, `breakcold`, `breakcold-legacy`,
            /// `standard`, `github`, `stripe`, `slack`, `shopify`).
            ///
            /// # Errors
            ///
            /// [`ConfigError::UnknownProvider`] for any other name.
            pub fn from_name(name: &str) -> Result<Self, ConfigError> {
                match name {
                    $(#[cfg(feature = $feature)] $name => Ok(Self::$variant(<$provider>::default())),)*
                    _ => Err(ConfigError::UnknownProvider(name.to_owned())),
                }
            }
        }

        impl Event for AnyEvent {
            fn event_type(&self) -> &str {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(event) => event.event_type(),)*
                    Self::Custom(event) => event.event_type(),
                }
            }
        }

        impl Provider for AnyProvider {
            type Event = AnyEvent;

            fn name(&self) -> &'static str {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.name(),)*
                    Self::Custom(provider) => provider.name(),
                }
            }

            fn scheme(&self) -> &Scheme {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.scheme(),)*
                    Self::Custom(provider) => provider.scheme(),
                }
            }

            fn retry_window(&self) -> Duration {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.retry_window(),)*
                    Self::Custom(provider) => provider.retry_window(),
                }
            }

            fn unsigned_id_headers(&self) -> &[Cow<'static, str>] {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.unsigned_id_headers(),)*
                    Self::Custom(provider) => provider.unsigned_id_headers(),
                }
            }

            fn event_type_header(&self) -> Option<&'static str> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.event_type_header(),)*
                    Self::Custom(provider) => provider.event_type_header(),
                }
            }

            fn extra_headers(&self) -> &[(&'static str, SentValue)] {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.extra_headers(),)*
                    Self::Custom(provider) => provider.extra_headers(),
                }
            }

            fn secret_format(&self) -> SecretFormat {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.secret_format(),)*
                    Self::Custom(provider) => provider.secret_format(),
                }
            }

            fn parse_key(&self, text: &str) -> Result<Key, ConfigError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.parse_key(text),)*
                    Self::Custom(provider) => provider.parse_key(text),
                }
            }

            fn parse_event<H: HeaderSource + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<AnyEvent, PayloadError> {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.parse_event(headers, body).map(AnyEvent::$variant),)*
                    Self::Custom(provider) => provider.parse_event(headers, body).map(AnyEvent::Custom),
                }
            }

            fn delivery_id_in_event(event: &AnyEvent) -> Option<&str> {
                match event {
                    $(#[cfg(feature = $feature)] AnyEvent::$variant(event) => <$provider as Provider>::delivery_id_in_event(event),)*
                    AnyEvent::Custom(event) => <super::Custom as Provider>::delivery_id_in_event(event),
                }
            }

            fn delivery_id_in_headers(&self) -> bool {
                match self {
                    $(#[cfg(feature = $feature)] Self::$variant(provider) => provider.delivery_id_in_headers(),)*
                    Self::Custom(provider) => provider.delivery_id_in_headers(),
                }
            }

            fn delivery_id<H: HeaderSource + ?Sized>(&self, headers: &H, verified: &Verified, event: &AnyEvent, body: &[u8]) -> Option<String> {
                match (self, event) {
                    $(#[cfg(feature = $feature)] (Self::$variant(provider), AnyEvent::$variant(event)) => provider.delivery_id(headers, verified, event, body),)*
                    (Self::Custom(provider), AnyEvent::Custom(event)) => provider.delivery_id(headers, verified, event, body),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

any_provider! {
    "botdog" => Botdog(super::Botdog, super::BotdogEvent) = "botdog";
    "pollybot" => Pollybot(super::Pollybot, super::PollybotEvent) = "pollybot";
    "breakcold" => Breakcold(super::Breakcold, super::BreakcoldEvent) = "breakcold";
    "breakcold-legacy" => BreakcoldLegacy(super::BreakcoldLegacy, super::BreakcoldLegacyEvent) = "breakcold-legacy";
    "standard" => Standard(super::Standard, super::StandardEvent) = "standard";
    "github" => Github(super::Github, super::JsonEvent) = "github";
    "stripe" => Stripe(super::Stripe, super::JsonEvent) = "stripe";
    "slack" => Slack(super::Slack, super::JsonEvent) = "slack";
    "shopify" => Shopify(super::Shopify, super::JsonEvent) = "shopify";
}
