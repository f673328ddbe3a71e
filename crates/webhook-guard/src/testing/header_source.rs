//! Checking a [`HeaderSource`] that overrides
//! [`for_each_value_of`](HeaderSource::for_each_value_of): one walk over its headers must report
//! what a lookup per name finds. The core's own sources and webhook-guard-actix's are tested with
//! these; so can any other.

use crate::HeaderSource;

/// Every `(index of the name, value)` that `headers.for_each_value_of(names, …)` reports, sorted
/// (the order of a walk is not specified).
pub fn values_walked<H: HeaderSource + ?Sized>(headers: &H, names: &[http::HeaderName]) -> Vec<(usize, Vec<u8>)> {
    let mut seen = Vec::new();
    headers.for_each_value_of(names, |index, value| seen.push((index, value.to_vec())));
    seen.sort();
    seen
}

/// The same, found by looking each name up in turn (by its text): what
/// [`values_walked`] must equal.
pub fn values_looked_up<H: HeaderSource + ?Sized>(headers: &H, names: &[http::HeaderName]) -> Vec<(usize, Vec<u8>)> {
    let mut seen = Vec::new();
    for (index, name) in names.iter().enumerate() {
        seen.extend(headers.header_values(name.as_str()).map(|value| (index, value.to_vec())));
    }
    seen.sort();
    seen
}
