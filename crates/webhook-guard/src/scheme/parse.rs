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

/// Parses one signature header value (tests; the engine parses in place with
/// [`parse_signature_into`]).
#[cfg(test)]
pub(crate) fn parse_signature<'a>(
    value: &'a [u8],
    format: &SignatureFormat,
    encoding: Encoding,
) -> Result<Provided<'a>, HeaderProblem> {
    let mut provided = Provided::default();
    parse_signature_into(value, format, encoding, KeyValuePlan::of(format, encoding), &mut provided)?;
    Ok(provided)
}

/// Parses one signature header value into `provided`, which must be empty (its `Default`).
/// Filled in place rather than returned: the material is a few hundred bytes (two inline MACs),
/// and returning it through a `Result` copies it on every delivery.
/// `plan` must be [`KeyValuePlan::of`] the same format and encoding (the scheme keeps it).
pub(crate) fn parse_signature_into<'a>(
    value: &'a [u8],
    format: &SignatureFormat,
    encoding: Encoding,
    plan: KeyValuePlan,
    provided: &mut Provided<'a>,
) -> Result<(), HeaderProblem> {
    match format {
        SignatureFormat::Single { prefix } => {
            let encoded = value.strip_prefix(prefix.as_bytes()).ok_or(HeaderProblem::MissingPrefix)?;
            push_hmac(provided, encoded, encoding);
        }
        SignatureFormat::KeyValue { signature_key, timestamp_key } => {
            let mut entries = 0;
            let mut signatures = 0;
            let signature_key = signature_key.as_bytes();
            let whole_hex_entries = plan.whole_hex_entries;
            let mut rest = Some(value);
            // Botdog and Stripe send the timestamp first (`t=1763633730,s=…`): that entry is cut
            // out as the general path below would, without its search for `=` and comparisons
            // of the key with each known key.
            if plan.leading_timestamp
                && let Some(key) = timestamp_key.as_deref().map(str::as_bytes)
                && let Some((entry, next)) = leading_entry(value, key)
            {
                count_entry(&mut entries)?;
                provided.timestamp = Some(entry);
                rest = next;
            }
            while let Some(current) = rest {
                if whole_hex_entries && let Some((decoded, next)) = whole_hex_entry(current, signature_key) {
                    count_entry(&mut entries)?;
                    signatures += 1;
                    provided.hmac.push(decoded);
                    rest = next;
                    continue;
                }
                let (raw, next) = match position_of(current, b',') {
                    Some(at) => (current.get(..at).unwrap_or_default(), current.get(at + 1..)),
                    None => (current, None),
                };
                rest = next;
                let part = raw.trim_ascii();
                if part.is_empty() {
                    continue;
                }
                count_entry(&mut entries)?;
                let (key, entry) = split_once(part, b'=').ok_or(HeaderProblem::PartWithoutEquals)?;
                if key == signature_key {
                    signatures += 1;
                    push_hmac(provided, entry, encoding);
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
            let hmac_version = hmac_version.as_bytes();
            let whole_base64_entries = reads_whole_base64_entries(hmac_version);
            let mut rest = value;
            loop {
                if whole_base64_entries && let Some((decoded, next)) = whole_base64_entry(rest, hmac_version) {
                    count_entry(&mut entries)?;
                    supported += 1;
                    provided.hmac.push(decoded);
                    rest = next;
                    continue;
                }
                // Entries are the runs of non-whitespace.
                let Some(start) = rest.iter().position(|byte| !byte.is_ascii_whitespace()) else { break };
                let entry_and_rest = rest.get(start..).unwrap_or_default();
                let end = entry_and_rest.iter().position(u8::is_ascii_whitespace).unwrap_or(entry_and_rest.len());
                let (entry, after) = entry_and_rest.split_at(end);
                rest = after;
                count_entry(&mut entries)?;
                // Standard Webhooks: `<version>,<signature>`; unknown versions are ignored.
                let Some((version, signature)) = split_once(entry, b',') else { continue };
                if version == hmac_version {
                    supported += 1;
                    push_hmac(provided, signature, Encoding::Base64);
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
    Ok(())
}

/// Counts one more entry of a signature header, refusing a header of more than [`MAX_ENTRIES`].
#[inline]
fn count_entry(entries: &mut usize) -> Result<(), HeaderProblem> {
    *entries += 1;
    if *entries > MAX_ENTRIES { Err(HeaderProblem::TooManyEntries) } else { Ok(()) }
}

/// Whether [`whole_base64_entry`] reads the entries of `hmac_version` as the general path would:
/// a version that is not empty and holds no `,` or whitespace (any other never matches an entry
/// the way the fast path would match it).
fn reads_whole_base64_entries(hmac_version: &[u8]) -> bool {
    !hmac_version.is_empty() && !hmac_version.iter().any(|byte| *byte == b',' || byte.is_ascii_whitespace())
}

/// An entry at the start of `current` that is exactly `version,` and a 44-character base64 MAC,
/// then whitespace or the end: what Standard Webhooks sends. Decoding validates every character
/// (the alphabet and one final `=`: no whitespace, no comma), so the entry is the run of
/// non-whitespace the general path would have cut out, split at the same comma, and decoded the
/// same; it is decoded without scanning its 47 bytes for whitespace first. `None` leaves the
/// entry to the general path. Returns the MAC and what follows the whitespace byte.
fn whole_base64_entry<'a>(current: &'a [u8], version: &[u8]) -> Option<([u8; 32], &'a [u8])> {
    let encoded_and_rest = current.strip_prefix(version)?.strip_prefix(b",")?;
    let (encoded, after) = encoded_and_rest.split_at_checked(44)?;
    let next = match after.split_first() {
        None => after,
        Some((separator, next)) if separator.is_ascii_whitespace() => next,
        Some(_) => return None,
    };
    Some((decode_base64_mac(encoded)?, next))
}

/// What the fast paths of a key-value header may do, decided once per scheme (the checks scan
/// and compare the keys).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeyValuePlan {
    /// Signature entries may be read by [`whole_hex_entry`].
    whole_hex_entries: bool,
    /// A leading timestamp entry may be read by [`leading_entry`].
    leading_timestamp: bool,
}

impl KeyValuePlan {
    pub(crate) fn of(format: &SignatureFormat, encoding: Encoding) -> Self {
        match format {
            SignatureFormat::KeyValue { signature_key, timestamp_key } => Self {
                whole_hex_entries: encoding == Encoding::Hex && reads_whole_entries(signature_key.as_bytes()),
                // The general path reads an entry under the signature key as a signature first.
                leading_timestamp: timestamp_key
                    .as_ref()
                    .is_some_and(|key| key != signature_key && reads_whole_entries(key.as_bytes())),
            },
            SignatureFormat::Single { .. } | SignatureFormat::Versioned { .. } => Self::default(),
        }
    }
}

/// `bytes.strip_prefix(key)` for the short keys of signature headers (`t`, `s`, `v1`), byte by
/// byte: a slice comparison calls `bcmp`, which costs more than comparing a byte or two.
#[inline]
fn strip_key<'a>(bytes: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let (head, rest) = bytes.split_at_checked(key.len())?;
    head.iter().zip(key).all(|(a, b)| a == b).then_some(rest)
}

/// Whether [`whole_hex_entry`] and [`leading_entry`] read the entries of `key` as the general
/// path would: a key that is not empty, holds no `,` or `=` and does not start with whitespace.
/// (Any other key never matches the way the fast paths would match it: the general path splits
/// at commas, trims, and ends a key at its first `=`.)
fn reads_whole_entries(key: &[u8]) -> bool {
    key.first().is_some_and(|first| !first.is_ascii_whitespace())
        && !key.iter().any(|byte| matches!(*byte, b',' | b'='))
}

/// An entry at the start of `current` whose key is exactly `key`: its value (up to the next comma
/// or the end, trailing whitespace trimmed) and what follows that comma. What the general path
/// cuts out of the same bytes: the part starts with the key, so trimming it removes nothing at
/// the start, and the key holds no `=` ([`reads_whole_entries`]), so the value starts right after
/// `key=`. `None` when `current` does not start with `key=`.
#[inline]
fn leading_entry<'a>(current: &'a [u8], key: &[u8]) -> Option<(&'a [u8], Option<&'a [u8]>)> {
    let value_and_rest = strip_key(current, key)?.strip_prefix(b"=")?;
    Some(match position_of(value_and_rest, b',') {
        Some(at) => {
            let (value, comma_and_rest) = value_and_rest.split_at(at);
            (value.trim_ascii_end(), comma_and_rest.get(1..))
        }
        None => (value_and_rest.trim_ascii_end(), None),
    })
}

/// A signature entry at the start of `current` that is exactly `key=` and 64 hex digits, then a
/// comma or the end: what Botdog and Stripe send. Decoding validates every digit, and a hex digit
/// is neither a comma nor whitespace, so the entry is the part the general path would have cut
/// out at the next comma and trimmed, and decoded the same: it is decoded without searching it
/// for that comma first (64 of a Botdog header's 78 bytes). `None` (anything else, including
/// digits that do not decode) leaves the part to the general path. Returns the signature and
/// what follows the comma.
#[inline]
fn whole_hex_entry<'a>(current: &'a [u8], key: &[u8]) -> Option<([u8; 32], Option<&'a [u8]>)> {
    let digits_and_rest = strip_key(current, key)?.strip_prefix(b"=")?;
    let (digits, after) = digits_and_rest.split_at_checked(64)?;
    let next = match after.split_first() {
        None => None,
        Some((b',', next)) => Some(next),
        Some(_) => return None,
    };
    Some((decode::<32>(digits, Encoding::Hex)?, next))
}

/// The position of the first `needle` in `haystack`, eight bytes at a time: in a word XOR-ed with
/// `needle` in every lane, the needle's lanes are zero, and `(x - 0x01…01) & !x & 0x80…80` flags
/// the lowest zero lane exactly (a borrow can only flag lanes above it). The tail shorter than a
/// word is searched byte by byte.
fn position_of(haystack: &[u8], needle: u8) -> Option<usize> {
    let (words, tail) = haystack.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ lanes(needle);
        let found = x.wrapping_sub(lanes(0x01)) & !x & lanes(0x80);
        if found != 0 {
            return Some(index * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    tail.iter().position(|byte| *byte == needle).map(|at| words.len() * 8 + at)
}

fn push_hmac(provided: &mut Provided<'_>, encoded: &[u8], encoding: Encoding) {
    let decoded = match encoding {
        Encoding::Base64 => decode_base64_mac(encoded),
        Encoding::Hex => decode::<32>(encoded, Encoding::Hex),
    };
    match decoded {
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
    if let (Ok(digits), Ok(mac)) = (<&[u8; 64]>::try_from(encoded), <&mut [u8; 32]>::try_from(&mut *out)) {
        return decode_hex_mac(digits, mac);
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

/// The 64 hex digits of an HMAC-SHA256 signature, in two passes written so that the compiler
/// turns each into a few vector operations of the baseline instruction set (SSE2 on x86-64, 16
/// bytes at a time): each digit's value and validity, with no branch on a digit, then the pairs
/// of values joined into bytes. Under callgrind it cost a Botdog delivery about 50 instructions
/// fewer than the word-at-a-time decoder ([`decode_hex_word`]), which decodes other lengths.
fn decode_hex_mac(digits: &[u8; 64], mac: &mut [u8; 32]) -> Option<()> {
    let mut values = [0u8; 64];
    let mut invalid = 0u8;
    for (value, digit) in values.iter_mut().zip(digits) {
        let decimal = digit.wrapping_sub(b'0');
        // `| 0x20` maps `A`..`F` onto `a`..`f` and nothing else onto them.
        let letter = (digit | 0x20).wrapping_sub(b'a');
        let is_decimal = decimal < 10;
        let is_letter = letter < 6;
        invalid |= u8::from(!is_decimal & !is_letter);
        *value = if is_decimal { decimal } else { letter.wrapping_add(10) };
    }
    for (byte, pair) in mac.iter_mut().zip(values.as_chunks::<2>().0) {
        // A pair as one 16-bit lane: the first value in its low byte. Shifted left by four, its
        // low byte holds the first value's bits at the top; shifted right by eight, the second.
        let lane = u16::from_le_bytes(*pair);
        *byte = ((lane << 4) | (lane >> 8)) as u8;
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

/// Standard base64 (RFC 4648 §4) of a 32-byte MAC: exactly 43 characters
/// and one `=`, the last character's two unused bits zero. That is what the `base64` crate's
/// `STANDARD` engine accepts at this length (a test compares the two for every byte value in
/// every position); this does it by table, four characters to three bytes, with no branch on the
/// characters and without the engine's general machinery, which cost a Standard Webhooks
/// delivery about as much as the rest of its header parsing.
fn decode_base64_mac(encoded: &[u8]) -> Option<[u8; 32]> {
    let [data @ .., padding] = <&[u8; 44]>::try_from(encoded).ok()?;
    let sextet = |char: &u8| u32::from(BASE64_SEXTETS[usize::from(*char)]);
    // A character that is not one has 0x80 in the table: OR-ed into `invalid`, and its garbage
    // bits in the output do not matter then.
    let mut invalid = u32::from(*padding != b'=');
    let mut out = [0u8; 32];
    let (quads, last) = data.as_chunks::<4>();
    for (quad, bytes) in quads.iter().zip(out.chunks_exact_mut(3)) {
        let [a, b, c, d] = quad.each_ref().map(sextet);
        invalid |= (a | b | c | d) & 0x80;
        let [_, x, y, z] = ((a << 18) | (b << 12) | (c << 6) | d).to_be_bytes();
        bytes.copy_from_slice(&[x, y, z]);
    }
    // The last three characters carry 18 bits: two bytes, then two bits that must be zero.
    let [a, b, c] = <&[u8; 3]>::try_from(last).ok()?.each_ref().map(sextet);
    invalid |= ((a | b | c) & 0x80) | (c & 0b11);
    let [_, _, x, y] = (((a << 12) | (b << 6) | c) >> 2).to_be_bytes();
    out[30..].copy_from_slice(&[x, y]);
    (invalid == 0).then_some(out)
}

/// The value of each byte as a standard base64 character, or 0x80 for bytes that are not one
/// (`=` included: padding is only accepted where [`decode_base64_mac`] expects it).
const BASE64_SEXTETS: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Decodes exactly `LEN` bytes, or nothing.
#[inline]
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

/// Eight ASCII decimal digits (the word's bytes, first and most significant digit lowest) as
/// their value, and whether any byte is not a digit. SWAR, as [`decode_hex_word`]: a byte is a
/// digit when its high nibble is 3 and adding 6 keeps it 3 (a carry out of a lane can only come
/// from a lane that already failed the first test). The value folds neighbouring lanes: pairs
/// (`10 * a + b`), then fours, then the eight.
fn decode_decimal_word(word: u64) -> (u64, bool) {
    let high_nibbles = lanes(0xf0);
    let invalid =
        (word & high_nibbles) != lanes(0x30) || (word.wrapping_add(lanes(0x06)) & high_nibbles) != lanes(0x30);
    let digits = word & lanes(0x0f);
    let pairs = (digits.wrapping_mul((10 << 8) | 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs.wrapping_mul((100 << 16) | 1) >> 16) & 0x0000_ffff_0000_ffff;
    let eight = fours.wrapping_mul((10_000 << 32) | 1) >> 32;
    (eight, invalid)
}

/// Parses a timestamp that must be plain ASCII decimal digits (no sign, no spaces) fitting an
/// `i64`. The bytes themselves (not the parsed number) are what the sender signed.
#[inline]
pub(crate) fn parse_timestamp(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    // Nineteen digits stay below 10^19 < 2^64, so a valid timestamp cannot overflow a `u64`; no
    // branch depends on a digit (an invalid byte is remembered, its wrapped value discarded), and
    // the `i64` bound is checked once at the end. Eight digits at a time ([`decode_decimal_word`]):
    // a ten-digit timestamp is one word and two digits.
    let mut invalid = false;
    let mut value = 0u64;
    let (words, tail) = bytes.as_chunks::<8>();
    for word in words {
        let (eight, word_invalid) = decode_decimal_word(u64::from_le_bytes(*word));
        invalid |= word_invalid;
        value = value.wrapping_mul(100_000_000).wrapping_add(eight);
    }
    for byte in tail {
        let digit = byte.wrapping_sub(b'0');
        invalid |= digit > 9;
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
    }
    if invalid { None } else { i64::try_from(value).ok() }
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

    /// The MAC decoder against the `hex` crate, for every byte value in every position of 64
    /// digits of either case, and for random digits over the alphabet's edges.
    #[test]
    fn hex_mac_decoding_matches_the_hex_crate() {
        let by_crate = |digits: &[u8]| hex::decode(digits).ok();
        let ours = |digits: &[u8; 64]| {
            let mut mac = [0u8; 32];
            decode_hex_mac(digits, &mut mac).map(|()| mac.to_vec())
        };
        for base in ["0123456789abcdef".repeat(4), "FEDCBA9876543210".repeat(4), "aF".repeat(32)] {
            let base: [u8; 64] = base.into_bytes().try_into().unwrap();
            assert_eq!(ours(&base), by_crate(&base));
            for at in 0..64 {
                for value in 0..=255u8 {
                    let mut digits = base;
                    digits[at] = value;
                    assert_eq!(ours(&digits), by_crate(&digits), "{digits:?}");
                }
            }
        }
        let mut state = 0x6a09_e667_f3bc_c908u64;
        for _ in 0..20_000 {
            let digits: [u8; 64] =
                random_bytes(&mut state, b"0123456789abcdefABCDEF/:@`gG\x00\x7f\x80\xff", 64).try_into().unwrap();
            assert_eq!(ours(&digits), by_crate(&digits), "{digits:?}");
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

    /// A xorshift generator: the random inputs of the comparisons below, reproducible.
    fn random_bytes(state: &mut u64, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                alphabet[(*state % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    /// The word-at-a-time search against `position`, for every byte value in every position of
    /// haystacks of every length up to three words, with and without an earlier needle.
    #[test]
    fn word_search_matches_position_for_every_byte_in_every_position() {
        for len in 0..=24 {
            for at in 0..len {
                for value in 0..=255u8 {
                    for needle in [b',', b'=', 0, 0xff] {
                        for filler in [b'a', needle ^ 1, needle.wrapping_add(1), 0x80] {
                            let mut haystack = vec![filler; len];
                            haystack[at] = value;
                            let simple = haystack.iter().position(|byte| *byte == needle);
                            assert_eq!(position_of(&haystack, needle), simple, "{haystack:?} {needle}");
                        }
                    }
                }
            }
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50_000 {
            let len = (state % 40) as usize;
            let haystack = random_bytes(&mut state, b",,=ab\x00\x01\x2b\x2d\x80\xac\xff", len);
            let simple = haystack.iter().position(|byte| *byte == b',');
            assert_eq!(position_of(&haystack, b','), simple, "{haystack:?}");
        }
    }

    /// What a key-value header yields: the decoded signatures, the undecodable count and the
    /// timestamp.
    type KeyValueParts<'a> = (Vec<[u8; 32]>, usize, Option<&'a [u8]>);

    /// The key-value parser as it was before its scan went word-at-a-time: what the parser must
    /// still decide, for any header bytes.
    fn key_value_by_split<'a>(
        value: &'a [u8],
        signature_key: &[u8],
        timestamp_key: Option<&[u8]>,
    ) -> Result<KeyValueParts<'a>, HeaderProblem> {
        let (mut hmac, mut undecodable, mut timestamp) = (Vec::new(), 0, None);
        let (mut entries, mut signatures) = (0, 0);
        for part in value.split(|byte| *byte == b',').map(<[u8]>::trim_ascii) {
            if part.is_empty() {
                continue;
            }
            entries += 1;
            if entries > MAX_ENTRIES {
                return Err(HeaderProblem::TooManyEntries);
            }
            let at = part.iter().position(|byte| *byte == b'=').ok_or(HeaderProblem::PartWithoutEquals)?;
            let (key, entry) = (&part[..at], &part[at + 1..]);
            if key == signature_key {
                signatures += 1;
                match hex::decode(entry).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()) {
                    Some(mac) => hmac.push(mac),
                    None => undecodable += 1,
                }
            } else if timestamp_key == Some(key) {
                match timestamp {
                    Some(previous) if previous != entry => return Err(HeaderProblem::ConflictingTimestamps),
                    _ => timestamp = Some(entry),
                }
            }
        }
        if signatures == 0 {
            return Err(HeaderProblem::NoSignature);
        }
        if timestamp_key.is_some() && timestamp.is_none() {
            return Err(HeaderProblem::NoTimestamp);
        }
        Ok((hmac, undecodable, timestamp))
    }

    /// Botdog-shaped headers with every byte value in every position, and random headers built
    /// from the characters that matter to the grammar: the parser decides as the reference does.
    #[test]
    fn key_value_parsing_matches_the_split_reference() {
        let check_with = |value: &[u8], signature_key: &str, timestamp_key: &str| {
            let format = SignatureFormat::KeyValue {
                signature_key: signature_key.into(),
                timestamp_key: Some(timestamp_key.into()),
            };
            let parsed = parse_signature(value, &format, Encoding::Hex)
                .map(|provided| (provided.hmac.iter().copied().collect(), provided.undecodable, provided.timestamp));
            let reference = key_value_by_split(value, signature_key.as_bytes(), Some(timestamp_key.as_bytes()));
            assert_eq!(parsed, reference, "{value:?} {signature_key:?}");
        };
        let check = |value: &[u8]| check_with(value, "s", "t");
        let botdog = format!("t=1763633730,s={}", "0123456789abcdef".repeat(4)).into_bytes();
        let rotated = format!("t=1763633730,s={},s={}", "ab".repeat(32), "CD".repeat(32)).into_bytes();
        for base in [botdog, rotated] {
            for at in 0..base.len() {
                for value in 0..=255u8 {
                    let mut header = base.clone();
                    header[at] = value;
                    check(&header);
                }
            }
        }
        // Keys the whole-entry fast path must leave to the general one: with `=`, `,` or leading
        // whitespace, such a key never matches an entry (parts are split at commas, trimmed, and
        // keys end at their first `=`); and the same key for signatures and timestamps.
        let hex = "ab".repeat(32);
        for (signature_key, timestamp_key) in
            [("a=b", "a"), ("s,", "t"), (" s", "t"), ("s", "s"), ("v1", "t"), ("s", "t="), ("s", " t"), ("s", "t,")]
        {
            for header in [
                format!("t=1,{signature_key}={hex}"),
                format!("{signature_key}={hex},t=1"),
                format!("a={hex},b={hex},t=1,s={hex}"),
                format!("t=1,s={hex}, s={hex} ,s={hex}"),
                // The leading timestamp entry's fast path: empty, spaced, unterminated and
                // repeated values, and keys that only start like the timestamp key.
                format!("t=,s={hex}"),
                format!("t= 17 \t,s={hex}"),
                "t=17,".to_owned(),
                "t=17".to_owned(),
                format!("t=17,t=18,s={hex}"),
                format!("t=17,t=17,s={hex}"),
                format!("tt=17,s={hex}"),
                format!("t=17=18,s={hex}"),
                format!(" t=17,s={hex}"),
            ] {
                check_with(header.as_bytes(), signature_key, timestamp_key);
            }
        }
        let mut state = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..100_000 {
            let len = (state % 96) as usize;
            check(&random_bytes(&mut state, b",,== \tts0123456789abcdefABx", len));
        }
        let mut state = 0x1234_5678_9abc_def1u64;
        for _ in 0..20_000 {
            // Whole entries, some of them well formed, joined by commas and spaces.
            let count = (state % 5) as usize;
            let mut header = Vec::new();
            for _ in 0..count {
                let pick = random_bytes(&mut state, b"0123456", 1)[0];
                let hex = random_bytes(&mut state, b"0123456789abcdefABCDEF", 64);
                match pick {
                    b'0' | b'1' => header.extend_from_slice(&[&b"s="[..], &hex].concat()),
                    b'2' => header.extend_from_slice(b"t=17"),
                    b'3' => header.extend_from_slice(b" t=17 "),
                    b'4' => header.extend_from_slice(&[&b" s="[..], &hex[..63], b" "].concat()),
                    b'5' => header.extend_from_slice(b"v0=x"),
                    _ => {}
                }
                header.extend_from_slice(&random_bytes(&mut state, b",, ", 1));
            }
            check(&header);
        }
    }

    #[test]
    fn timestamps_match_the_checked_reference() {
        fn checked(bytes: &[u8]) -> Option<i64> {
            if bytes.is_empty() || bytes.len() > 19 {
                return None;
            }
            bytes.iter().try_fold(0i64, |acc, byte| {
                let digit = byte.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                acc.checked_mul(10)?.checked_add(i64::from(digit))
            })
        }
        for base in [
            &b"1763633730"[..],
            b"9223372036854775807",
            b"9223372036854775808",
            b"0000000000000000000",
            b"9999999999999999999",
            b"12345678",
            b"1234567",
            b"1234567890123456",
        ] {
            for at in 0..base.len() {
                for value in 0..=255u8 {
                    let mut bytes = base.to_vec();
                    bytes[at] = value;
                    assert_eq!(parse_timestamp(&bytes), checked(&bytes), "{bytes:?}");
                }
            }
        }
        let mut state = 0xdead_beef_cafe_f00du64;
        for _ in 0..100_000 {
            let len = (state % 22) as usize;
            let bytes = random_bytes(&mut state, b"0123456789999/:", len);
            assert_eq!(parse_timestamp(&bytes), checked(&bytes), "{bytes:?}");
        }
    }

    /// The MAC decoder against the `base64` crate, for every byte value in every position of
    /// valid encodings, and for random strings over the alphabet's edges.
    #[test]
    fn base64_mac_decoding_matches_the_base64_crate() {
        let by_crate = |encoded: &[u8]| {
            let mut buffer = [0u8; 66];
            match STANDARD.decode_slice(encoded, &mut buffer[..]) {
                Ok(32) => Some(buffer[..32].to_vec()),
                _ => None,
            }
        };
        let ours = |encoded: &[u8]| decode_base64_mac(encoded).map(|out| out.to_vec());
        for mac in [[0u8; 32], [0xff; 32], std::array::from_fn(|i| (i * 37 + 11) as u8)] {
            let valid = STANDARD.encode(mac).into_bytes();
            assert_eq!(ours(&valid), Some(mac.to_vec()));
            for at in 0..valid.len() {
                for value in 0..=255u8 {
                    let mut encoded = valid.clone();
                    encoded[at] = value;
                    assert_eq!(ours(&encoded), by_crate(&encoded), "{encoded:?}");
                }
            }
            assert_eq!(ours(&valid[..43]), None);
            assert_eq!(ours(&[&valid[..], b"="].concat()), None);
        }
        let mut state = 0x5851_f42d_4c95_7f2du64;
        for _ in 0..100_000 {
            let len = 42 + (state % 4) as usize;
            let encoded = random_bytes(&mut state, b"AZaz09+/=-_ \x00\xff", len);
            assert_eq!(ours(&encoded), by_crate(&encoded), "{encoded:?}");
            let mut near_valid =
                STANDARD.encode(random_bytes(&mut state, b"\x00\x01\x7f\x80\xfe\xff", 32)).into_bytes();
            let at = (state % 44) as usize;
            near_valid[at] = random_bytes(&mut state, b"AQgw/+=", 1)[0];
            assert_eq!(ours(&near_valid), by_crate(&near_valid), "{near_valid:?}");
        }
    }

    /// What a versioned header yields: HMAC signatures, Ed25519 signatures, the undecodable count.
    type VersionedParts = (Vec<[u8; 32]>, Vec<[u8; 64]>, usize);

    /// The versioned parser as it was before its fast path: split at whitespace.
    fn versioned_by_split(value: &[u8]) -> Result<VersionedParts, HeaderProblem> {
        let (mut hmac, mut ed25519, mut undecodable) = (Vec::new(), Vec::new(), 0);
        let (mut entries, mut supported) = (0, 0);
        for entry in value.split(u8::is_ascii_whitespace).filter(|entry| !entry.is_empty()) {
            entries += 1;
            if entries > MAX_ENTRIES {
                return Err(HeaderProblem::TooManyEntries);
            }
            let Some(at) = entry.iter().position(|byte| *byte == b',') else { continue };
            let (version, signature) = (&entry[..at], &entry[at + 1..]);
            if version == b"v1" {
                supported += 1;
                match STANDARD.decode(signature).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()) {
                    Some(mac) if signature.len() == 44 => hmac.push(mac),
                    _ => undecodable += 1,
                }
            } else if version == b"v1a" {
                supported += 1;
                match decode::<64>(signature, Encoding::Base64) {
                    Some(signature) => ed25519.push(signature),
                    None => undecodable += 1,
                }
            }
        }
        if supported == 0 {
            return Err(HeaderProblem::NoSignature);
        }
        Ok((hmac, ed25519, undecodable))
    }

    /// Standard Webhooks headers with every byte value in every position, and random lists of
    /// entries: the parser with its whole-entry fast path decides as the split reference does.
    #[test]
    fn versioned_parsing_matches_the_split_reference() {
        let format = SignatureFormat::Versioned { hmac_version: "v1".into(), ed25519_version: Some("v1a".into()) };
        let check = |value: &[u8]| {
            let parsed = parse_signature(value, &format, Encoding::Base64).map(|provided| {
                (
                    provided.hmac.iter().copied().collect(),
                    provided.ed25519.iter().copied().collect(),
                    provided.undecodable,
                )
            });
            assert_eq!(parsed, versioned_by_split(value), "{value:?}");
        };
        let mac = |byte: u8| STANDARD.encode([byte; 32]);
        let one = format!("v1,{}", mac(7)).into_bytes();
        let rotated = format!("v1,{} v1,{}", mac(1), mac(0xfe)).into_bytes();
        for base in [one, rotated] {
            for at in 0..base.len() {
                for value in 0..=255u8 {
                    let mut header = base.clone();
                    header[at] = value;
                    check(&header);
                }
            }
        }
        let ed = STANDARD.encode([9u8; 64]);
        let mut state = 0x1405_7b7e_f767_814fu64;
        for _ in 0..20_000 {
            let count = (state % 5) as usize;
            let mut header = Vec::new();
            for _ in 0..count {
                let pick = random_bytes(&mut state, b"012345", 1)[0];
                let encoded = STANDARD.encode(random_bytes(&mut state, b"\x00\x01\xfb\xff", 32));
                match pick {
                    b'0' | b'1' => header.extend_from_slice(format!("v1,{encoded}").as_bytes()),
                    b'2' => header.extend_from_slice(format!("v1a,{ed}").as_bytes()),
                    b'3' => header.extend_from_slice(format!("v1,{}", &encoded[..43]).as_bytes()),
                    b'4' => header.extend_from_slice(format!("v2,{encoded}").as_bytes()),
                    _ => header.extend_from_slice(format!("v1,{encoded},x").as_bytes()),
                }
                let separators = 1 + (state % 2) as usize;
                header.extend_from_slice(&random_bytes(&mut state, b"   \t\n\r\x0bx", separators));
            }
            check(&header);
        }
        for _ in 0..50_000 {
            let len = (state % 100) as usize;
            check(&random_bytes(&mut state, b"v1a,, \t/+=AZaz09", len));
        }
    }
}
