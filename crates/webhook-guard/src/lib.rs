#![doc = include_str!("../README.md")]

#[cfg(feature = "guard")]
mod body;
mod clock;
#[cfg(feature = "guard")]
mod dedup;
mod delivery;
mod delivery_id;
mod error;
mod event;
mod explain;
#[cfg(feature = "guard")]
mod guard;
mod headers;
mod provider;
pub mod providers;
mod scheme;
mod secret;
mod status;
#[cfg(feature = "testing")]
pub mod testing;
mod verifier;

#[cfg(feature = "guard")]
pub use body::{DISCARD_IDLE_TIMEOUT, DISCARD_MAX_BYTES, DISCARD_MAX_TIME, DiscardBudget, DiscardCut};
pub use clock::{Clock, FixedClock, SystemClock};
#[cfg(feature = "guard")]
pub use dedup::{
    Claim, ClaimHandle, ClaimToken, DEFAULT_CAPACITY, DEFAULT_LEASE, DEFAULT_TTL, Dedup, DedupStore, HeldClaim,
    MAX_DURATION, MemoryStore, OnStoreError, StoreError, clamp_duration,
};
pub use delivery::{Delivery, Verified};
pub use delivery_id::MAX_ID_LEN;
pub use error::{ConfigError, PayloadError, VerifyError, VerifyErrorKind};
pub use event::{Event, UnknownEvent};
pub use explain::Explanation;
#[cfg(feature = "guard")]
pub use guard::{Admitted, Guard};
pub use headers::{
    HEADER_MAP_WALK_LIMIT, HeaderSource, NAMES_PER_WALK, for_each_value_by_lookup, for_each_value_walked,
};
pub use provider::{Provider, SentValue};
pub use scheme::{Encoding, Scheme, SchemeBuilder, SignatureFormat, SignedContent};
#[cfg(feature = "standard")]
pub use secret::Ed25519PublicKey;
pub use secret::{Key, Keyring, Secret, SecretFormat};
pub use status::{DUPLICATE_HEADER, MAX_RETRY_AFTER_SECS, Rejection, RejectionKind};
pub use verifier::{DEFAULT_BODY_LIMIT, DEFAULT_READ_TIMEOUT, DEFAULT_TOLERANCE, Verifier, VerifierBuilder};
