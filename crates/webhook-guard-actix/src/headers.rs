//! The core's [`HeaderSource`] for actix-web's header map (actix-web 4 has its own `HeaderMap`, not
//! the `http` crate's, so the core cannot implement it).

use actix_web::http::header::{HeaderMap, HeaderValue};
use webhook_guard::HeaderSource;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

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
}
