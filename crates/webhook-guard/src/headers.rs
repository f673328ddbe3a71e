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

    /// Calls `found` with every value of every header named in `names`, and the position of its
    /// name in `names` (a header named twice in `names` is reported at each position). The order
    /// of the calls is not specified: the verifier keeps, per name, the one value or the fact
    /// that two differ, which does not depend on it.
    ///
    /// This default looks each name up in turn ([`header_values_by_name`](Self::header_values_by_name)).
    /// A source whose lookups cost more than a walk over all its headers can instead visit each
    /// header once: `http::HeaderMap` does (a scheme reads up to six names, Standard Webhooks'
    /// `webhook-*` and `svix-*`, and a lookup hashes the name each time), and so do slices of
    /// pairs (a lookup walks them all anyway).
    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        for_each_value_by_lookup(self, names, found);
    }
}

/// What [`HeaderSource::for_each_value_of`] does by default: each of `names` looked up in turn
/// ([`header_values_by_name`](HeaderSource::header_values_by_name)). For a source that overrides
/// it and falls back to lookups.
pub fn for_each_value_by_lookup<'a, H: HeaderSource + ?Sized>(
    headers: &'a H,
    names: &[http::HeaderName],
    mut found: impl FnMut(usize, &'a [u8]),
) {
    for (index, name) in names.iter().enumerate() {
        for value in headers.header_values_by_name(name) {
            found(index, value);
        }
    }
}

/// [`HeaderSource::for_each_value_of`] by one walk over `headers`' `(name, value)` pairs, for a
/// source whose names are lowercase, as `http::HeaderName`s are (`http::HeaderMap`, actix-web's
/// map), and that holds `distinct_names` different names: each pair's name compared with the
/// wanted names' texts instead of one lookup per wanted name. Past
/// [`HEADER_MAP_WALK_LIMIT`] distinct names, or more than [`NAMES_PER_WALK`] wanted, it looks them
/// up instead ([`for_each_value_by_lookup`]).
#[inline]
pub fn for_each_value_walked<'a, H: HeaderSource + ?Sized>(
    headers: &'a H,
    distinct_names: usize,
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    names: &[http::HeaderName],
    mut found: impl FnMut(usize, &'a [u8]),
) {
    let mut texts = [&[][..]; NAMES_PER_WALK];
    let Some(texts) = name_texts(names, &mut texts).filter(|_| distinct_names <= HEADER_MAP_WALK_LIMIT) else {
        return for_each_value_by_lookup(headers, names, found);
    };
    for (name, value) in pairs {
        for (index, wanted) in texts.iter().enumerate() {
            // Names of different lengths, most pairs, differ at the first test.
            if wanted.len() == name.len() && eq_bytes(name, wanted) {
                found(index, value);
            }
        }
    }
}

/// Above this many distinct header names, an `http::HeaderMap` (or actix-web's map) is read by one
/// lookup per wanted name rather than one walk over all its headers: past this size the walk costs more than the
/// lookups of a scheme's names (about 100 instructions per lookup and per header for each wanted
/// name, under callgrind). Ordinary requests carry ten to twenty headers.
pub const HEADER_MAP_WALK_LIMIT: usize = 32;

/// At most this many names are matched in one walk over a request's headers; more are looked up
/// one at a time. A scheme names one to six.
pub const NAMES_PER_WALK: usize = 8;

/// The texts of `names` (lowercase: `HeaderName`s are), taken once per walk rather than once per
/// header compared, written into `texts` (filled in place: returned, the array would be copied on
/// every request); `None` for more than [`NAMES_PER_WALK`] names.
#[inline]
fn name_texts<'n, 't>(
    names: &'n [http::HeaderName],
    texts: &'t mut [&'n [u8]; NAMES_PER_WALK],
) -> Option<&'t [&'n [u8]]> {
    let texts = texts.get_mut(..names.len())?;
    for (text, name) in texts.iter_mut().zip(names) {
        *text = name.as_str().as_bytes();
    }
    Some(texts)
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

    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        let pairs = self.iter().map(|(name, value)| (name.as_str().as_bytes(), value.as_ref()));
        for_each_value_walked(self, self.keys_len(), pairs, names, found);
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

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        let name = name.as_str().as_bytes();
        self.iter().filter(move |(n, _)| eq_to_lowercase(n.as_ref().as_bytes(), name)).map(|(_, v)| v.as_ref())
    }

    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], mut found: impl FnMut(usize, &'a [u8])) {
        let mut texts = [&[][..]; NAMES_PER_WALK];
        let Some(texts) = name_texts(names, &mut texts) else {
            return for_each_value_by_lookup(self, names, found);
        };
        for (name, value) in self {
            let name = name.as_ref().as_bytes();
            for (index, wanted) in texts.iter().enumerate() {
                if wanted.len() == name.len() && eq_to_lowercase(name, wanted) {
                    found(index, value.as_ref());
                }
            }
        }
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

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.as_slice().header_values_by_name(name)
    }

    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        self.as_slice().for_each_value_of(names, found);
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

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.as_slice().header_values_by_name(name)
    }

    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        self.as_slice().for_each_value_of(names, found);
    }
}

impl<H: HeaderSource + ?Sized> HeaderSource for &H {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        (**self).header_values(name)
    }

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        (**self).header_values_by_name(name)
    }

    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        (**self).for_each_value_of(names, found);
    }
}

/// `name.eq_ignore_ascii_case(lowercase)` when `lowercase` is ASCII without an upper-case letter
/// (a `HeaderName`'s text), eight bytes at a time: header names are compared on every lookup
/// through a slice of pairs, and the standard library compares byte by byte, folding both sides.
fn eq_to_lowercase(name: &[u8], lowercase: &[u8]) -> bool {
    if name.len() < 8 {
        return name.eq_ignore_ascii_case(lowercase);
    }
    let (Some(name_last), Some(lowercase_last)) = (name.last_chunk::<8>(), lowercase.last_chunk::<8>()) else {
        return false;
    };
    if name.len() != lowercase.len() {
        return false;
    }
    // Per word, the bits where `name` differs from `lowercase` may only be the case bit (0x20)
    // of lanes where `lowercase` holds a letter: there `name` holds the same letter in either
    // case. Any other difference (another bit, or the case bit of a digit or `-`) is a mismatch.
    let stray = |name: &[u8; 8], lowercase: &[u8; 8]| {
        let lowercase = u64::from_le_bytes(*lowercase);
        (u64::from_le_bytes(*name) ^ lowercase) & !lowercase_letter_lanes(lowercase)
    };
    let mut strays = stray(name_last, lowercase_last);
    for (name, lowercase) in name.as_chunks::<8>().0.iter().zip(lowercase.as_chunks::<8>().0) {
        strays |= stray(name, lowercase);
    }
    strays == 0
}

/// 0x20 in each lane of `word` (ASCII: every lane below 0x80) that holds `a`..=`z`, zero in the
/// others. SWAR: adding `0x80 - lo` to a lane below 0x80 sets its top bit exactly when the lane is
/// at least `lo`, and carries into no other lane.
fn lowercase_letter_lanes(word: u64) -> u64 {
    const fn lanes(byte: u8) -> u64 {
        u64::from_le_bytes([byte; 8])
    }
    let at_least_a = word + lanes(0x80 - b'a');
    let above_z = word + lanes(0x7f - b'z');
    ((at_least_a & !above_z) & lanes(0x80)) >> 2
}

/// `a == b` for header names, eight bytes at a time (`HeaderMap` names are lowercase already):
/// what a slice comparison does, without a call to `memcmp` for names of a few words. The whole
/// words, then the last eight bytes (overlapping the last whole word unless the length is a
/// multiple of eight); the differences are OR-ed together rather than tested word by word.
fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() < 8 {
        return a == b;
    }
    let (Some(a_last), Some(b_last)) = (a.last_chunk::<8>(), b.last_chunk::<8>()) else { return false };
    if a.len() != b.len() {
        return false;
    }
    let mut difference = u64::from_le_bytes(*a_last) ^ u64::from_le_bytes(*b_last);
    for (a, b) in a.as_chunks::<8>().0.iter().zip(b.as_chunks::<8>().0) {
        difference |= u64::from_le_bytes(*a) ^ u64::from_le_bytes(*b);
    }
    difference == 0
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

    /// One walk over a `HeaderMap` or a slice of pairs reports what a lookup per name finds: every
    /// value of a repeated header, a name wanted twice at both positions, names of every length
    /// (shorter than a word, exact words, one past), empty and non-ASCII values, and more names
    /// than one walk matches, or more headers than a map is walked for.
    #[test]
    #[cfg(feature = "testing")]
    fn one_walk_finds_what_lookups_find() {
        use crate::testing::{values_looked_up as looked_up, values_walked as visited};
        let name = |text: &str| http::HeaderName::from_bytes(text.as_bytes()).unwrap();
        let wanted: Vec<http::HeaderName> =
            ["webhook-id", "svix-id", "x-sig", "webhook-signature", "x-sig", "abcdefgh", "abcdefghi", "a"]
                .into_iter()
                .map(name)
                .collect();
        let pairs: Vec<(String, Vec<u8>)> = [
            ("Webhook-ID", &b"msg_1"[..]),
            ("x-sig", b" a "),
            ("X-SIG", b""),
            ("svix-id", b"\xff\xfe"),
            ("WEBHOOK-SIGNATURE", b"v1,x"),
            ("webhook-signaturf", b"near miss"),
            ("abcdefgh", b"8"),
            ("ABCDEFGHI", b"9"),
            ("abcdefgi", b"not 8"),
            ("A", b"1"),
            ("webhook-id", b"msg_2"),
            ("other", b"b"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_vec()))
        .collect();
        let mut map = http::HeaderMap::new();
        for (name, value) in &pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                http::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        for names in [&wanted[..], &wanted[..1], &wanted[3..4], &[]] {
            let expected = looked_up(&pairs[..], names);
            assert_eq!(visited(&pairs[..], names), expected, "{names:?}");
            assert_eq!(visited(&pairs, names), expected);
            assert_eq!(visited(&map, names), expected);
            assert_eq!(visited(&&map, names), expected);
            assert_eq!(looked_up(&map, names), expected);
        }
        let many: Vec<http::HeaderName> = wanted.iter().chain(&wanted[..2]).cloned().collect();
        assert!(many.len() > NAMES_PER_WALK);
        assert_eq!(visited(&pairs[..], &many), looked_up(&pairs[..], &many));
        assert_eq!(visited(&map, &many), looked_up(&pairs[..], &many));
        for extra in 0..=HEADER_MAP_WALK_LIMIT {
            map.append(name(&format!("x-filler-{extra}")), http::HeaderValue::from_static("f"));
        }
        assert!(map.keys_len() > HEADER_MAP_WALK_LIMIT);
        assert_eq!(visited(&map, &wanted), looked_up(&pairs[..], &wanted));
    }

    /// The word-at-a-time name comparisons against the standard library's, for every byte value
    /// in every position of names from one byte to three words long.
    #[test]
    fn name_comparisons_match_the_standard_library() {
        let base = b"x-webhook-signature-abcd";
        for len in 1..=base.len() {
            let lowercase = &base[..len];
            for at in 0..len {
                for value in 0..=255u8 {
                    let mut name = lowercase.to_vec();
                    name[at] = value;
                    assert_eq!(eq_to_lowercase(&name, lowercase), name.eq_ignore_ascii_case(lowercase), "{name:?}");
                    assert_eq!(eq_bytes(&name, lowercase), name == lowercase, "{name:?}");
                }
            }
            let upper = lowercase.to_ascii_uppercase();
            assert!(eq_to_lowercase(&upper, lowercase));
            assert!(!eq_to_lowercase(&upper[..len - 1], lowercase));
            assert!(!eq_bytes(&lowercase[..len - 1], lowercase));
        }
        for byte in 0..=127u8 {
            let lane = if byte.is_ascii_lowercase() { 0x20 } else { 0 };
            assert_eq!(lowercase_letter_lanes(u64::from_le_bytes([byte; 8])), u64::from_le_bytes([lane; 8]), "{byte}");
        }
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
