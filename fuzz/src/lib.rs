//! Shared pieces of webhook-guard's fuzz targets: the input layouts ([`input`]), the fixed
//! keyrings and verifiers ([`keyrings`]), an independent reference verifier for the differential
//! checks ([`reference`]), and the properties every target asserts ([`check`]).

#![forbid(unsafe_code)]

pub mod check;
pub mod input;
pub mod keyrings;
pub mod reference;

use input::{Delivery, FLAG_EXPLAIN, FLAG_HEADER_MAP, SignatureInput};

/// A per-format target: `data` is a [`SignatureInput`] whose value goes into each header of
/// `signature_headers`, beside fixed `companions` (see [`Companion`]); every verifier of `cases`
/// checks the request.
pub fn signature_target(data: &[u8], cases: &[&str], signature_headers: &[&'static str], companions: &[Companion]) {
    let input = SignatureInput::decode(data);
    keyrings::set_now(input.now);
    let at = keyrings::SIGNED_AT.to_string();
    let mut pairs: Vec<(&str, &[u8])> = companions
        .iter()
        .map(|companion| match companion {
            Companion::Timestamp(name) => (*name, at.as_bytes()),
            Companion::Id(name) => (*name, keyrings::SIGNED_ID.as_bytes()),
        })
        .collect();
    pairs.extend(signature_headers.iter().map(|name| (*name, &input.value[..])));
    for case in cases {
        check::verification(case, &pairs[..], &pairs, &input.body, false);
    }
}

/// A header a per-format target sends beside the fuzzed signature header.
#[derive(Debug, Clone, Copy)]
pub enum Companion {
    /// This header holds [`keyrings::SIGNED_AT`].
    Timestamp(&'static str),
    /// This header holds [`keyrings::SIGNED_ID`].
    Id(&'static str),
}

/// The `verify_any` target: `data` is a [`Delivery`], checked by the verifier of every case.
pub fn delivery_target(data: &[u8]) {
    let delivery = Delivery::decode(data);
    keyrings::set_now(delivery.now);
    // `explain` is slow (it retries other layouts and re-serialized bodies): run it for one case,
    // picked by the flags' upper bits.
    let explained =
        (delivery.flags & FLAG_EXPLAIN != 0).then(|| usize::from(delivery.flags >> 2) % keyrings::CASES.len());
    let explain = |index: usize| explained == Some(index);
    if delivery.flags & FLAG_HEADER_MAP != 0 {
        // What a server hands over: names lowercased, values http accepts (no CR, LF, NUL, …).
        let mut map = http::HeaderMap::new();
        let mut pairs: Vec<(&str, &[u8])> = Vec::new();
        for (name, value) in &delivery.headers {
            let (Ok(header), Ok(header_value)) =
                (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value))
            else {
                continue;
            };
            map.append(header, header_value);
            pairs.push((name, value));
        }
        for (index, case) in keyrings::CASES.iter().enumerate() {
            check::verification(case, &map, &pairs, &delivery.body, explain(index));
        }
    } else {
        let pairs: Vec<(&str, &[u8])> = delivery.headers.iter().map(|(name, value)| (*name, &value[..])).collect();
        for (index, case) in keyrings::CASES.iter().enumerate() {
            check::verification(case, &pairs[..], &pairs, &delivery.body, explain(index));
        }
    }
}
