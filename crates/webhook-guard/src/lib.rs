#![doc = "webhook-guard core."]

pub mod clock;
pub mod delivery;
pub mod error;
pub mod event;
pub mod explain;
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
pub use delivery::{Delivery, Verified};
pub use error::{ConfigError, PayloadError, VerifyError, VerifyErrorKind};
pub use event::{Event, UnknownEvent};
pub use headers::HeaderSource;
pub use provider::Provider;
#[cfg(feature = "standard")]
pub use secret::Ed25519PublicKey;
pub use secret::{Key, Keyring, Secret};
pub use status::{Rejection, RejectionKind};
pub use verifier::{DEFAULT_BODY_LIMIT, DEFAULT_TOLERANCE, Verifier, VerifierBuilder, body_digest_id};
