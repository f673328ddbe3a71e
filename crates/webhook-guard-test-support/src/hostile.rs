//! Hostile HTTP input against any Botdog receiver, over real loopback: what a scanner, a broken
//! proxy or an attacker sends. Every check ends by proving the receiver still answers a valid
//! delivery.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use webhook_guard::DISCARD_MAX_TIME;

use crate::conformance::BotdogReceiver;
use crate::http_client::{HttpResponse, read_response, send_complete};

/// The oversized body a client writes whole before reading: 3 MiB, twelve times the default limit,
/// the size at which Python's `http.client` got a broken pipe from every hyper-based receiver.
const OVERSIZED_BODY: usize = 3 * 1024 * 1024;

/// The body of a client that does not stop: 64 MiB, sixteen times the most webhook-guard discards
/// after a refusal ([`DISCARD_MAX_BYTES`](webhook_guard::DISCARD_MAX_BYTES)).
const ENDLESS_BODY: usize = 64 * 1024 * 1024;

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

    /// A request head as Python's `http.client` writes it: no `Connection` header (so keep-alive),
    /// and the body framed by `framing` (one or more header lines without their final CRLF).
    fn keep_alive_head(&self, framing: &str) -> Vec<u8> {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{framing}\r\nX-Webhook-Signature: t=1,s=00\r\n\r\n",
            self.path, self.addr
        )
        .into_bytes()
    }

    /// A whole keep-alive request, its body framed by `Content-Length` or chunked in 64 KiB chunks.
    fn keep_alive_request(&self, body: &[u8], chunked: bool) -> Vec<u8> {
        if !chunked {
            let mut request = self.keep_alive_head(&format!("Content-Length: {}", body.len()));
            request.extend_from_slice(body);
            return request;
        }
        let mut request = self.keep_alive_head("Transfer-Encoding: chunked");
        request.extend_from_slice(&crate::http_client::chunked(body));
        request
    }

    /// A connection to the receiver, with 10 s read and write timeouts.
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).unwrap_or_else(|error| panic!("connect to {}: {error}", self.addr));
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        stream
    }

    fn still_answers(&self, after: &str) {
        let id = format!("alive_{}", after.replace(' ', "_"));
        let body = Self::valid_body(&id, "LEAD_PROFILE_VISITED");
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let response = self.send(&body, i64::try_from(t).unwrap_or(0), &self.secret);
        assert!((200..300).contains(&response.status), "no valid answer after {after}: {response:?}");
    }

    /// Every hostile-input check every receiver passes, for a receiver whose read timeout is
    /// `read_timeout`: hostile headers, a lying 10 MB `Content-Length`, oversized bodies written
    /// whole before reading (and one announced with `Expect: 100-continue`), a trickling body, and
    /// 1,000 idle connections while 20 valid deliveries are answered. Returns how long those 20
    /// deliveries took. ([`check_endless_body_is_cut`](Self::check_endless_body_is_cut) is apart:
    /// it writes up to 64 MiB per case as fast as the receiver reads.)
    ///
    /// # Panics
    ///
    /// On the first check that fails, naming it.
    pub fn check_hostile_input(&self, read_timeout: Duration) -> Duration {
        self.check_hostile_headers();
        self.check_oversized_declared_length();
        self.check_oversized_body_written_first();
        self.check_oversized_body_expecting_continue();
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

    /// A 3 MiB body, with a `Content-Length` and then chunked, written whole before the client
    /// reads anything, as Python's `http.client` and many SDKs do: the client must be able to write
    /// it all and then read the 413 `body_too_large` answer, and when that answer says
    /// `Connection: close` the receiver must then close within [`DISCARD_MAX_TIME`] plus 1 s. A
    /// receiver that refuses the body early and closes while the client is still writing gives it a
    /// broken pipe instead.
    ///
    /// The body goes 64 KiB a millisecond, the pace of a fast network: at loopback's own pace the
    /// kernel's socket buffers may swallow megabytes before the receiver's reset arrives, and
    /// whether the write fails would depend on their size. Returns the two answers.
    ///
    /// # Panics
    ///
    /// When the client cannot write its request or does not read that answer.
    pub fn check_oversized_body_written_first(&self) -> Vec<HttpResponse> {
        let body = vec![b' '; OVERSIZED_BODY];
        let mut answers = Vec::new();
        for (name, chunked) in [("a 3 MiB body with Content-Length", false), ("a 3 MiB chunked body", true)] {
            let name = format!("{name} written before reading");
            let request = self.keep_alive_request(&body, chunked);
            let mut stream = self.connect();
            for piece in request.chunks(64 * 1024) {
                if let Err(error) = stream.write_all(piece) {
                    panic!("{name}: the receiver closed the connection before the request was written: {error}");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let response = read_response(&mut stream, &mut Vec::new())
                .unwrap_or_else(|error| panic!("{name}: no answer read: {error}"));
            assert_eq!(response.status, 413, "{name}: {response:?}");
            assert_eq!(response.json()["error"], "body_too_large", "{name}: {response:?}");
            if response.header("connection").is_some_and(|value| value.eq_ignore_ascii_case("close")) {
                assert_closes(stream, &name);
            }
            self.still_answers(&name);
            answers.push(response);
        }
        answers
    }

    /// A 3 MiB `Content-Length` announced with `Expect: 100-continue` (curl does this for large
    /// bodies): answered 413 `body_too_large`, either at once (the body is never sent) or, when the
    /// receiver answers `100 Continue`, after the client has sent the body. Returns every answer,
    /// `100 Continue` included.
    ///
    /// # Panics
    ///
    /// When the final answer is not that 413.
    pub fn check_oversized_body_expecting_continue(&self) -> Vec<HttpResponse> {
        let name = "a 3 MiB body announced with Expect: 100-continue";
        let head = self.keep_alive_head(&format!("Content-Length: {OVERSIZED_BODY}\r\nExpect: 100-continue"));
        let mut stream = self.connect();
        let mut buffered = Vec::new();
        let mut answers = Vec::new();
        let exchange = stream.write_all(&head).and_then(|()| {
            answers.push(read_response(&mut stream, &mut buffered)?);
            if answers.iter().all(|answer| answer.status == 100) {
                stream.write_all(&vec![b' '; OVERSIZED_BODY])?;
                answers.push(read_response(&mut stream, &mut buffered)?);
            }
            Ok(())
        });
        if let Err(error) = exchange {
            panic!("{name}: no answer read: {error} (answers so far: {answers:?})");
        }
        let last = answers.last().map(|answer| (answer.status, answer.json()["error"].clone()));
        assert_eq!(last, Some((413, "body_too_large".into())), "{name}: {answers:?}");
        self.still_answers(name);
        answers
    }

    /// Clients that do not stop: a declared 64 MiB body written as fast as the receiver reads, the
    /// same written at 512 KiB/s, and a chunked body written as fast. The receiver may read on for
    /// a while after refusing it (so that a client writing its whole body first can read the 413),
    /// but must close the connection within [`DISCARD_MAX_TIME`] plus 2 s and before it has read
    /// the 64 MiB.
    ///
    /// # Panics
    ///
    /// When a connection is still open past that, or the whole body was read.
    pub fn check_endless_body_is_cut(&self) {
        let within = DISCARD_MAX_TIME + Duration::from_secs(2);
        let spaces = vec![b' '; 16 * 1024];
        let mut chunk = format!("{:x}\r\n", spaces.len()).into_bytes();
        chunk.extend_from_slice(&spaces);
        chunk.extend_from_slice(b"\r\n");
        let cases = [
            ("a 64 MiB body written fast", false, None),
            ("a 64 MiB body written at 512 KiB/s", false, Some(Duration::from_millis(32))),
            ("a 64 MiB chunked body written fast", true, None),
        ];
        for (name, chunked, pace) in cases {
            let (head, piece) = if chunked {
                (self.keep_alive_head("Transfer-Encoding: chunked"), &chunk)
            } else {
                (self.keep_alive_head(&format!("Content-Length: {ENDLESS_BODY}")), &spaces)
            };
            let (written, took) = self.write_until_closed(&head, piece, pace, within);
            assert!(written < ENDLESS_BODY, "{name}: the receiver read all of it ({written} bytes) in {took:?}");
            assert!(took < within, "{name}: the connection was still open after {took:?} ({written} bytes written)");
            self.still_answers(name);
        }
    }

    /// Writes `head`, then `piece` over and over (one every `pace`, or as fast as the receiver
    /// reads) until the receiver closes the connection, [`ENDLESS_BODY`] bytes were written or
    /// `give_up` has passed. Returns the body bytes written and the time taken.
    fn write_until_closed(
        &self,
        head: &[u8],
        piece: &[u8],
        pace: Option<Duration>,
        give_up: Duration,
    ) -> (usize, Duration) {
        let mut stream = self.connect();
        if let Err(error) = stream.write_all(head) {
            panic!("writing the head: {error}");
        }
        // Short writes: the receiver's closing shows as a failed write, whatever it answered.
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let started = Instant::now();
        let (mut written, mut offset) = (0, 0);
        while written < ENDLESS_BODY && started.elapsed() < give_up {
            match stream.write(&piece[offset..]) {
                Ok(0) => break,
                Ok(n) => {
                    written += n;
                    offset = (offset + n) % piece.len();
                }
                Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                }
                Err(_) => break,
            }
            if let Some(pace) = pace {
                std::thread::sleep(pace);
            }
        }
        (written, started.elapsed())
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

/// After an answer that said `Connection: close`, the receiver closes the connection (reading and
/// discarding the rest of the request for at most [`DISCARD_MAX_TIME`]).
fn assert_closes(mut stream: TcpStream, name: &str) {
    let within = DISCARD_MAX_TIME + Duration::from_secs(1);
    let _ = stream.set_read_timeout(Some(within));
    let started = Instant::now();
    let mut rest = [0u8; 1024];
    let closed = loop {
        match stream.read(&mut rest) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(error) if matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                break false;
            }
            // A reset closes it too.
            Err(_) => break true,
        }
    };
    let took = started.elapsed();
    assert!(closed, "{name}: the answer said Connection: close, the connection was still open after {took:?}");
}
