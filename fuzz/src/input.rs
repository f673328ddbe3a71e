//! The byte layouts the targets read, with their encoders.
//!
//! Decoding is total: any byte string is some input (missing bytes read as zero, lengths are cut
//! to what remains), so libFuzzer never wastes an execution on a rejected layout. The seed
//! generator writes seeds with [`Delivery::encode`] and [`SignatureInput::encode`], so seeds and
//! targets cannot drift apart.

/// Header names a [`Delivery`] can use: every header any preset reads (signature, timestamp, id,
/// event type, aliases), a few case variants (names match ASCII case-insensitively), and some
/// ordinary headers.
pub const HEADER_NAMES: &[&str] = &[
    "X-Webhook-Signature",
    "X-Webhook-Timestamp",
    "X-Webhook-Delivery-Id",
    "X-Webhook-Event",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "svix-id",
    "svix-timestamp",
    "svix-signature",
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "X-Shopify-Hmac-Sha256",
    "X-Shopify-Topic",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "x-webhook-signature",
    "WEBHOOK-SIGNATURE",
    "x-slack-request-timestamp",
    "Content-Type",
    "User-Agent",
    "Content-Length",
    "X-Unrelated",
];

/// The index of `name` in [`HEADER_NAMES`] (ASCII case-insensitive, preferring an exact match).
pub fn header_index(name: &str) -> Option<u8> {
    let exact = HEADER_NAMES.iter().position(|known| *known == name);
    let index = exact.or_else(|| HEADER_NAMES.iter().position(|known| known.eq_ignore_ascii_case(name)))?;
    u8::try_from(index).ok()
}

/// Reads a byte string front to back, totally.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> &'a [u8] {
        let (head, tail) = self.rest.split_at(len.min(self.rest.len()));
        self.rest = tail;
        head
    }

    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    fn u16(&mut self) -> u16 {
        let mut bytes = [0u8; 2];
        let taken = self.take(2);
        bytes[..taken.len()].copy_from_slice(taken);
        u16::from_le_bytes(bytes)
    }

    fn i64(&mut self) -> i64 {
        let mut bytes = [0u8; 8];
        let taken = self.take(8);
        bytes[..taken.len()].copy_from_slice(taken);
        i64::from_le_bytes(bytes)
    }
}

/// A whole request: the receiver's clock, flags, headers from [`HEADER_NAMES`] with arbitrary
/// values, and a body.
///
/// Layout: `now: i64 LE | flags: u8 | count: u8 | count × (name: u8 | len: u16 LE | value) | body`.
/// A name byte picks `HEADER_NAMES[byte % len]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The receiver's clock, unix seconds.
    pub now: i64,
    /// Bit 0: also run `explain`, for the case numbered by bits 2 to 7. Bit 1: read headers
    /// through an `http::HeaderMap` (values it refuses are left out) instead of a slice of pairs.
    pub flags: u8,
    /// Header names and raw values, in order.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

/// [`Delivery::flags`]: run `explain` too.
pub const FLAG_EXPLAIN: u8 = 1;
/// [`Delivery::flags`]: read headers through an `http::HeaderMap`.
pub const FLAG_HEADER_MAP: u8 = 2;

impl Delivery {
    /// Reads any bytes as a delivery.
    pub fn decode(data: &[u8]) -> Self {
        let mut reader = Reader { rest: data };
        let now = reader.i64();
        let flags = reader.u8();
        let count = reader.u8();
        let mut headers = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let name = HEADER_NAMES[usize::from(reader.u8()) % HEADER_NAMES.len()];
            let len = usize::from(reader.u16());
            headers.push((name, reader.take(len).to_vec()));
        }
        Self { now, flags, headers, body: reader.rest.to_vec() }
    }

    /// The bytes [`Delivery::decode`] reads back as `self`. Headers whose name is not in
    /// [`HEADER_NAMES`] are left out; values are cut at 65,535 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let known: Vec<(u8, &[u8])> = self
            .headers
            .iter()
            .filter_map(|(name, value)| Some((header_index(name)?, &value[..value.len().min(usize::from(u16::MAX))])))
            .take(usize::from(u8::MAX))
            .collect();
        let mut out = Vec::new();
        out.extend_from_slice(&self.now.to_le_bytes());
        out.push(self.flags);
        out.push(u8::try_from(known.len()).unwrap_or(u8::MAX));
        for (index, value) in known {
            out.push(index);
            out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&self.body);
        out
    }
}

/// One signature header's value and a body, for the per-format targets.
///
/// Layout: `now: i64 LE | len: u16 LE | value | body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput {
    /// The receiver's clock, unix seconds.
    pub now: i64,
    /// The signature header's raw value.
    pub value: Vec<u8>,
    /// The body.
    pub body: Vec<u8>,
}

impl SignatureInput {
    /// Reads any bytes as a signature input.
    pub fn decode(data: &[u8]) -> Self {
        let mut reader = Reader { rest: data };
        let now = reader.i64();
        let len = usize::from(reader.u16());
        let value = reader.take(len).to_vec();
        Self { now, value, body: reader.rest.to_vec() }
    }

    /// The bytes [`SignatureInput::decode`] reads back as `self` (the value cut at 65,535 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let value = &self.value[..self.value.len().min(usize::from(u16::MAX))];
        let mut out = Vec::new();
        out.extend_from_slice(&self.now.to_le_bytes());
        out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(value);
        out.extend_from_slice(&self.body);
        out
    }
}
