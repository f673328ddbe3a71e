//! HMAC-SHA256 (RFC 2104) over SHA-256's block function, for the one shape the engine needs: a
//! key whose inner and outer pads were hashed once, and a message handed over in a few chunks.
//!
//! The `hmac` crate computes the same MAC (the tests below compare the two, and the test signer
//! signs with it); it is not used per delivery because its generic state is cloned whole for every
//! key and every delivery (both SHA-256 cores plus a block buffer, a few hundred bytes), and its
//! buffering is generic over every block size. Here a delivery copies two 32-byte states and
//! buffers into one block on the stack, and the MAC stays as SHA-256's eight state words,
//! compared with the provided MAC's big-endian words without ever being written out as bytes.
//! Under callgrind, on a 61-byte Botdog delivery, the MAC's work outside SHA-256's block function
//! went from about 690 to 490 instructions.
//!
//! What is zeroized: the key schedule, and the working states (on drop). The block that carries
//! the inner hash into the outer one is not: the inner hash is not the MAC, and without the
//! outer state it gives none.

use sha2::block_api::compress256;
use zeroize::Zeroizing;

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const INITIAL_STATE: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const BLOCK: usize = 64;

/// A secret's HMAC-SHA256 key schedule: the SHA-256 states after the key XOR-ed with the inner
/// and outer pads (RFC 2104 §2). Key material: zeroized on drop, never printed.
#[derive(Clone)]
pub(crate) struct PrekeyedHmac {
    inner: Zeroizing<[u32; 8]>,
    outer: Zeroizing<[u32; 8]>,
}

impl PrekeyedHmac {
    /// The schedule of `key`, any length: a key longer than a block is hashed first (RFC 2104 §2).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut padded = Zeroizing::new([0u8; BLOCK]);
        if key.len() > BLOCK {
            let mut hashed = Sha256Stream::new(INITIAL_STATE, 0);
            hashed.update(key);
            hashed.finish();
            write_be(&hashed.state, &mut padded[..32]);
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        let state_after = |pad: u8| {
            let mut block = Zeroizing::new([0u8; BLOCK]);
            for (out, byte) in block.iter_mut().zip(padded.iter()) {
                *out = byte ^ pad;
            }
            let mut state = Zeroizing::new(INITIAL_STATE);
            compress256(&mut state, &[*block]);
            state
        };
        Self { inner: state_after(0x36), outer: state_after(0x5c) }
    }

    /// Starts a MAC: message chunks go to [`MacInProgress::update`].
    pub(crate) fn start(&self) -> MacInProgress<'_> {
        MacInProgress { key: self, inner: Sha256Stream::new(*self.inner, 1) }
    }
}

/// The outer hash's one block after the outer pad, but for the inner hash written into its first
/// 32 bytes per MAC: the padding of a 96-byte message (FIPS 180-4 §5.1.1), `0x80`, zeros, and
/// 768 as the length in bits.
const OUTER_BLOCK: [u8; BLOCK] = {
    let mut block = [0u8; BLOCK];
    block[32] = 0x80;
    let bits = ((BLOCK as u64 + 32) * 8).to_be_bytes();
    let mut i = 0;
    while i < 8 {
        block[BLOCK - 8 + i] = bits[i];
        i += 1;
    }
    block
};

/// A MAC being computed: the inner hash's running state.
pub(crate) struct MacInProgress<'a> {
    key: &'a PrekeyedHmac,
    inner: Sha256Stream,
}

impl MacInProgress<'_> {
    /// Appends `data` to the message. Inlined: a layout hands over two to five chunks per
    /// delivery, and a call costs about as much as buffering a short chunk.
    #[inline]
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The MAC as SHA-256's state words (the MAC's bytes are these, big-endian): the outer hash
    /// over the inner hash, one block (32 bytes of inner hash, then the padding of a message of
    /// 96 bytes, the outer pad's block included). In place, as [`Sha256Stream::finish`]: the
    /// running state (a few hundred bytes with its buffer) is not moved; it is zeroized when the
    /// MAC in progress is dropped.
    pub(crate) fn finish(&mut self) -> Zeroizing<[u32; 8]> {
        self.inner.finish();
        let mut block = OUTER_BLOCK;
        write_be(&self.inner.state, &mut block[..32]);
        let mut outer = Zeroizing::new(*self.key.outer);
        compress256(&mut outer, &[block]);
        outer
    }
}

/// SHA-256 over a message fed in chunks, from a state that has already absorbed some blocks.
struct Sha256Stream {
    state: Zeroizing<[u32; 8]>,
    /// Blocks absorbed, counting those before this stream started.
    blocks: u64,
    /// The message bytes not yet absorbed (fewer than a block).
    pending: [u8; BLOCK],
    pending_len: usize,
}

impl Sha256Stream {
    fn new(state: [u32; 8], blocks: u64) -> Self {
        Self { state: Zeroizing::new(state), blocks, pending: [0; BLOCK], pending_len: 0 }
    }

    #[inline]
    fn update(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = data.len().min(BLOCK - self.pending_len);
            let (head, rest) = data.split_at(take);
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(head);
            self.pending_len += take;
            data = rest;
            if self.pending_len < BLOCK {
                return;
            }
            compress256(&mut self.state, &[self.pending]);
            self.blocks += 1;
            self.pending_len = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
            self.blocks += blocks.len() as u64;
        }
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// Pads the message with `0x80`, zeros and its length in bits (FIPS 180-4 §5.1.1) and absorbs
    /// the last block(s): `state` is then the hash. In place: returning the state would move the
    /// stream (its block buffer included) on every MAC.
    fn finish(&mut self) {
        let bits = (self.blocks * BLOCK as u64 + self.pending_len as u64) * 8;
        let len = self.pending_len;
        self.pending[len] = 0x80;
        self.pending[len + 1..].fill(0);
        if len + 1 > BLOCK - 8 {
            compress256(&mut self.state, &[self.pending]);
            self.pending.fill(0);
        }
        self.pending[BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut self.state, &[self.pending]);
    }
}

/// A hash's state words as its bytes, big-endian (FIPS 180-4 §6.2.2).
fn write_be(state: &[u32; 8], out: &mut [u8]) {
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use hmac::{KeyInit, Mac};

    use super::*;
    use crate::secret::HmacSha256;

    fn by_the_hmac_crate(key: &[u8], chunks: &[&[u8]]) -> [u8; 32] {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
        for chunk in chunks {
            mac.update(chunk);
        }
        mac.finalize().into_bytes().into()
    }

    fn by_prekeyed(key: &[u8], chunks: &[&[u8]]) -> [u8; 32] {
        let prekeyed = PrekeyedHmac::new(key);
        let mut mac = prekeyed.start();
        for chunk in chunks {
            mac.update(chunk);
        }
        let mut out = [0u8; 32];
        write_be(&mac.finish(), &mut out);
        out
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than a block).
    #[test]
    fn rfc_4231_vectors() {
        let cases: [(&[u8], &[u8], &str); 3] = [
            (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, expected) in cases {
            assert_eq!(hex::encode(by_prekeyed(key, &[message])), expected);
        }
    }

    /// Every message length across the padding boundaries (55, 56, 63, 64 bytes and their
    /// multiples), keys shorter than, equal to and longer than a block, and messages split into
    /// chunks at every position: the same MAC as the `hmac` crate.
    #[test]
    fn matches_the_hmac_crate_for_every_length_and_split() {
        let message: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for key_len in [0, 1, 23, 32, 63, 64, 65, 100, 200] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 13 + 1) as u8).collect();
            for len in 0..=message.len() {
                let whole = &message[..len];
                assert_eq!(by_prekeyed(&key, &[whole]), by_the_hmac_crate(&key, &[whole]), "{key_len} {len}");
            }
            for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200] {
                let whole = &message[..len];
                let expected = by_the_hmac_crate(&key, &[whole]);
                for first in 0..=len {
                    for second in first..=len {
                        let chunks = [&whole[..first], &whole[first..second], &whole[second..]];
                        assert_eq!(by_prekeyed(&key, &chunks), expected, "{key_len} {len} {first} {second}");
                    }
                }
            }
        }
    }
}
