//! What a verification produces: [`Verified`] (signature checked) and [`Delivery`] (checked and
//! parsed).

use std::fmt;

use bytes::Bytes;
use time::OffsetDateTime;

use crate::event::Event;

/// Proof that a delivery's signature matched: the result of
/// [`Verifier::verify_signature`](crate::Verifier::verify_signature), which does not parse the body.
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    pub(crate) provider: &'static str,
    pub(crate) timestamp: Option<i64>,
    pub(crate) signed_id: Option<HeaderId>,
    pub(crate) unsigned_id: Option<HeaderId>,
    pub(crate) key_index: usize,
    pub(crate) timestamp_bound: bool,
    pub(crate) event_type_authenticated: bool,
}

impl Verified {
    /// The sender's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The signed timestamp, when the scheme carries one. It was within the tolerance.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.timestamp.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
    }

    /// The signed timestamp in seconds since 1970.
    pub fn timestamp_unix(&self) -> Option<i64> {
        self.timestamp
    }

    /// The id header that was part of the signed bytes (Standard Webhooks' `webhook-id`).
    pub fn signed_id(&self) -> Option<&str> {
        self.signed_id.as_ref().map(HeaderId::as_str)
    }

    /// The delivery id found in the headers without parsing the body: the signed id, else the
    /// first of the provider's unsigned id headers present
    /// ([`Provider::unsigned_id_headers`](crate::Provider::unsigned_id_headers)).
    pub fn header_id(&self) -> Option<&str> {
        self.header_id_text().map(HeaderId::as_str)
    }

    /// Whether [`header_id`](Self::header_id) is present and not empty, without turning it into
    /// a `str` (a UTF-8 check of an inline id): what [`Verifier::verify`](crate::Verifier::verify)
    /// asks of every delivery.
    #[inline]
    pub(crate) fn has_header_id(&self) -> bool {
        self.header_id_text().is_some_and(|id| !id.is_empty())
    }

    #[inline]
    fn header_id_text(&self) -> Option<&HeaderId> {
        self.signed_id.as_ref().or(self.unsigned_id.as_ref())
    }

    /// The position in the keyring (from 0) of the key that matched: useful to see when the old
    /// secret of a rotation stops being used.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// Whether the matching signature covered the timestamp. `false` means the delivery has no
    /// replay protection (Pollybot's body-only reading, GitHub, Shopify, secret-in-body).
    pub fn timestamp_bound(&self) -> bool {
        self.timestamp_bound
    }

    /// Whether the event type, once parsed, comes from bytes the signature covers.
    ///
    /// `false` when the provider reads it from a header the sender does not sign
    /// ([`Provider::event_type_header`](crate::Provider::event_type_header): GitHub's
    /// `X-GitHub-Event`, Shopify's `X-Shopify-Topic`), so that a captured body re-sent under
    /// another type verifies as that type; and for secret-in-body (Breakcold legacy), where
    /// anyone who saw one delivery can change any part of the body. `true` for every other
    /// preset, whose type is a field of the signed body, and for a [`crate::providers::Custom`] sender
    /// with a signed scheme.
    pub fn event_type_authenticated(&self) -> bool {
        self.event_type_authenticated
    }
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("provider", &self.provider)
            .field("timestamp", &self.timestamp)
            .field("signed_id", &self.signed_id())
            .field("unsigned_id", &self.unsigned_id.as_ref().map(HeaderId::as_str))
            .field("key_index", &self.key_index)
            .field("timestamp_bound", &self.timestamp_bound)
            .field("event_type_authenticated", &self.event_type_authenticated)
            .finish()
    }
}

/// The longest id header value [`HeaderId`] keeps inline: 40 bytes, so that the type is 48
/// bytes. Svix's `webhook-id`s (`msg_` and a 27-character KSUID, 31 bytes), UUIDs (36, GitHub's
/// `X-GitHub-Delivery`) and ULIDs with a short prefix fit.
const INLINE_ID_LEN: usize = 40;

/// An id read from a header (Standard Webhooks' signed `webhook-id`, an unsigned id header),
/// kept by [`Verified`] beyond the request's headers: inline up to [`INLINE_ID_LEN`] bytes, so that
/// a verification allocates nothing for it (a `String` was one allocation and one free per
/// delivery), on the heap beyond.
#[derive(Clone)]
pub(crate) enum HeaderId {
    /// `bytes.0[..len]` is the id's UTF-8 text; the rest is zero.
    Inline {
        len: u8,
        bytes: InlineBytes,
    },
    Heap(Box<str>),
}

/// An inline id's bytes, aligned to a word: [`HeaderId::as_str`] checks them as UTF-8, and the
/// standard library's check takes an ASCII text a word pair at a time only from an aligned
/// address (unaligned, it goes byte by byte to the first word boundary).
#[derive(Clone)]
#[repr(align(8))]
pub(crate) struct InlineBytes([u8; INLINE_ID_LEN]);

impl HeaderId {
    #[inline]
    pub(crate) fn new(id: &str) -> Self {
        let mut bytes = [0; INLINE_ID_LEN];
        match (bytes.get_mut(..id.len()), u8::try_from(id.len())) {
            (Some(inline), Ok(len)) => {
                inline.copy_from_slice(id.as_bytes());
                Self::Inline { len, bytes: InlineBytes(bytes) }
            }
            _ => Self::Heap(id.into()),
        }
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Copied whole from a `&str` (`new`), so the text is UTF-8 and the fallback is never
            // taken; without `unsafe` (forbidden in this crate) the check is what turns the
            // bytes back into a `str`.
            // The whole buffer is checked, not the id alone: the zeros after it are ASCII, and
            // the standard library's check takes 40 aligned bytes as two word pairs and eight
            // bytes, where a 31-byte id was one word pair and fifteen bytes one at a time.
            Self::Inline { len, bytes } => {
                std::str::from_utf8(&bytes.0).ok().and_then(|text| text.get(..usize::from(*len))).unwrap_or_default()
            }
            Self::Heap(id) => id,
        }
    }

    /// `as_str().is_empty()`, without the UTF-8 check.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Inline { len, .. } => *len == 0,
            Self::Heap(id) => id.is_empty(),
        }
    }
}

impl PartialEq for HeaderId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for HeaderId {}

impl fmt::Debug for HeaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A verified, parsed delivery: who sent it, its id for deduplication, the typed event and the
/// exact bytes received.
#[derive(Clone)]
pub struct Delivery<E>(pub(crate) Box<DeliveryFields<E>>);

/// What a [`Delivery`] holds, in one allocation. A delivery is moved many times on its way to the
/// handler (out of the verifier, into the guard's answer, through the request's extensions, into
/// the extractor and the handler's future); held inline, its 600-odd bytes were copied each time
/// (memcpy from 16 places per request in the axum receiver, under callgrind), behind a pointer it
/// moves as 8.
#[derive(Clone)]
pub(crate) struct DeliveryFields<E> {
    pub(crate) id: DeliveryId<E>,
    pub(crate) verified: Verified,
    pub(crate) event: E,
    pub(crate) body: Bytes,
}

/// Where a [`Delivery`]'s id is: most senders' ids are already in the event or the verified
/// headers, and reading them there saves a copy (an allocation) per delivery.
#[derive(Clone)]
pub(crate) enum DeliveryId<E> {
    /// Derived, or the body digest.
    Own(String),
    /// What this reads from the event ([`Provider::delivery_id_in_event`]), which
    /// [`Verifier::verify`](crate::Verifier::verify) found present and not empty.
    ///
    /// [`Provider::delivery_id_in_event`]: crate::Provider::delivery_id_in_event
    InEvent(fn(&E) -> Option<&str>),
    /// [`Verified::header_id`], which [`Verifier::verify`](crate::Verifier::verify) found present
    /// and not empty.
    InHeaders,
}

impl<E: Event> Delivery<E> {
    /// The sender's name (`botdog`, `standard`, …).
    pub fn provider(&self) -> &'static str {
        self.0.verified.provider
    }

    /// The id to deduplicate on: the sender's delivery id where it has one (see each provider's
    /// docs), otherwise `sha256:<hex>` of the body.
    pub fn id(&self) -> &str {
        // The event and the headers cannot change inside a `Delivery`, so what `verify` found
        // there is still there: the empty fallbacks are never taken.
        match &self.0.id {
            DeliveryId::Own(id) => id,
            DeliveryId::InEvent(read) => read(&self.0.event).unwrap_or_default(),
            DeliveryId::InHeaders => self.0.verified.header_id().unwrap_or_default(),
        }
    }

    /// The event's type name as sent.
    ///
    /// Not always authenticated: GitHub (`X-GitHub-Event`) and Shopify (`X-Shopify-Topic`) name
    /// the type in a header their signature does not cover, so a captured `orders/create` body
    /// re-sent with `X-Shopify-Topic: orders/paid` verifies as `orders/paid`. Check
    /// [`event_type_authenticated`](Delivery::event_type_authenticated) and, where it is `false`
    /// and a re-labelled delivery would do harm, that the body fits the type you act on.
    pub fn event_type(&self) -> &str {
        self.0.event.event_type()
    }

    /// Whether [`event_type`](Delivery::event_type) comes from bytes the signature covers; see
    /// [`Verified::event_type_authenticated`].
    pub fn event_type_authenticated(&self) -> bool {
        self.0.verified.event_type_authenticated
    }

    /// The signed timestamp, when the scheme carries one.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.0.verified.timestamp()
    }

    /// The typed event.
    pub fn event(&self) -> &E {
        &self.0.event
    }

    /// The typed event, by value.
    pub fn into_event(self) -> E {
        self.0.event
    }

    /// The body exactly as received.
    pub fn body(&self) -> &Bytes {
        &self.0.body
    }

    /// What the signature check established.
    pub fn verified(&self) -> &Verified {
        &self.0.verified
    }

    /// Splits into the event and the raw body.
    pub fn into_parts(self) -> (E, Bytes) {
        let DeliveryFields { event, body, .. } = *self.0;
        (event, body)
    }
}

impl<E: Event> fmt::Debug for Delivery<E> {
    /// Shows the envelope only: the event and body hold the sender's (often personal) data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("provider", &self.0.verified.provider)
            .field("id", &self.id())
            .field("event_type", &self.0.event.event_type())
            .field("timestamp", &self.0.verified.timestamp)
            .field("body_len", &self.0.body.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline or not, an id reads back as the text it was made from, compares as that text and
    /// shows as it: every length around the inline limit, in one-, two- and four-byte characters
    /// (a character that would straddle the limit goes to the heap whole).
    #[test]
    fn header_ids_read_back_as_their_text() {
        for unit in ["a", "é", "😀"] {
            for count in 0..=INLINE_ID_LEN + 2 {
                let text = unit.repeat(count);
                let id = HeaderId::new(&text);
                assert_eq!(id.as_str(), text);
                assert_eq!(matches!(id, HeaderId::Inline { .. }), text.len() <= INLINE_ID_LEN, "{text}");
                assert_eq!(id, HeaderId::new(&text));
                assert_eq!(id.clone().as_str(), text);
                assert_ne!(id, HeaderId::new(&format!("{text}x")));
                assert_eq!(format!("{id:?}"), format!("{text:?}"));
                assert_eq!(id.is_empty(), text.is_empty());
            }
        }
        let verified = |signed: Option<&str>, unsigned: Option<&str>| Verified {
            provider: "p",
            timestamp: None,
            signed_id: signed.map(HeaderId::new),
            unsigned_id: unsigned.map(HeaderId::new),
            key_index: 0,
            timestamp_bound: false,
            event_type_authenticated: false,
        };
        let long = "m".repeat(300);
        assert_eq!(verified(Some(&long), Some("u")).header_id(), Some(&long[..]));
        assert_eq!(verified(None, Some("u")).header_id(), Some("u"));
        assert_eq!(verified(None, Some("u")).signed_id(), None);
        for (signed, unsigned) in
            [(None, None), (Some(""), None), (Some(""), Some("u")), (None, Some("u")), (Some("s"), None)]
        {
            let verified = verified(signed, unsigned);
            assert_eq!(verified.has_header_id(), verified.header_id().is_some_and(|id| !id.is_empty()));
        }
        assert_eq!(
            format!("{:?}", verified(Some("msg_1"), None)),
            r#"Verified { provider: "p", timestamp: None, signed_id: Some("msg_1"), unsigned_id: None, key_index: 0, timestamp_bound: false, event_type_authenticated: false }"#
        );
    }
}
