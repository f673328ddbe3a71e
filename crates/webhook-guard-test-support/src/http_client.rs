//! A small, real HTTP/1.1 client over `std::net::TcpStream`, for tests of receivers over loopback.
//!
//! It speaks just enough HTTP to test webhook receivers, including the requests a well-behaved
//! client library refuses to send: a body that stops halfway, a `Content-Length` that lies, raw
//! header bytes. Every request asks the server to close the connection, so a response is read to
//! the end of the stream; [`read_response`] reads one response by its framing instead, for tests
//! that keep the connection open (`Expect: 100-continue`, keep-alive clients).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// A response as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lowercased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// POSTs `body` to `http://{addr}{path}` with `headers` (plus `Host`, `Content-Length` and
/// `Connection: close`).
///
/// # Errors
///
/// Connection, I/O (10 s timeouts) or response-parsing failures.
pub fn post(addr: SocketAddr, path: &str, headers: &[(String, String)], body: &[u8]) -> io::Result<HttpResponse> {
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("content-length") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    send_complete(addr, &request)
}

/// Writes a complete `request` as is and reads the response to the end of the stream, without
/// half-closing: hyper's HTTP/1 server (and so `axum::serve`, which cannot enable `half_close`)
/// drops a connection whose read side ends before its response is written, and real senders never
/// half-close. Use [`send_raw`] for a request that must look cut off.
///
/// # Errors
///
/// Connection or I/O failures, a response that is not HTTP/1.1, or none at all.
pub fn send_complete(addr: SocketAddr, request: &[u8]) -> io::Result<HttpResponse> {
    exchange(addr, request, None)
}

/// Writes `request` as is, then shuts down `after` (usually [`Shutdown::Write`], which tells the
/// server no more bytes are coming: a body shorter than its `Content-Length` stops there), and
/// reads the response to the end of the stream.
///
/// # Errors
///
/// Connection or I/O failures, a response that is not HTTP/1.1, or none at all.
pub fn send_raw(addr: SocketAddr, request: &[u8], after: Shutdown) -> io::Result<HttpResponse> {
    exchange(addr, request, Some(after))
}

fn exchange(addr: SocketAddr, request: &[u8], after: Option<Shutdown>) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    // A server may answer (413) and close before reading everything: a failed write is not the
    // end of the story, the response may be waiting.
    let written = stream.write_all(request);
    if let Some(after) = after {
        let _ = stream.shutdown(after);
    }
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        written?;
        read?;
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no response"));
    }
    parse_response(&raw)
}

/// Reads one response from `stream`, starting with the bytes already in `buffered`, and removes
/// them from it: an interim `100 Continue` is a response of its own. Reads to the end of the body
/// as framed by `Content-Length` or chunked encoding, or to the end of the stream.
///
/// # Errors
///
/// I/O failures, a response that is not HTTP/1.1, or a stream that ends before the response does.
pub fn read_response(stream: &mut impl Read, buffered: &mut Vec<u8>) -> io::Result<HttpResponse> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some((response, len)) = parse_framed_response(buffered)? {
            buffered.drain(..len);
            return Ok(response);
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            // The end of the stream ends a response that has neither length nor chunks.
            let response = parse_response(buffered)?;
            buffered.clear();
            return Ok(response);
        }
        buffered.extend_from_slice(&chunk[..read]);
    }
}

/// A response whose end is known from its framing, and its length in `raw`; `None` while more
/// bytes are needed (or only the end of the stream can end it).
fn parse_framed_response(raw: &[u8]) -> io::Result<Option<(HttpResponse, usize)>> {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(None) };
    let (status, headers) = parse_head(&raw[..end])?;
    let rest = &raw[end + 4..];
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let (body, len) = if (100..200).contains(&status) || status == 204 || status == 304 {
        (Vec::new(), 0)
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let Some(dechunked) = dechunk(rest) else { return Ok(None) };
        dechunked
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        let Some(body) = rest.get(..length) else { return Ok(None) };
        (body.to_vec(), length)
    } else {
        return Ok(None);
    };
    Ok(Some((HttpResponse { status, headers, body }, end + 4 + len)))
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let (status, headers) = parse_head(&raw[..end])?;
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(rest).ok_or_else(|| bad("bad chunked body"))?.0 } else { rest.to_vec() };
    Ok(HttpResponse { status, headers, body })
}

fn parse_head(raw: &[u8]) -> io::Result<(u16, Vec<(String, String)>)> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let head = std::str::from_utf8(raw).map_err(|_| bad("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok((status, headers))
}

/// `body` in HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), in chunks of 64 KiB, with the last
/// (empty) chunk: what follows a `Transfer-Encoding: chunked` head.
pub fn chunked(body: &[u8]) -> Vec<u8> {
    let mut coded = Vec::with_capacity(body.len() + body.len() / 1024 + 16);
    for chunk in body.chunks(64 * 1024) {
        coded.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        coded.extend_from_slice(chunk);
        coded.extend_from_slice(b"\r\n");
    }
    coded.extend_from_slice(b"0\r\n\r\n");
    coded
}

/// The body of a chunked message and how many bytes of `rest` it took, up to the empty line that
/// ends it; `None` when incomplete or malformed.
fn dechunk(rest: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + rest[at..].windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[at..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // No trailers are expected: the empty line that ends the message.
            return rest[at..].starts_with(b"\r\n").then_some((body, at + 2));
        }
        body.extend_from_slice(rest.get(at..at + size)?);
        at += size + 2;
        rest.get(..at)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_coding_round_trips_and_ends_with_the_last_chunk() {
        let body: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        let coded = chunked(&body);
        assert!(coded.starts_with(b"10000\r\n") && coded.ends_with(b"0\r\n\r\n"));
        assert_eq!(dechunk(&coded), Some((body, coded.len())));
        assert_eq!(chunked(b""), b"0\r\n\r\n");
    }

    #[test]
    fn responses_are_parsed_plain_and_chunked() {
        let plain =
            parse_response(b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n{\"a\":1}").unwrap();
        assert_eq!(plain.status, 401);
        assert_eq!(plain.header("Content-Type"), Some("application/json"));
        assert_eq!(plain.json()["a"], 1);
        let chunked =
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(chunked.body, b"abcde");
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn responses_are_read_one_at_a_time_by_their_framing() {
        let raw: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}\
HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        // One byte at a time: every response must wait for its own end.
        let mut reader = OneByteAtATime(raw);
        let mut buffered = Vec::new();
        assert_eq!(read_response(&mut reader, &mut buffered).unwrap().status, 100);
        let too_large = read_response(&mut reader, &mut buffered).unwrap();
        assert_eq!((too_large.status, &too_large.body[..]), (413, &b"{}"[..]));
        let chunked = read_response(&mut reader, &mut buffered).unwrap();
        assert_eq!((chunked.status, &chunked.body[..]), (200, &b"abc"[..]));
        assert_eq!(read_response(&mut reader, &mut buffered).unwrap().status, 204);
        assert!(buffered.is_empty());
        assert!(read_response(&mut reader, &mut buffered).is_err(), "nothing left");
    }

    struct OneByteAtATime<'a>(&'a [u8]);

    impl Read for OneByteAtATime<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buffer.first_mut()) {
                (Some((byte, rest)), Some(slot)) => {
                    *slot = *byte;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn a_real_exchange_over_loopback() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The client does not half-close: read up to the end of the body it declared.
            let (mut request, mut buffer) = (Vec::new(), [0; 1024]);
            while !request.ends_with(b"\r\n\r\n{}") {
                let read = stream.read(&mut buffer).unwrap();
                assert!(read > 0, "the client closed early");
                request.extend_from_slice(&buffer[..read]);
            }
            stream.write_all(b"HTTP/1.1 204 No Content\r\nx-seen: yes\r\n\r\n").unwrap();
            request
        });
        let response = post(addr, "/hook", &[("X-Sig".to_owned(), "v".to_owned())], b"{}").unwrap();
        assert_eq!(response.status, 204);
        assert_eq!(response.header("x-seen"), Some("yes"));
        let request = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("\r\nX-Sig: v\r\n") && request.contains("\r\nContent-Length: 2\r\n"));
        assert!(request.ends_with("\r\n\r\n{}"));
    }
}
