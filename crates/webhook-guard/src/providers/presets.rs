//! The signed-content layouts shared by several presets.

#[cfg(any(feature = "botdog", feature = "breakcold", feature = "stripe"))]
use std::borrow::Cow;

use crate::scheme::Part;

/// `{t}.{body}`: Botdog, Breakcold, Stripe.
#[cfg(any(feature = "botdog", feature = "breakcold", feature = "stripe"))]
pub(crate) const TIMESTAMP_DOT_BODY: &[Part] = &[Part::Timestamp, Part::Literal(Cow::Borrowed(b".")), Part::Body];
/// `{body}`: GitHub, Shopify, Pollybot's body-only reading.
#[cfg(any(feature = "github", feature = "shopify", feature = "pollybot"))]
pub(crate) const BODY: &[Part] = &[Part::Body];
