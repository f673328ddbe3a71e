//! The requests the constant-time harnesses verify, shared by `dudect` (timing statistics) and
//! `ct_count` (instruction counts under callgrind).
//!
//! A [`Fixture`] is a verifier and a family of short bodies of one length whose expected MACs it
//! computes; the harnesses send signatures of the right length that differ from the expected MAC
//! only where asked. For hex they change each nibble to another of the same character class
//! (digit stays digit, letter stays letter), so decoding the header executes the same
//! instructions whatever the change; base64 decoding is table-driven, with no branch on a valid
//! character.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::Signer;
use webhook_guard::{FixedClock, Verifier};

/// The signing time of every fixture, and the verifiers' clock.
pub const TIMESTAMP: i64 = 1_763_633_730;

/// A verifier and a body whose expected MAC is [`Fixture::mac`].
#[derive(Debug)]
pub struct Fixture {
    /// Accepts exactly the signature [`Fixture::mac`] over [`Fixture::body`].
    pub verifier: Verifier<AnyProvider>,
    /// A short body, so the MAC comparison is a large share of the work measured.
    pub body: Vec<u8>,
    /// The MAC the verifier expects for [`Fixture::body`].
    pub mac: [u8; 32],
    encoding: Encoding,
    signer: Signer,
}

/// How a fixture's signatures travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Botdog: `X-Webhook-Signature: t=<t>,s=<hex>[,s=<hex>]`.
    Hex,
    /// Standard Webhooks: `webhook-signature: v1,<base64>[ v1,<base64>]`.
    Base64,
}

const STANDARD_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

impl Fixture {
    /// The fixture of `encoding`.
    ///
    /// # Panics
    ///
    /// Never for the fixed secrets used here.
    pub fn new(encoding: Encoding) -> Self {
        let (name, secret) = match encoding {
            Encoding::Hex => ("botdog", "bd_whk_4f9c2a7e1b3d5f60a8c7"),
            Encoding::Base64 => ("standard", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        };
        let provider = AnyProvider::from_name(name).expect("a preset");
        let signer = Signer::for_provider(&provider, &[secret]).expect("a valid secret");
        let verifier = Verifier::builder(provider).secret(secret).clock(FixedClock(TIMESTAMP)).build().expect("config");
        let mut fixture = Self { verifier, body: Vec::new(), mac: [0; 32], encoding, signer };
        fixture.body = fixture.body_number(0);
        fixture.mac = fixture.mac_of(&fixture.body);
        fixture
    }

    /// The `number`th of a family of short bodies, all of the same length.
    pub fn body_number(&self, number: u32) -> Vec<u8> {
        match self.encoding {
            Encoding::Hex => format!(
                r#"{{"id":"evt_{number:08x}","eventType":"LEAD_PROFILE_VISITED","timestamp":"2025-11-20T10:15:00Z"}}"#
            ),
            Encoding::Base64 => {
                format!(
                    r#"{{"type":"call.completed","timestamp":"2025-11-20T10:15:00Z","data":{{"n":"{number:08x}"}}}}"#
                )
            }
        }
        .into_bytes()
    }

    /// The MAC the verifier expects for `body` (computed by the test signer).
    ///
    /// # Panics
    ///
    /// Never: the signer writes the signature header it is read from.
    pub fn mac_of(&self, body: &[u8]) -> [u8; 32] {
        let signed = self.signer.sign(body, TIMESTAMP, STANDARD_ID);
        let (name, _) = signed.headers.last().expect("a signature header");
        let value = signed.header(name).expect("the signature header");
        let mac = match self.encoding {
            Encoding::Hex => hex::decode(&value[value.len() - 64..]).expect("hex"),
            Encoding::Base64 => STANDARD.decode(&value[value.len() - 44..]).expect("base64"),
        };
        mac.try_into().expect("32 bytes")
    }

    /// The request headers carrying `signatures` (in one header, in order). The signature header
    /// is the last one.
    pub fn headers(&self, signatures: &[[u8; 32]]) -> Vec<(String, String)> {
        match self.encoding {
            Encoding::Hex => {
                let parts: Vec<String> = signatures.iter().map(|mac| format!("s={}", hex::encode(mac))).collect();
                vec![("X-Webhook-Signature".into(), format!("t={TIMESTAMP},{}", parts.join(",")))]
            }
            Encoding::Base64 => {
                let parts: Vec<String> = signatures.iter().map(|mac| format!("v1,{}", STANDARD.encode(mac))).collect();
                vec![
                    ("webhook-id".into(), STANDARD_ID.into()),
                    ("webhook-timestamp".into(), TIMESTAMP.to_string()),
                    ("webhook-signature".into(), parts.join(" ")),
                ]
            }
        }
    }

    /// `mac` with the byte at `index` changed, using `random` (any value) to pick the new byte.
    /// Hex keeps each nibble's character class; the result always differs.
    pub fn wrong_at(&self, mac: &[u8; 32], index: usize, random: u8) -> [u8; 32] {
        let mut wrong = *mac;
        wrong[index] = match self.encoding {
            Encoding::Hex => {
                let byte = mac[index];
                (other_in_class(byte >> 4, random) << 4) | other_in_class(byte & 0x0f, random >> 4)
            }
            Encoding::Base64 => mac[index] ^ random.max(1),
        };
        wrong
    }

    /// `mac` wrong in every byte (for hex, keeping every nibble's character class).
    pub fn wrong_everywhere(&self, mac: &[u8; 32], random: &mut impl FnMut() -> u8) -> [u8; 32] {
        std::array::from_fn(|index| self.wrong_at(mac, index, random())[index])
    }
}

/// Another nibble of the same hex character class as `nibble` (`0`-`9` or `a`-`f`).
fn other_in_class(nibble: u8, random: u8) -> u8 {
    if nibble < 10 { (nibble + 1 + random % 9) % 10 } else { 10 + (nibble - 10 + 1 + random % 5) % 6 }
}

/// A small deterministic generator (xorshift64*), so instruction counts repeat exactly.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_be_bytes()[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_accept_their_mac_and_refuse_every_changed_byte() {
        for encoding in [Encoding::Hex, Encoding::Base64] {
            let fixture = Fixture::new(encoding);
            assert!(fixture.verifier.verify_signature(&fixture.headers(&[fixture.mac]), &fixture.body).is_ok());
            let other = fixture.body_number(0xdead_beef);
            assert_eq!(other.len(), fixture.body.len());
            let headers = fixture.headers(&[fixture.mac_of(&other)]);
            assert!(fixture.verifier.verify_signature(&headers, &other).is_ok());
            let mut rng = Xorshift::new(7);
            for index in 0..32 {
                let wrong = fixture.wrong_at(&fixture.mac, index, rng.byte());
                assert_ne!(wrong[index], fixture.mac[index]);
                assert_eq!(wrong[..index], fixture.mac[..index]);
                assert_eq!(wrong[index + 1..], fixture.mac[index + 1..]);
                let headers = fixture.headers(&[wrong]);
                let lengths = |headers: &[(String, String)]| headers.iter().map(|(_, v)| v.len()).collect::<Vec<_>>();
                assert_eq!(lengths(&headers), lengths(&fixture.headers(&[fixture.mac])));
                assert!(fixture.verifier.verify_signature(&headers, &fixture.body).is_err());
            }
        }
    }

    #[test]
    fn hex_changes_keep_character_classes() {
        let fixture = Fixture::new(Encoding::Hex);
        let class = |c: char| c.is_ascii_digit();
        let expected = hex::encode(fixture.mac);
        let mut rng = Xorshift::new(9);
        let wrong = hex::encode(fixture.wrong_everywhere(&fixture.mac, &mut || rng.byte()));
        assert!(expected.chars().zip(wrong.chars()).all(|(a, b)| a != b && class(a) == class(b)), "{expected} {wrong}");
    }
}
