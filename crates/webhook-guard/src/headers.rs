//! Reading request headers without caring which HTTP library parsed them.
//!
//! [`HeaderSource`] is the one thing the core asks of a request besides its body: all values of a
//! header, by case-insensitive name, as raw bytes. It is implemented for `http::HeaderMap` (tower,
//! axum, hyper) and for slices of name/value pairs (tests, the CLI); the actix adapter implements it
//! for actix's map.

/// Gives access to a request's header values as raw bytes.
pub trait HeaderSource {
    /// Every value of the header `name` (ASCII case-insensitive), in the order received.
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]>;

    /// Every value of the header `name`, already parsed as an [`http::HeaderName`]: the same
    /// values as [`header_values`](Self::header_values) with `name.as_str()`, which is what this
    /// default does. The verifier parses each scheme header's name once, when the scheme is built,
    /// and reads the request through this method, so a source that indexes its headers by
    /// `HeaderName` can skip parsing the name per request; `http::HeaderMap` does (a lookup by
    /// `&str` lowercases, validates and classifies the name every time).
    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.header_values(name.as_str())
    }
}

impl<T> HeaderSource for http::HeaderMap<T>
where
    T: AsRef<[u8]>,
{
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        // `HeaderMap` lookups by `&str` are case-insensitive; an invalid name finds nothing.
        self.get_all(name).into_iter().map(AsRef::as_ref)
    }

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).into_iter().map(AsRef::as_ref)
    }
}

impl<N, V> HeaderSource for [(N, V)]
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.iter().filter(move |(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }
}

impl<N, V> HeaderSource for Vec<(N, V)>
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.as_slice().header_values(name)
    }
}

impl<N, V, const LEN: usize> HeaderSource for [(N, V); LEN]
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.as_slice().header_values(name)
    }
}

impl<H: HeaderSource + ?Sized> HeaderSource for &H {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        (**self).header_values(name)
    }

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        (**self).header_values_by_name(name)
    }
}

/// A header that appears with two different values (counting aliases such as `webhook-id` and
/// `svix-id` as one header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConflictingValues;

/// The one value of a header known under one or more names.
///
/// Repeated identical values (a proxy that duplicates a header) are one value; two different values
/// are a conflict, never "pick one": which copy a sender meant cannot be known, and picking lets an
/// attacker who can add headers choose.
pub(crate) fn single_value<'a, H>(headers: &'a H, names: &[&str]) -> Result<Option<&'a [u8]>, ConflictingValues>
where
    H: HeaderSource + ?Sized,
{
    one_value(names.iter().flat_map(|name| headers.header_values(name)))
}

/// [`single_value`] of one header whose name was parsed beforehand, read through
/// [`HeaderSource::header_values_by_name`].
pub(crate) fn single_value_by_name<'a, H>(
    headers: &'a H,
    name: &http::HeaderName,
) -> Result<Option<&'a [u8]>, ConflictingValues>
where
    H: HeaderSource + ?Sized,
{
    one_value(headers.header_values_by_name(name))
}

fn one_value<'a>(values: impl Iterator<Item = &'a [u8]>) -> Result<Option<&'a [u8]>, ConflictingValues> {
    let mut found: Option<&[u8]> = None;
    for value in values {
        let value = value.trim_ascii();
        match found {
            None => found = Some(value),
            Some(previous) if previous == value => {}
            Some(_) => return Err(ConflictingValues),
        }
    }
    Ok(found)
}

/// The value of a header as UTF-8 text, or `None` when absent, conflicting or not UTF-8.
/// For headers that are not signature material (ids, event names): a bad value is ignored.
/// Read by the presets whose event type travels in a header.
#[cfg(any(feature = "github", feature = "shopify"))]
pub(crate) fn text_value<'a, H>(headers: &'a H, name: &str) -> Option<&'a str>
where
    H: HeaderSource + ?Sized,
{
    single_value(headers, &[name])
        .ok()
        .flatten()
        .and_then(|value| std::str::from_utf8(value).ok())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_match_names_case_insensitively() {
        let headers = [("X-Webhook-Signature", "a"), ("other", "b")];
        assert_eq!(single_value(&headers[..], &["x-webhook-signature"]), Ok(Some(&b"a"[..])));
        assert_eq!(single_value(&headers[..], &["missing"]), Ok(None));
    }

    #[test]
    fn identical_repeats_are_one_value_and_different_ones_conflict() {
        let same = [("sig", "a"), ("SIG", "a")];
        assert_eq!(single_value(&same[..], &["sig"]), Ok(Some(&b"a"[..])));
        let different = [("sig", "a"), ("sig", "b")];
        assert_eq!(single_value(&different[..], &["sig"]), Err(ConflictingValues));
        let aliases = [("webhook-id", "a"), ("svix-id", "b")];
        assert_eq!(single_value(&aliases[..], &["webhook-id", "svix-id"]), Err(ConflictingValues));
    }

    #[test]
    fn header_map_lookups_ignore_case_and_keep_raw_bytes() {
        let mut map = http::HeaderMap::new();
        map.append("x-sig", http::HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert_eq!(single_value(&map, &["X-Sig"]), Ok(Some(&b"\xff\xfe"[..])));
        #[cfg(any(feature = "github", feature = "shopify"))]
        assert_eq!(text_value(&map, "X-Sig"), None);
    }

    #[test]
    fn lookups_by_parsed_name_find_what_lookups_by_text_find() {
        let name = http::HeaderName::from_static("x-sig");
        let mut map = http::HeaderMap::new();
        map.append("X-Sig", http::HeaderValue::from_static(" a "));
        map.append("x-sig", http::HeaderValue::from_static("a"));
        let pairs = [("X-SIG", "a"), ("other", "b")];
        // HeaderMap overrides the method, `&HeaderMap` forwards to it, pairs use the default.
        assert_eq!(single_value_by_name(&map, &name), Ok(Some(&b"a"[..])));
        assert_eq!(single_value_by_name(&&map, &name), Ok(Some(&b"a"[..])));
        assert_eq!(single_value_by_name(&pairs[..], &name), Ok(Some(&b"a"[..])));
        map.append("x-sig", http::HeaderValue::from_static("b"));
        assert_eq!(single_value_by_name(&map, &name), Err(ConflictingValues));
        assert_eq!(single_value_by_name(&map, &http::HeaderName::from_static("missing")), Ok(None));
    }
}
