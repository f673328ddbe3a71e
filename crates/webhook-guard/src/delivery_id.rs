//! Delivery ids: the fallback when a sender gives none, ids derived from body fields, and the
//! bound on what reaches a dedup key (the rules: [`MAX_ID_LEN`]).

use sha2::{Digest, Sha256};

/// The longest id kept as it is in a dedup key, in bytes. Every documented sender's ids are far
/// shorter (UUIDs, `evt_…`, `msg_…`).
///
/// The id rules, for every provider (the verifier and `Dedup` apply them, so a provider only says
/// where its id is):
/// - an empty id is no id: it falls back to the body digest `sha256:<hex>`, as a missing one does;
/// - an id a provider derives from several body fields ends with a digest of the
///   body, so two different deliveries that share those fields (two updates of one lead within
///   one second) never share an id;
/// - an id longer than this many bytes is hashed into the dedup key: some ids
///   come from unsigned headers, and a replayed delivery must not make the store keep 16 KiB keys.
pub const MAX_ID_LEN: usize = 256;

/// How many hex digits of the body's SHA-256 end a derived id: 128 bits, so distinct bodies never
/// meet by accident (and a signed body cannot be chosen by anyone without the secret).
#[cfg(any(feature = "pollybot", feature = "breakcold-legacy"))]
const DERIVED_DIGEST_HEX: usize = 32;

/// The fallback delivery id: `sha256:` and the lowercase hex SHA-256 of the body. A retry of the
/// same bytes gets the same id; it is authenticated because the body is.
pub(crate) fn body_digest_id(body: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body)))
}

/// An id derived from body fields (`parts`, already joined by `:`), then `:` and the first 32 hex
/// digits of the body's SHA-256. A retry resends the same bytes, so it gets the same id.
#[cfg(any(feature = "pollybot", feature = "breakcold-legacy"))]
pub(crate) fn derived_id(parts: std::fmt::Arguments<'_>, body: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(body));
    format!("{parts}:{}", &digest[..DERIVED_DIGEST_HEX])
}

/// `id` as it goes into a dedup key: itself up to [`MAX_ID_LEN`] bytes, otherwise
/// `sha256-id:<hex of its SHA-256>` (a prefix no sender's id or the body digest uses).
#[cfg(feature = "guard")]
pub(crate) fn key_part(id: &str) -> std::borrow::Cow<'_, str> {
    if id.len() <= MAX_ID_LEN {
        std::borrow::Cow::Borrowed(id)
    } else {
        std::borrow::Cow::Owned(format!("sha256-id:{}", hex::encode(Sha256::digest(id.as_bytes()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "pollybot")]
    fn derived_ids_end_with_a_digest_of_the_body() {
        let id = derived_id(format_args!("LEAD_UPDATED:lead_1:1763633730"), b"{}");
        assert_eq!(id, "LEAD_UPDATED:lead_1:1763633730:44136fa355b3678a1146ad16f7e8649e");
    }

    #[test]
    #[cfg(feature = "guard")]
    fn ids_up_to_the_bound_are_kept_and_longer_ones_hashed() {
        let edge = "a".repeat(MAX_ID_LEN);
        assert_eq!(key_part(&edge), edge);
        let long = "a".repeat(MAX_ID_LEN + 1);
        let hashed = key_part(&long);
        assert_eq!(hashed.len(), "sha256-id:".len() + 64);
        assert!(hashed.starts_with("sha256-id:"));
        assert_ne!(key_part(&"b".repeat(MAX_ID_LEN + 1)), hashed);
    }
}
