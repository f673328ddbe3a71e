#![doc = include_str!("../README.md")]
// Parts shared by the presets (layouts, the preset builder, JSON events) are unused when some
// presets are compiled out; the default build (every preset) still reports dead code.
#![cfg_attr(
    not(all(
        feature = "botdog",
        feature = "pollybot",
        feature = "breakcold",
        feature = "breakcold-legacy",
        feature = "standard",
        feature = "github",
        feature = "stripe",
        feature = "slack",
        feature = "shopify"
    )),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "guard")]
pub mod body;
pub mod clock;
#[cfg(feature = "guard")]
pub mod dedup;
pub mod delivery;
pub mod delivery_id;
pub mod error;
pub mod event;
pub mod explain;
#[cfg(feature = "guard")]
mod guard;
pub mod headers;
pub mod provider;
pub mod providers;
pub mod scheme;
pub mod secret;
pub mod status;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verifier;

pub use clock::{Clock, FixedClock, SystemClock};
#[cfg(feature = "guard")]
pub use dedup::{Dedup, DedupStore, MemoryStore};
pub use delivery::{Delivery, Verified};
pub use delivery_id::body_digest_id;
pub use error::{ConfigError, PayloadError, VerifyError, VerifyErrorKind};
pub use event::{Event, UnknownEvent};
#[cfg(feature = "guard")]
pub use guard::{Admitted, Guard};
pub use headers::HeaderSource;
pub use provider::Provider;
#[cfg(feature = "standard")]
pub use secret::Ed25519PublicKey;
pub use secret::{Key, Keyring, Secret};
pub use status::{Rejection, RejectionKind};
pub use verifier::{DEFAULT_BODY_LIMIT, DEFAULT_READ_TIMEOUT, DEFAULT_TOLERANCE, Verifier, VerifierBuilder};
