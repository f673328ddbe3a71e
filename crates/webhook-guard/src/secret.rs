//! Secrets and the keyring that holds them.
//!
//! A [`Secret`] is key material: its `Debug` is redacted, its memory is zeroized on drop, and it
//! has no `PartialEq` (comparing secrets with `==` is how timing leaks start). A [`Keyring`] holds
//! every key a receiver accepts at once, so that a sender-side rotation (old and new secret both
//! valid for a while) and a receiver-side rotation both work. The HMAC key schedule (the hashed
//! inner and outer pads) is computed once per secret when the keyring is built and cloned per
//! request, so a request costs the body's blocks plus two, never a key derivation.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::ConfigError;
use crate::scheme::hmac_sha256::PrekeyedHmac;

/// HMAC-SHA256 as the `hmac` crate computes it: what the test signer signs with, independently
/// of the engine's own [`PrekeyedHmac`].
#[cfg(any(test, feature = "testing"))]
pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// Shared key material for HMAC signatures and secret-in-body comparison.
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
}

impl Secret {
    /// A secret used as its raw UTF-8 bytes: what Botdog, Pollybot, Breakcold, GitHub, Stripe,
    /// Slack and Shopify do, even when the secret happens to start with `whsec_`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptySecret`] for an empty string.
    pub fn from_utf8(secret: &str) -> Result<Self, ConfigError> {
        Self::from_bytes(secret.as_bytes())
    }

    /// A secret from raw key bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptySecret`] for an empty slice.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Self { bytes: Zeroizing::new(bytes.to_vec()) })
    }

    /// A Standard Webhooks / Svix secret `whsec_<base64>`: the key is the decoded part after the
    /// prefix, 24 to 64 bytes (Standard Webhooks specification, "Symmetric signatures"). The
    /// prefix may be omitted, as the reference libraries allow.
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadKeyEncoding`] when the rest is not base64, [`ConfigError::BadKeyLength`]
    /// when the decoded key is shorter than 24 or longer than 64 bytes.
    pub fn from_whsec(secret: &str) -> Result<Self, ConfigError> {
        let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
        let decoded =
            Zeroizing::new(STANDARD.decode(encoded).map_err(|_| ConfigError::BadKeyEncoding { expected: "whsec_" })?);
        if !(24..=64).contains(&decoded.len()) {
            return Err(ConfigError::BadKeyLength {
                what: "Standard Webhooks secret",
                len: decoded.len(),
                min: 24,
                max: 64,
            });
        }
        Self::from_bytes(&decoded)
    }

    /// The key bytes. Crate-private: nothing outside the crate can read a secret back.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// An Ed25519 public key for Standard Webhooks `v1a` signatures (`whpk_<base64>`).
#[cfg(feature = "standard")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519PublicKey(pub(crate) ed25519_dalek::VerifyingKey);

#[cfg(feature = "standard")]
impl Ed25519PublicKey {
    /// Parses `whpk_<base64 of the 32-byte key>`.
    ///
    /// # Errors
    ///
    /// When the prefix or base64 is wrong, the length is not 32, or the bytes are not a point.
    pub fn from_whpk(key: &str) -> Result<Self, ConfigError> {
        let bad = ConfigError::BadKeyEncoding { expected: "whpk_" };
        let encoded = key.strip_prefix("whpk_").ok_or(bad.clone())?;
        let decoded = STANDARD.decode(encoded).map_err(|_| bad)?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| ConfigError::BadKeyLength {
            what: "Ed25519 public key",
            len: decoded.len(),
            min: 32,
            max: 32,
        })?;
        Self::from_bytes(&bytes)
    }

    /// A public key from its 32 bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::BadPublicKey`] when the bytes are not a valid point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, ConfigError> {
        ed25519_dalek::VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| ConfigError::BadPublicKey)
    }
}

#[cfg(feature = "standard")]
impl fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A public key is not secret; its base64 form helps tell keys apart in logs.
        write!(f, "Ed25519PublicKey(whpk_{})", STANDARD.encode(self.0.as_bytes()))
    }
}

/// One key a [`Keyring`] can hold.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Key {
    /// A shared secret (HMAC-SHA256, or the secret-in-body comparison).
    Secret(Secret),
    /// An Ed25519 public key (Standard Webhooks `v1a`).
    #[cfg(feature = "standard")]
    Ed25519(Ed25519PublicKey),
}

impl From<Secret> for Key {
    fn from(secret: Secret) -> Self {
        Self::Secret(secret)
    }
}

#[cfg(feature = "standard")]
impl From<Ed25519PublicKey> for Key {
    fn from(key: Ed25519PublicKey) -> Self {
        Self::Ed25519(key)
    }
}

/// How a sender shows its secrets, and so what key a configured string stands for: the one fact
/// about keys that both a [`Verifier`](crate::Verifier) (through [`Provider::parse_key`]) and the
/// test signer need from a provider ([`Provider::secret_format`]).
///
/// [`Provider::parse_key`]: crate::Provider::parse_key
/// [`Provider::secret_format`]: crate::Provider::secret_format
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretFormat {
    /// The string's raw UTF-8 bytes are the HMAC key, even when it starts with `whsec_`: Botdog,
    /// Pollybot, Breakcold, GitHub, Stripe, Slack and Shopify.
    Utf8,
    /// Standard Webhooks ("Symmetric signatures" and "Asymmetric signatures" of the
    /// specification): `whsec_<base64>` is a secret whose key is the decoded bytes (the prefix may
    /// be omitted), `whpk_<base64>` an Ed25519 public key, and, to sign, `whsk_<base64>` an
    /// Ed25519 signing key.
    Whsec,
}

impl SecretFormat {
    /// The key `text` stands for, to verify with.
    ///
    /// # Errors
    ///
    /// An empty secret; for [`SecretFormat::Whsec`], a string that is neither a `whsec_` secret
    /// nor (with the `standard` feature) a `whpk_` public key.
    pub fn parse_key(self, text: &str) -> Result<Key, ConfigError> {
        match self {
            Self::Utf8 => Ok(Secret::from_utf8(text)?.into()),
            #[cfg(feature = "standard")]
            Self::Whsec if text.starts_with("whpk_") => Ok(Ed25519PublicKey::from_whpk(text)?.into()),
            Self::Whsec => Ok(Secret::from_whsec(text)?.into()),
        }
    }
}

/// A secret with its HMAC key schedule precomputed.
#[derive(Clone)]
pub(crate) struct HmacKey {
    /// The key schedule (inner and outer pads hashed); each request starts from a copy.
    pub(crate) mac: PrekeyedHmac,
    /// SHA-256 of the secret: secret-in-body schemes compare digests so the comparison takes the
    /// same time whatever the lengths.
    pub(crate) digest: Zeroizing<[u8; 32]>,
}

/// Every key a receiver accepts for one provider, in the order they were added.
///
/// Cloning is cheap (the keys are shared). Keys keep their position: errors and `--explain` name
/// a key by its number (`secret #2`), never by its value.
#[derive(Clone, Default)]
pub struct Keyring {
    hmac: Arc<[(usize, HmacKey)]>,
    #[cfg(feature = "standard")]
    ed25519: Arc<[(usize, Ed25519PublicKey)]>,
    len: usize,
}

impl Keyring {
    /// A keyring of the given keys.
    pub fn new<I, K>(keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<Key>,
    {
        let mut hmac = Vec::new();
        #[cfg(feature = "standard")]
        let mut ed25519 = Vec::new();
        let mut len = 0;
        for (index, key) in keys.into_iter().enumerate() {
            len += 1;
            match key.into() {
                Key::Secret(secret) => {
                    let mac = PrekeyedHmac::new(secret.expose());
                    let digest = Zeroizing::new(Sha256::digest(secret.expose()).into());
                    hmac.push((index, HmacKey { mac, digest }));
                    // `secret` is dropped (and zeroized) here: the keyring keeps only derived state.
                }
                #[cfg(feature = "standard")]
                Key::Ed25519(key) => ed25519.push((index, key)),
            }
        }
        Self {
            hmac: hmac.into(),
            #[cfg(feature = "standard")]
            ed25519: ed25519.into(),
            len,
        }
    }

    /// How many keys the keyring holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the keyring holds no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The shared secrets, with their position in the keyring.
    pub(crate) fn hmac_keys(&self) -> &[(usize, HmacKey)] {
        &self.hmac
    }

    /// The Ed25519 public keys, with their position in the keyring.
    #[cfg(feature = "standard")]
    pub(crate) fn ed25519_keys(&self) -> &[(usize, Ed25519PublicKey)] {
        &self.ed25519
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Keyring");
        debug.field("secrets", &self.hmac.len());
        #[cfg(feature = "standard")]
        debug.field("ed25519_public_keys", &self.ed25519.len());
        debug.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_key_material() {
        let secret = Secret::from_utf8("super-secret-value").unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        let keyring = Keyring::new([secret]);
        let debug = format!("{keyring:?}");
        assert!(!debug.contains("super-secret-value"), "{debug}");
        assert_eq!(keyring.len(), 1);
    }

    #[test]
    fn whsec_secrets_are_base64_decoded_with_or_without_prefix() {
        let with = Secret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let without = Secret::from_whsec("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(with.expose(), without.expose());
        assert_eq!(with.expose().len(), 24);
        assert!(matches!(Secret::from_whsec("whsec_!!!"), Err(ConfigError::BadKeyEncoding { .. })));
        assert!(matches!(Secret::from_whsec("whsec_c2hvcnQ="), Err(ConfigError::BadKeyLength { len: 5, .. })));
        assert_eq!(Secret::from_utf8("").unwrap_err(), ConfigError::EmptySecret);
    }

    #[test]
    fn raw_secrets_keep_their_bytes_even_with_a_whsec_prefix() {
        let raw = Secret::from_utf8("whsec_abc").unwrap();
        assert_eq!(raw.expose(), b"whsec_abc");
    }
}
