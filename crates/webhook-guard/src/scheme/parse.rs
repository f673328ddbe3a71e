//! Parsing signature material out of header bytes.
//!
//! Works on raw bytes (a header may hold anything a client sends) and never panics. Every
//! signature entry is decoded into a fixed-size array before anything is compared: an entry that
//! does not decode to exactly 32 (HMAC-SHA256) or 64 (Ed25519) bytes cannot match and is only
//! counted, so no comparison ever runs on a shorter prefix.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{Encoding, SignatureFormat};

/// At most this many entries are read from one signature header. Rotation needs two or three;
/// the bound keeps the work per request small whatever a client sends.
pub(crate) const MAX_ENTRIES: usize = 64;

/// The signature material of one header.
#[derive(Debug, Default)]
pub(crate) struct Provided<'a> {
    /// Decoded HMAC-SHA256 signatures.
    pub(crate) hmac: Decoded<32, 2>,
    /// Decoded Ed25519 signatures (Standard Webhooks `v1a` only, so none inline: the material of
    /// every other delivery stays small).
    pub(crate) ed25519: Decoded<64, 0>,
    /// Entries of a supported kind that did not decode to the right length.
    pub(crate) undecodable: usize,
    /// The timestamp, when the format carries it (`t=`).
    pub(crate) timestamp: Option<&'a [u8]>,
}

/// Decoded signatures of one kind: the first `INLINE` (one, or two during a rotation, is what
/// senders send) kept inline so that a delivery costs no allocation; any more in a `Vec`, up to
/// [`MAX_ENTRIES`].
#[derive(Debug)]
pub(crate) struct Decoded<const LEN: usize, const INLINE: usize> {
    inline: [[u8; LEN]; INLINE],
    len: usize,
    spilled: Vec<[u8; LEN]>,
}

impl<const LEN: usize, const INLINE: usize> Default for Decoded<LEN, INLINE> {
    fn default() -> Self {
        Self { inline: [[0; LEN]; INLINE], len: 0, spilled: Vec::new() }
    }
}

#[cfg(test)]
impl<const LEN: usize, const INLINE: usize> PartialEq<Vec<[u8; LEN]>> for Decoded<LEN, INLINE> {
    fn eq(&self, other: &Vec<[u8; LEN]>) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<const LEN: usize, const INLINE: usize> Decoded<LEN, INLINE> {
    pub(crate) fn push(&mut self, signature: [u8; LEN]) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = signature,
            None => self.spilled.push(signature),
        }
        self.len += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8; LEN]> {
        self.inline.iter().take(self.len).chain(&self.spilled)
    }
}

/// Why a signature header could not be parsed. The messages name the structure, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    MissingPrefix,
    PartWithoutEquals,
    NoSignature,
    NoTimestamp,
    ConflictingTimestamps,
    TooManyEntries,
}

impl HeaderProblem {
    pub(crate) fn describe(self, format: &SignatureFormat) -> String {
        match (self, format) {
            (Self::MissingPrefix, SignatureFormat::Single { prefix }) => {
                format!("does not start with `{prefix}`")
            }
            (Self::NoSignature, SignatureFormat::KeyValue { signature_key, .. }) => {
                format!("has no `{signature_key}=` signature")
            }
            (Self::NoSignature, SignatureFormat::Versioned { hmac_version, .. }) => {
                format!("has no `{hmac_version},` signature entry")
            }
            (Self::NoTimestamp, SignatureFormat::KeyValue { timestamp_key: Some(key), .. }) => {
                format!("has no `{key}=` timestamp")
            }
            (Self::ConflictingTimestamps, _) => "has two different timestamps".to_owned(),
            (Self::PartWithoutEquals, _) => "has a part without `=`".to_owned(),
            (Self::TooManyEntries, _) => format!("has more than {MAX_ENTRIES} entries"),
            _ => "is malformed".to_owned(),
        }
    }
}

/// Parses one signature header value.
pub(crate) fn parse_signature<'a>(
    value: &'a [u8],
    format: &SignatureFormat,
    encoding: Encoding,
) -> Result<Provided<'a>, HeaderProblem> {
    let mut provided = Provided::default();
    match format {
        SignatureFormat::Single { prefix } => {
            let encoded = value.strip_prefix(prefix.as_bytes()).ok_or(HeaderProblem::MissingPrefix)?;
            push_hmac(&mut provided, encoded, encoding);
        }
        SignatureFormat::KeyValue { signature_key, timestamp_key } => {
            let mut entries = 0;
            let mut signatures = 0;
            for part in value.split(|byte| *byte == b',').map(<[u8]>::trim_ascii) {
                if part.is_empty() {
                    continue;
                }
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Err(HeaderProblem::TooManyEntries);
                }
                let (key, entry) = split_once(part, b'=').ok_or(HeaderProblem::PartWithoutEquals)?;
                if key == signature_key.as_bytes() {
                    signatures += 1;
                    push_hmac(&mut provided, entry, encoding);
                } else if timestamp_key.as_ref().is_some_and(|t| key == t.as_bytes()) {
                    match provided.timestamp {
                        Some(previous) if previous != entry => return Err(HeaderProblem::ConflictingTimestamps),
                        _ => provided.timestamp = Some(entry),
                    }
                }
                // Other keys (Stripe's `v0=` test-mode signatures, future versions) are ignored.
            }
            if signatures == 0 {
                return Err(HeaderProblem::NoSignature);
            }
            if timestamp_key.is_some() && provided.timestamp.is_none() {
                return Err(HeaderProblem::NoTimestamp);
            }
        }
        SignatureFormat::Versioned { hmac_version, ed25519_version } => {
            let mut entries = 0;
            let mut supported = 0;
            for entry in value.split(u8::is_ascii_whitespace).filter(|entry| !entry.is_empty()) {
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Err(HeaderProblem::TooManyEntries);
                }
                // Standard Webhooks: `<version>,<signature>`; unknown versions are ignored.
                let Some((version, signature)) = split_once(entry, b',') else { continue };
                if version == hmac_version.as_bytes() {
                    supported += 1;
                    push_hmac(&mut provided, signature, Encoding::Base64);
                } else if ed25519_version.as_ref().is_some_and(|v| version == v.as_bytes()) {
                    supported += 1;
                    match decode::<64>(signature, Encoding::Base64) {
                        Some(decoded) => provided.ed25519.push(decoded),
                        None => provided.undecodable += 1,
                    }
                }
            }
            if supported == 0 {
                return Err(HeaderProblem::NoSignature);
            }
        }
    }
    Ok(provided)
}

fn push_hmac(provided: &mut Provided<'_>, encoded: &[u8], encoding: Encoding) {
    match decode::<32>(encoded, encoding) {
        Some(decoded) => provided.hmac.push(decoded),
        None => provided.undecodable += 1,
    }
}

/// Hex (either case) of exactly `out.len()` bytes, eight digits at a time in one `u64`
/// ([`decode_hex_word`]); a tail shorter than eight digits by table. No branch on the digits'
/// values: what the `hex` crate does per character, without its per-call error machinery (this
/// runs once per signature per delivery).
fn decode_hex(encoded: &[u8], out: &mut [u8]) -> Option<()> {
    if encoded.len() != out.len() * 2 {
        return None;
    }
    let mut invalid = 0u64;
    let (words, tail) = encoded.as_chunks::<8>();
    let mut out_words = out.chunks_exact_mut(4);
    for (word, four) in words.iter().zip(&mut out_words) {
        let (bytes, word_invalid) = decode_hex_word(u64::from_le_bytes(*word));
        four.copy_from_slice(&bytes);
        invalid |= word_invalid;
    }
    for (byte, pair) in out_words.into_remainder().iter_mut().zip(tail.chunks_exact(2)) {
        let (high, low) = (HEX_DIGITS[usize::from(pair[0])], HEX_DIGITS[usize::from(pair[1])]);
        invalid |= u64::from((high | low) & 0x80);
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid == 0).then_some(())
}

/// `0x0101…01` times `byte`: `byte` in each of a word's eight lanes.
const fn lanes(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// Eight hex digits (the word's bytes, first digit lowest) as four bytes, plus a nonzero flag when
/// any of them is not a hex digit. SWAR: each byte is a lane; every step below keeps each lane
/// under 0x100 so no carry crosses into the next.
fn decode_hex_word(word: u64) -> ([u8; 4], u64) {
    // A byte of 0x80 or more is not a digit; below it, adding (0x80 - lo) sets a lane's top bit
    // exactly when the lane is at least `lo`.
    let high_bit = lanes(0x80);
    let ascii = word & !high_bit;
    let at_least = |lo: u8| (ascii + lanes(0x80 - lo)) & high_bit;
    let above = |hi: u8| (ascii + lanes(0x7f - hi)) & high_bit;
    let digit = at_least(b'0') & !above(b'9');
    // `| 0x20` maps `A`..`F` onto `a`..`f` and nothing else onto them.
    let folded = ascii | lanes(0x20);
    let letter = ((folded + lanes(0x80 - b'a')) & !(folded + lanes(0x7f - b'f'))) & high_bit;
    let invalid = (word & high_bit) | (!(digit | letter) & high_bit);
    // A digit's value is its low nibble; a letter's (bit 6 set) is its low nibble plus 9.
    let nibbles = (word & lanes(0x0f)) + ((word >> 6) & lanes(0x01)) * 9;
    // Lane 2k gets (first digit << 4) | second digit; odd lanes hold leftovers, dropped below.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let packed = (pairs | (pairs >> 16)) & 0xffff_ffff;
    let [a, b, c, d, ..] = packed.to_le_bytes();
    ([a, b, c, d], invalid)
}

/// The value of each byte as a hex digit, or 0x80 for bytes that are not one.
const HEX_DIGITS: [u8; 256] = {
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn split_once(bytes: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|byte| *byte == separator)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

/// Decodes exactly `LEN` bytes, or nothing.
pub(crate) fn decode<const LEN: usize>(encoded: &[u8], encoding: Encoding) -> Option<[u8; LEN]> {
    let mut out = [0u8; LEN];
    match encoding {
        Encoding::Hex => decode_hex(encoded, &mut out)?,
        Encoding::Base64 => {
            // Exactly the padded length of LEN bytes, so the decoder can never write past `out`
            // and a shorter or longer signature is refused before decoding.
            if encoded.len() != LEN.div_ceil(3) * 4 {
                return None;
            }
            let mut buffer = [0u8; 66];
            let written = STANDARD.decode_slice(encoded, &mut buffer[..]).ok()?;
            if written != LEN {
                return None;
            }
            out.copy_from_slice(&buffer[..LEN]);
        }
    }
    Some(out)
}

/// Parses a timestamp that must be plain ASCII decimal digits (no sign, no spaces) fitting an
/// `i64`. The bytes themselves (not the parsed number) are what the sender signed.
pub(crate) fn parse_timestamp(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    // One pass: a non-digit or an overflow stops it.
    bytes.iter().try_fold(0i64, |acc, byte| {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        acc.checked_mul(10)?.checked_add(i64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_value() -> SignatureFormat {
        SignatureFormat::KeyValue { signature_key: "s".into(), timestamp_key: Some("t".into()) }
    }

    #[test]
    fn key_value_headers_yield_every_signature_and_the_timestamp() {
        let sig = "ab".repeat(32);
        let value = format!("t=1700000000,s={sig},s={},x=ignored", sig.to_uppercase());
        let provided = parse_signature(value.as_bytes(), &key_value(), Encoding::Hex).unwrap();
        assert_eq!(provided.hmac, vec![[0xab; 32], [0xab; 32]]);
        assert_eq!(provided.timestamp, Some(&b"1700000000"[..]));
        assert_eq!(provided.undecodable, 0);
    }

    #[test]
    fn undecodable_entries_are_counted_not_compared() {
        let short = "ab".repeat(31);
        let value = format!("t=1,s={short},s=zz,s=");
        let provided = parse_signature(value.as_bytes(), &key_value(), Encoding::Hex).unwrap();
        assert!(provided.hmac.is_empty());
        assert_eq!(provided.undecodable, 3);
    }

    #[test]
    fn structural_problems_are_reported() {
        let format = key_value();
        assert_eq!(parse_signature(b"t=1", &format, Encoding::Hex).unwrap_err(), HeaderProblem::NoSignature);
        assert_eq!(parse_signature(b"s=00", &format, Encoding::Hex).unwrap_err(), HeaderProblem::NoTimestamp);
        assert_eq!(parse_signature(b"t=1,s", &format, Encoding::Hex).unwrap_err(), HeaderProblem::PartWithoutEquals);
        assert_eq!(
            parse_signature(b"t=1,t=2,s=00", &format, Encoding::Hex).unwrap_err(),
            HeaderProblem::ConflictingTimestamps
        );
        let many = "s=00,".repeat(MAX_ENTRIES + 1);
        let value = format!("t=1,{many}");
        assert_eq!(
            parse_signature(value.as_bytes(), &format, Encoding::Hex).unwrap_err(),
            HeaderProblem::TooManyEntries
        );
        let single = SignatureFormat::Single { prefix: "sha256=".into() };
        assert_eq!(parse_signature(b"md5=00", &single, Encoding::Hex).unwrap_err(), HeaderProblem::MissingPrefix);
    }

    #[test]
    fn versioned_lists_ignore_unknown_versions() {
        let format = SignatureFormat::Versioned { hmac_version: "v1".into(), ed25519_version: Some("v1a".into()) };
        let hmac = STANDARD.encode([7u8; 32]);
        let ed = STANDARD.encode([9u8; 64]);
        let value = format!("v2,abc  v1,{hmac} v1a,{ed} v1, junk");
        let provided = parse_signature(value.as_bytes(), &format, Encoding::Base64).unwrap();
        assert_eq!(provided.hmac, vec![[7u8; 32]]);
        assert_eq!(provided.ed25519, vec![[9u8; 64]]);
        assert_eq!(provided.undecodable, 1);
        assert_eq!(parse_signature(b"v2,abc", &format, Encoding::Base64).unwrap_err(), HeaderProblem::NoSignature);
    }

    #[test]
    fn decoding_requires_the_exact_length() {
        assert_eq!(decode::<32>(STANDARD.encode([1u8; 32]).as_bytes(), Encoding::Base64), Some([1u8; 32]));
        assert_eq!(decode::<32>(STANDARD.encode([1u8; 31]).as_bytes(), Encoding::Base64), None);
        assert_eq!(decode::<32>(STANDARD.encode([1u8; 33]).as_bytes(), Encoding::Base64), None);
        assert_eq!(decode::<32>("AB".repeat(32).as_bytes(), Encoding::Hex), Some([0xab; 32]));
        assert_eq!(decode::<32>("AB".repeat(33).as_bytes(), Encoding::Hex), None);
        assert_eq!(decode::<64>(b"\xff\xfe", Encoding::Base64), None);
    }

    /// The word decoder against the table, for every byte value in every position of a word of
    /// valid digits, and for words of random bytes drawn mostly from the hex alphabet.
    #[test]
    fn word_decoding_matches_the_table_for_every_byte_in_every_position() {
        fn by_table(digits: &[u8; 8]) -> Option<[u8; 4]> {
            let mut out = [0u8; 4];
            for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
                let (high, low) = (HEX_DIGITS[usize::from(pair[0])], HEX_DIGITS[usize::from(pair[1])]);
                if (high | low) & 0x80 != 0 {
                    return None;
                }
                *byte = (high << 4) | low;
            }
            Some(out)
        }
        let check = |digits: [u8; 8]| {
            let (bytes, invalid) = decode_hex_word(u64::from_le_bytes(digits));
            let swar = (invalid == 0).then_some(bytes);
            assert_eq!(swar, by_table(&digits), "{digits:?}");
        };
        for base in [*b"0123abcF", *b"9fA04eD7", *b"ffffffff", *b"00000000"] {
            for position in 0..8 {
                for value in 0..=255u8 {
                    let mut digits = base;
                    digits[position] = value;
                    check(digits);
                }
            }
        }
        let alphabet = b"0123456789abcdefABCDEF/:@`gG\x00\x7f\x80\xff";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            let mut digits = [0u8; 8];
            for digit in &mut digits {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *digit = alphabet[(state % alphabet.len() as u64) as usize];
            }
            check(digits);
        }
    }

    #[test]
    fn hex_tails_shorter_than_a_word_use_the_table() {
        let mut out = [0u8; 5];
        assert_eq!(decode_hex(b"0123456789", &mut out), Some(()));
        assert_eq!(out, [0x01, 0x23, 0x45, 0x67, 0x89]);
        assert_eq!(decode_hex(b"012345678g", &mut out), None);
        assert_eq!(decode_hex(b"g123456789", &mut out), None);
    }

    #[test]
    fn timestamps_are_plain_digits_that_fit() {
        assert_eq!(parse_timestamp(b"1700000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp(b"9223372036854775807"), Some(i64::MAX));
        for bad in [&b""[..], b"-1", b"+1", b" 1", b"1.5", b"9223372036854775808", b"99999999999999999999"] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
