//! The signed-content layouts shared by several presets.

use std::borrow::Cow;

use crate::scheme::Part;

/// `{t}.{body}`: Botdog, Breakcold, Stripe.
pub(crate) const TIMESTAMP_DOT_BODY: &[Part] = &[Part::Timestamp, Part::Literal(Cow::Borrowed(b".")), Part::Body];
/// `{body}`: GitHub, Shopify, Pollybot's body-only reading.
pub(crate) const BODY: &[Part] = &[Part::Body];
