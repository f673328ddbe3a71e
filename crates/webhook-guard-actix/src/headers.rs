//! The core's [`HeaderSource`] for actix-web's header map (actix-web 4 has its own `HeaderMap`, not
//! the `http` crate's, so the core cannot implement it).

use std::cell::RefCell;

use actix_web::http::header::{HeaderMap, HeaderName as ActixHeaderName, HeaderValue};
use webhook_guard::{HeaderSource, for_each_value_walked};

/// How many names each thread keeps converted (see [`actix_name`]): the headers its verifiers
/// read, a handful per provider.
const CACHED_NAMES: usize = 32;

thread_local! {
    static ACTIX_NAMES: RefCell<Vec<(http::HeaderName, ActixHeaderName)>> = const { RefCell::new(Vec::new()) };
}

/// `name` (the `http` crate's, which the core's schemes parse their header names into once) as
/// actix-web's own `HeaderName` (from `http` 0.2), converted once per thread. A lookup by `&str`
/// parses the name on every call and allocates it when it is not a standard header (~850
/// instructions per lookup under callgrind); a lookup by actix's `HeaderName` is a hash lookup.
fn actix_name(name: &http::HeaderName) -> Option<ActixHeaderName> {
    ACTIX_NAMES.with_borrow_mut(|names| {
        if let Some((_, converted)) = names.iter().find(|(known, _)| known == name) {
            return Some(converted.clone());
        }
        // A valid `http` name is a valid actix one: both crates accept the same lowercase tokens.
        let converted = ActixHeaderName::from_bytes(name.as_str().as_bytes()).ok()?;
        if names.len() < CACHED_NAMES {
            names.push((name.clone(), converted.clone()));
        }
        Some(converted)
    })
}

/// An actix-web request's headers, as the core reads them:
/// `verifier.verify(&ActixHeaders(request.headers()), body)`.
#[derive(Debug, Clone, Copy)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl HeaderSource for ActixHeaders<'_> {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        // Lookups by `&str` are case-insensitive (the name is lowercased); an invalid name finds
        // nothing.
        self.0.get_all(name).map(HeaderValue::as_bytes)
    }

    fn header_values_by_name<'a>(&'a self, name: &http::HeaderName) -> impl Iterator<Item = &'a [u8]> {
        let values = match actix_name(name) {
            Some(name) => self.0.get_all(&name),
            None => [].iter(),
        };
        values.map(HeaderValue::as_bytes)
    }

    /// One walk over the request's headers, each name compared with the wanted ones' texts,
    /// instead of one lookup per wanted name (each a hash of the name, after a visit to the
    /// thread's name cache), with the core's limits ([`for_each_value_walked`]): a scheme reads up
    /// to six names (Standard Webhooks' `webhook-*` and `svix-*`). Both crates' names are
    /// lowercase, so equal names have equal texts.
    fn for_each_value_of<'a>(&'a self, names: &[http::HeaderName], found: impl FnMut(usize, &'a [u8])) {
        let pairs = self.0.iter().map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()));
        for_each_value_walked(self, self.0.len_keys(), pairs, names, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;
    use webhook_guard::testing::{values_looked_up as looked_up, values_walked as visited};

    #[test]
    fn lookups_ignore_case_and_keep_every_value_in_order() {
        let mut map = HeaderMap::new();
        let name = HeaderName::from_static("x-webhook-signature");
        map.append(name.clone(), HeaderValue::from_static("a"));
        map.append(name, HeaderValue::from_bytes(b"\xff").unwrap());
        let headers = ActixHeaders(&map);
        let values: Vec<&[u8]> = headers.header_values("X-Webhook-Signature").collect();
        assert_eq!(values, [&b"a"[..], &b"\xff"[..]]);
        assert_eq!(headers.header_values("missing").count(), 0);
        assert_eq!(headers.header_values("not a name").count(), 0);
    }

    /// By parsed name (what the verifier uses): the same values as by `&str`, for standard and
    /// custom names, whatever case they were sent in, and the same again once the name is cached.
    #[test]
    fn lookups_by_parsed_name_find_what_lookups_by_text_find() {
        let mut map = HeaderMap::new();
        map.append(HeaderName::from_static("x-webhook-signature"), HeaderValue::from_static("t=1,s=ab"));
        map.append(HeaderName::from_static("x-webhook-signature"), HeaderValue::from_static("t=2,s=cd"));
        map.append(HeaderName::from_bytes(b"Content-Length").unwrap(), HeaderValue::from_static("12"));
        let headers = ActixHeaders(&map);
        for name in ["x-webhook-signature", "content-length", "webhook-id", "expect"] {
            let parsed = http::HeaderName::from_static(name);
            let by_text: Vec<&[u8]> = headers.header_values(name).collect();
            for _ in 0..2 {
                let by_name: Vec<&[u8]> = headers.header_values_by_name(&parsed).collect();
                assert_eq!(by_name, by_text, "{name}");
            }
        }
        let values: Vec<&[u8]> = headers.header_values_by_name(&http::header::CONTENT_LENGTH).collect();
        assert_eq!(values, [&b"12"[..]]);
        assert_eq!(headers.header_values_by_name(&http::HeaderName::from_static("x-webhook-signature")).count(), 2);
    }

    /// The walk finds what a lookup per name finds: repeated headers, names sent in any case, a
    /// name wanted twice, standard and custom names, near misses, more names than one walk
    /// matches, and more headers than a map is walked for.
    #[test]
    fn one_walk_finds_what_lookups_find() {
        let wanted: Vec<http::HeaderName> = [
            "webhook-id",
            "svix-id",
            "webhook-signature",
            "content-type",
            "webhook-id",
            "x-sig",
            "a",
            "webhook-timestamp",
        ]
        .into_iter()
        .map(http::HeaderName::from_static)
        .collect();
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("Webhook-ID", &b"msg_1"[..]),
            ("webhook-id", b"msg_2"),
            ("SVIX-ID", b"\xff\xfe"),
            ("Content-Type", b"application/json"),
            ("webhook-signaturf", b"near miss"),
            ("webhook-signature", b"v1,a v1,b"),
            ("x-sig", b" padded "),
            ("A", b""),
            ("other", b"x"),
        ] {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_bytes(value).unwrap());
        }
        for names in [&wanted[..], &wanted[..1], &wanted[2..4], &[]] {
            let headers = ActixHeaders(&map);
            assert_eq!(visited(&headers, names), looked_up(&headers, names), "{names:?}");
        }
        assert!(!visited(&ActixHeaders(&map), &wanted).is_empty());
        let many: Vec<http::HeaderName> = wanted.iter().chain(&wanted[..2]).cloned().collect();
        assert!(many.len() > webhook_guard::NAMES_PER_WALK);
        assert_eq!(visited(&ActixHeaders(&map), &many), looked_up(&ActixHeaders(&map), &many));
        for extra in 0..=webhook_guard::HEADER_MAP_WALK_LIMIT {
            map.append(
                HeaderName::from_bytes(format!("x-filler-{extra}").as_bytes()).unwrap(),
                HeaderValue::from_static("f"),
            );
        }
        assert!(map.len_keys() > webhook_guard::HEADER_MAP_WALK_LIMIT);
        assert_eq!(visited(&ActixHeaders(&map), &wanted), looked_up(&ActixHeaders(&map), &wanted));
    }

    /// Past the cache's size, names are still found (converted per call).
    #[test]
    fn names_past_the_cache_are_still_found() {
        let mut map = HeaderMap::new();
        let names: Vec<String> = (0..CACHED_NAMES + 8).map(|n| format!("x-header-{n}")).collect();
        for name in &names {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(name).unwrap());
        }
        let headers = ActixHeaders(&map);
        for name in &names {
            let parsed = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            let values: Vec<&[u8]> = headers.header_values_by_name(&parsed).collect();
            assert_eq!(values, [name.as_bytes()]);
        }
    }
}
