//! Hostile HTTP input against any Botdog receiver, over real loopback: what a scanner, a broken
//! proxy or an attacker sends. Every check ends by proving the receiver still answers a valid
//! delivery.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::conformance::BotdogReceiver;
use super::http_client::send_complete;

impl BotdogReceiver {
    fn head(&self, content_length: usize, extra: &[u8]) -> Vec<u8> {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n",
            self.path, self.addr
        )
        .into_bytes();
        head.extend_from_slice(extra);
        head.extend_from_slice(b"\r\n");
        head
    }

    fn still_answers(&self, after: &str) {
        let id = format!("alive_{}", after.replace(' ', "_"));
        let body = Self::valid_body(&id, "LEAD_PROFILE_VISITED");
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let response = self.send(&body, i64::try_from(t).unwrap_or(0), &self.secret);
        assert!((200..300).contains(&response.status), "no valid answer after {after}: {response:?}");
    }

    /// Every hostile-input check, for a receiver whose read timeout is `read_timeout`: hostile
    /// headers, a lying 10 MB `Content-Length`, a trickling body, and 1,000 idle connections while
    /// 20 valid deliveries are answered. Returns how long those 20 deliveries took.
    ///
    /// # Panics
    ///
    /// On the first check that fails, naming it.
    pub fn check_hostile_input(&self, read_timeout: Duration) -> Duration {
        self.check_hostile_headers();
        self.check_oversized_declared_length();
        self.check_trickle_is_cut(read_timeout);
        self.check_idle_connections_do_not_block(1_000, 20)
    }

    /// Non-ASCII and control bytes in the signature header and in other headers, and 100
    /// signature headers: refused with a 400-class answer (the HTTP parser's own 400, or the status
    /// table's), never a 2xx, never a crash.
    ///
    /// # Panics
    ///
    /// On a 2xx, a 5xx, or a receiver that stops answering.
    pub fn check_hostile_headers(&self) {
        let body = Self::valid_body("hostile_1", "LEAD_PROFILE_VISITED");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("non-ASCII signature", b"X-Webhook-Signature: t=1,s=\xff\xfe\xfd\x80\x81\r\n".to_vec()),
            ("non-ASCII other header", b"X-Webhook-Signature: t=1,s=00\r\nX-Trace: \xc3\x28\xa0\xa1\r\n".to_vec()),
            ("control bytes", b"X-Webhook-Signature: t=1\x01,s=\x7f00\r\n".to_vec()),
            (
                "100 signature headers",
                (0..100).flat_map(|n| format!("X-Webhook-Signature: t=1,s={n:064x}\r\n").into_bytes()).collect(),
            ),
        ];
        for (name, extra) in cases {
            let mut request = self.head(body.len(), &extra);
            request.extend_from_slice(&body);
            match send_complete(self.addr, &request) {
                Ok(response) => {
                    assert!((400..500).contains(&response.status), "{name}: expected a 4xx, got {response:?}")
                }
                // An HTTP parser may close the connection on bytes it refuses: acceptable.
                Err(error) => assert!(
                    matches!(error.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset),
                    "{name}: {error}"
                ),
            }
            self.still_answers(name);
        }
    }

    /// A declared 10 MB body with only a few bytes sent: refused with 413 at once (before reading
    /// or waiting for the rest), whatever the client does next.
    ///
    /// # Panics
    ///
    /// When the answer is not 413 within 5 s.
    pub fn check_oversized_declared_length(&self) {
        let mut request = self.head(10_000_000, b"X-Webhook-Signature: t=1,s=00\r\n");
        request.extend_from_slice(b"{\"id\":");
        let started = Instant::now();
        // The client does not close: it is still "sending" the rest as far as the server knows.
        let response = send_complete(self.addr, &request);
        assert_eq!(response.map(|r| r.status).ok(), Some(413), "10 MB Content-Length with a short body");
        assert!(started.elapsed() < Duration::from_secs(5), "413 took {:?}", started.elapsed());
        self.still_answers("10 MB content-length");
    }

    /// A body trickling 1 byte per second: the receiver must stop reading after its read
    /// timeout (`read_timeout`, as configured in the receiver) and free the connection: answer
    /// (400 `body_unreadable`) or close within `read_timeout + 3 s`.
    ///
    /// # Panics
    ///
    /// When the connection is still open and unanswered past that, or answered 2xx.
    pub fn check_trickle_is_cut(&self, read_timeout: Duration) {
        let Ok(mut stream) = TcpStream::connect(self.addr) else { panic!("connect to {}", self.addr) };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let started = Instant::now();
        let head = self.head(1_000, b"X-Webhook-Signature: t=1,s=00\r\n");
        let _ = stream.write_all(&head);
        let deadline = read_timeout + Duration::from_secs(3);
        let mut raw = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut next_byte = Instant::now();
        let freed = loop {
            // One byte a second, as long as the server lets us.
            if Instant::now() >= next_byte {
                if stream.write_all(b" ").is_err() {
                    break true;
                }
                next_byte += Duration::from_secs(1);
            }
            match stream.read(&mut buffer) {
                Ok(0) => break true,
                Ok(n) => raw.extend_from_slice(&buffer[..n]),
                Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                }
                Err(_) => break true,
            }
            if started.elapsed() > deadline {
                break false;
            }
        };
        assert!(freed, "a trickling body held the connection for more than {deadline:?}");
        if let Some(status) = std::str::from_utf8(&raw).ok().and_then(|text| text.get(9..12)) {
            assert!(!status.starts_with('2'), "a trickled body was accepted: {}", String::from_utf8_lossy(&raw));
        }
        self.still_answers("a trickling body");
    }

    /// `idle` connections opened and left silent while valid deliveries are sent: every delivery
    /// is answered. Returns how long the deliveries took.
    ///
    /// # Panics
    ///
    /// When connections cannot be opened or a delivery is not answered with a 2xx.
    pub fn check_idle_connections_do_not_block(&self, idle: usize, deliveries: usize) -> Duration {
        let connections: Vec<TcpStream> = (0..idle)
            .map(|n| TcpStream::connect(self.addr).unwrap_or_else(|error| panic!("idle connection {n}: {error}")))
            .collect();
        let started = Instant::now();
        for n in 0..deliveries {
            self.still_answers(&format!("{idle} idle connections {n}"));
        }
        let took = started.elapsed();
        for connection in connections {
            let _ = connection.shutdown(Shutdown::Both);
        }
        took
    }
}
