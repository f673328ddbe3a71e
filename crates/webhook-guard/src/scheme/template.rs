//! The layout of the bytes a sender signs.

use std::borrow::Cow;
use std::fmt;

use crate::error::ConfigError;

/// The bytes a signature covers, as a template: `{t}` is the timestamp exactly as sent, `{id}` the
/// delivery id header, `{body}` the raw body; everything else is literal. `"{t}.{body}"` is
/// Botdog's and Stripe's, `"v0:{t}:{body}"` Slack's, `"{id}.{t}.{body}"` Standard Webhooks'.
///
/// The engine feeds the parts to the MAC one after the other: the body is never copied into a
/// concatenated buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedContent {
    pub(crate) parts: Vec<Part>,
    /// Whether `parts` include [`Part::Timestamp`]: asked per layout per delivery, so found once.
    uses_timestamp: bool,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Literal(Cow<'static, [u8]>),
    Timestamp,
    Id,
    Body,
}

impl SignedContent {
    /// Parses a template such as `"{t}.{body}"`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidScheme`] when `{body}` does not appear exactly once, a placeholder is
    /// unknown or unclosed.
    pub fn parse(template: &str) -> Result<Self, ConfigError> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            literal.extend_from_slice(&rest.as_bytes()[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(ConfigError::InvalidScheme("unclosed `{` in signed content"))?;
            let part = match &after[..close] {
                "t" => Part::Timestamp,
                "id" => Part::Id,
                "body" => Part::Body,
                _ => {
                    return Err(ConfigError::InvalidScheme(
                        "unknown placeholder in signed content: use {t}, {id} or {body}",
                    ));
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(Cow::Owned(std::mem::take(&mut literal))));
            }
            parts.push(part);
            rest = &after[close + 1..];
        }
        literal.extend_from_slice(rest.as_bytes());
        if !literal.is_empty() {
            parts.push(Part::Literal(Cow::Owned(literal)));
        }
        if parts.iter().filter(|part| **part == Part::Body).count() != 1 {
            return Err(ConfigError::InvalidScheme("signed content must contain `{body}` exactly once"));
        }
        Ok(Self::new(parts, template.to_owned()))
    }

    /// A layout from fixed parts (presets).
    #[cfg(feature = "signed-preset")]
    pub(crate) fn from_parts(parts: &[Part]) -> Self {
        let source = parts
            .iter()
            .map(|part| match part {
                Part::Literal(bytes) => String::from_utf8_lossy(bytes.as_ref()).into_owned(),
                Part::Timestamp => "{t}".to_owned(),
                Part::Id => "{id}".to_owned(),
                Part::Body => "{body}".to_owned(),
            })
            .collect();
        Self::new(parts.to_vec(), source)
    }

    fn new(parts: Vec<Part>, source: String) -> Self {
        let uses_timestamp = parts.contains(&Part::Timestamp);
        Self { parts, uses_timestamp, source }
    }

    /// Whether the layout includes the timestamp.
    pub fn uses_timestamp(&self) -> bool {
        self.uses_timestamp
    }

    /// Whether the layout includes the id.
    pub fn uses_id(&self) -> bool {
        self.parts.contains(&Part::Id)
    }

    /// Calls `feed` with each chunk of the signed bytes in order.
    #[inline]
    pub(crate) fn feed(&self, timestamp: &[u8], id: &[u8], body: &[u8], mut feed: impl FnMut(&[u8])) {
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => feed(bytes.as_ref()),
                Part::Timestamp => feed(timestamp),
                Part::Id => feed(id),
                Part::Body => feed(body),
            }
        }
    }
}

impl fmt::Debug for SignedContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignedContent({:?})", self.source)
    }
}

impl fmt::Display for SignedContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(template: &str) -> Vec<Vec<u8>> {
        let content = SignedContent::parse(template).unwrap();
        let mut out = Vec::new();
        content.feed(b"123", b"msg_1", b"{}", |chunk| out.push(chunk.to_vec()));
        out
    }

    #[test]
    fn templates_feed_their_parts_in_order() {
        assert_eq!(chunks("{t}.{body}"), [&b"123"[..], b".", b"{}"]);
        assert_eq!(chunks("v0:{t}:{body}"), [&b"v0:"[..], b"123", b":", b"{}"]);
        assert_eq!(chunks("{id}.{t}.{body}"), [&b"msg_1"[..], b".", b"123", b".", b"{}"]);
        assert_eq!(chunks("{body}{t}"), [&b"{}"[..], b"123"]);
        assert_eq!(chunks("{body}"), [&b"{}"[..]]);
    }

    #[test]
    fn bad_templates_are_config_errors() {
        for bad in ["{t}.", "{body}{body}", "{t", "{nonce}{body}", ""] {
            assert!(SignedContent::parse(bad).is_err(), "{bad}");
        }
    }
}
