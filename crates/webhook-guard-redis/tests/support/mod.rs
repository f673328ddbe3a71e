//! Test support: a real `redis-server` on a free loopback port (from the test-support crate), a
//! proxy that counts the requests a client sends, and signed Botdog deliveries.
#![allow(dead_code, unreachable_pub)]

use http_body_util::Full;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use webhook_guard::providers::{AnyProvider, Botdog};
use webhook_guard::testing::Signer;
use webhook_guard::{ClaimHandle, Dedup, Guard};
use webhook_guard::{RejectionKind, Verifier};

pub use webhook_guard_test_support::redis_server::RedisServer;

/// What these tests read from their server beside the store.
pub trait RedisInspect {
    /// A plain (synchronous) connection, for inspecting the server beside the store.
    fn connection(&self) -> redis::Connection;
    /// A field of `INFO {section}`, e.g. `("commandstats", "cmdstat_evalsha")`.
    fn info_field(&self, section: &str, field: &str) -> Option<String>;
    /// How many times the server ran `command` (lowercase, e.g. `"set"`) sent by a client.
    fn calls(&self, command: &str) -> u64;
    /// How many times the server ran EVALSHA sent by a client.
    fn evalsha_calls(&self) -> u64 {
        self.calls("evalsha")
    }
}

impl RedisInspect for RedisServer {
    fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url()).unwrap().get_connection().unwrap()
    }

    fn info_field(&self, section: &str, field: &str) -> Option<String> {
        let info: String = redis::cmd("INFO").arg(section).query(&mut self.connection()).unwrap();
        info.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':')).map(str::to_owned)
    }

    fn calls(&self, command: &str) -> u64 {
        self.info_field("commandstats", &format!("cmdstat_{command}"))
            .and_then(|stats| stats.strip_prefix("calls=")?.split(',').next()?.parse().ok())
            .unwrap_or(0)
    }
}

/// What a [`CountingProxy`] runs before it forwards request number `n` (counted from 1, over
/// every connection): the test's chance to act between two requests of a client.
pub type BeforeRequest = Arc<dyn Fn(u64) + Send + Sync>;

/// A TCP proxy to a Redis server that counts the requests (RESP arrays) clients send through it:
/// each request is one round trip.
#[derive(Debug)]
pub struct CountingProxy {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
}

impl CountingProxy {
    /// Proxies `127.0.0.1:{upstream}` on a free loopback port, until the runtime stops.
    pub async fn start(upstream: u16) -> Self {
        Self::start_with(upstream, Arc::new(|_| {})).await
    }

    /// As [`start`](Self::start), running `before` ahead of forwarding each request (blocking the
    /// proxy meanwhile: run it on a multi-thread runtime).
    pub async fn start_with(upstream: u16, before: BeforeRequest) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else { continue };
                let (counter, before) = (Arc::clone(&counter), Arc::clone(&before));
                tokio::spawn(async move {
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream = async {
                        let (mut parser, mut buffer) = (RequestCounter::default(), vec![0u8; 16 * 1024]);
                        loop {
                            let read = client_read.read(&mut buffer).await?;
                            if read == 0 {
                                return server_write.shutdown().await;
                            }
                            // Counted before it is forwarded, so before its answer can arrive.
                            let new = parser.feed(&buffer[..read]);
                            let first = counter.fetch_add(new, Ordering::SeqCst) + 1;
                            (first..first + new).for_each(|n| before(n));
                            server_write.write_all(&buffer[..read]).await?;
                        }
                    };
                    let downstream = tokio::io::copy(&mut server_read, &mut client_write);
                    let _ = tokio::join!(upstream, downstream);
                });
            }
        });
        Self { addr, requests }
    }

    /// The url to connect to instead of the server's.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Requests sent through the proxy so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Counts RESP requests (`*N\r\n` then N bulk strings `$len\r\n...\r\n`) in a byte stream.
#[derive(Debug, Default)]
struct RequestCounter {
    line: Vec<u8>,
    skip: usize,
}

impl RequestCounter {
    fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let mut requests = 0;
        while !bytes.is_empty() {
            if self.skip > 0 {
                let skipped = self.skip.min(bytes.len());
                (bytes, self.skip) = (&bytes[skipped..], self.skip - skipped);
                continue;
            }
            let Some(end) = bytes.iter().position(|byte| *byte == b'\n') else {
                self.line.extend_from_slice(bytes);
                break;
            };
            self.line.extend_from_slice(&bytes[..=end]);
            bytes = &bytes[end + 1..];
            let line = std::mem::take(&mut self.line);
            let number = || std::str::from_utf8(&line[1..line.len() - 2]).unwrap().parse::<usize>().unwrap();
            match line[0] {
                b'*' => requests += 1,
                b'$' => self.skip = number() + 2,
                other => panic!("not a RESP request: starts with {:?}", char::from(other)),
            }
        }
        requests
    }
}

pub const SECRET: &str = "redis-dedup-test-secret";

pub fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A Botdog guard with `dedup`.
pub fn guard(dedup: Dedup) -> Guard<Botdog> {
    let verifier = Verifier::builder(Botdog::new()).secret(SECRET).build().unwrap();
    Guard::new(verifier).with_dedup(dedup).unwrap()
}

/// Headers and body of a signed Botdog delivery with id `id`.
pub fn delivery(id: &str) -> (Vec<(String, String)>, Bytes) {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[SECRET]).unwrap());
    let body = format!(r#"{{"id":"{id}","eventType":"LEAD_PROFILE_VISITED","timestamp":"2026-11-20T10:15:30Z"}}"#);
    (signer.sign_delivery(body.as_bytes(), now(), "", None).headers, Bytes::from(body))
}

/// Delivers `id` to `guard`: its claim, or the kind of rejection.
pub async fn admit(guard: &Guard<Botdog>, id: &str) -> Result<ClaimHandle, RejectionKind> {
    let (headers, body) = delivery(id);
    match guard.admit_body(&headers, Full::new(body)).await {
        Ok(admitted) => Ok(admitted.claim.expect("dedup is on")),
        Err(rejection) => Err(rejection.kind()),
    }
}
