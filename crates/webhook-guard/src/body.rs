//! Reading a request body under a limit, decided while reading.
//!
//! A `Content-Length` over the limit is refused before a byte is read; a body without one (chunked)
//! is cut as soon as the bytes received pass the limit. Memory per request is bounded by the limit
//! whatever the client sends. Every adapter reads bodies through [`BodyCollector`]: tower and axum
//! through [`collect_or_discard`], actix through its payload stream.
//!
//! # After a refusal: reading on, for a while, before closing
//!
//! Many clients (Python's `http.client`, most SDKs) write their whole request before reading a
//! byte of the response. A server that refuses a body early and closes the connection while such a
//! client is still writing makes its kernel answer the client's next bytes with a reset: the client
//! sees a broken pipe, never the 413. nginx faces the same problem and answers it with its
//! "lingering close" (`lingering_close`, `lingering_time`, `lingering_timeout`,
//! <https://nginx.org/en/docs/http/ngx_http_core_module.html#lingering_close>): after the
//! response it keeps reading and discarding what the client sends, for at most `lingering_time`
//! (30 s) in all and `lingering_timeout` (5 s) between reads, then closes. [`discard_body`](discard::discard_body) does
//! the same for a refused body, with tighter bounds because a webhook sender is a server on a good
//! network, not a browser on a phone: at most [`DISCARD_MAX_BYTES`], [`DISCARD_MAX_TIME`] in all and
//! [`DISCARD_IDLE_TIMEOUT`] between reads. A client sending more, or slower, than that gets the
//! reset it would have got anyway, and the server's cost per refused request stays bounded.
//! Nothing is kept: every chunk is dropped as it arrives. [`collect_or_discard`] runs it in the
//! background after a refusal, so the 413 is written at once while the rest is read.

use std::future::Future;
use std::pin::Pin;

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

use crate::error::{VerifyError, VerifyErrorKind};
use crate::headers::HeaderSource;

mod discard;

use self::discard::discard_in_background;
pub use self::discard::{DISCARD_IDLE_TIMEOUT, DISCARD_MAX_BYTES, DISCARD_MAX_TIME, DiscardBudget, DiscardCut};

/// Accumulates a body's chunks, refusing to grow past a limit.
pub(crate) struct BodyCollector {
    limit: usize,
    /// The declared length, trusted up to the limit: reserved when the first chunk is copied.
    expected: usize,
    buffer: BytesMut,
}

impl std::fmt::Debug for BodyCollector {
    /// The sizes only: a body holds the sender's (often personal) data, and a secret-in-body
    /// delivery (Breakcold legacy) the shared secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyCollector").field("limit", &self.limit).field("len", &self.buffer.len()).finish()
    }
}

impl BodyCollector {
    /// Starts collecting a body of at most `limit` bytes.
    ///
    /// # Errors
    ///
    /// [`BodyTooLarge`](crate::VerifyErrorKind::BodyTooLarge) when the declared `content_length`
    /// is already over the limit.
    pub(crate) fn new(limit: usize, content_length: Option<u64>) -> Result<Self, VerifyError> {
        let declared = content_length.map(|length| usize::try_from(length).unwrap_or(usize::MAX));
        if declared.is_some_and(|length| length > limit) {
            return Err(VerifyError::too_large(limit));
        }
        // Trust a declared length only up to the limit; grow as bytes arrive otherwise. Nothing is
        // allocated yet: most bodies arrive as one frame, kept without a copy (`collect_frames`).
        let expected = declared.unwrap_or(0).min(limit);
        Ok(Self { limit, expected, buffer: BytesMut::new() })
    }

    /// Whether nothing was pushed yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Refuses a chunk of `len` bytes that would take the body past the limit.
    pub(crate) fn check_room(&self, len: usize) -> Result<(), VerifyError> {
        if len > self.limit - self.buffer.len() { Err(VerifyError::too_large(self.limit)) } else { Ok(()) }
    }

    /// Adds a chunk.
    ///
    /// # Errors
    ///
    /// [`BodyTooLarge`](crate::VerifyErrorKind::BodyTooLarge) when the body would pass the limit;
    /// the chunk is not kept.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), VerifyError> {
        if chunk.len() > self.limit - self.buffer.len() {
            return Err(VerifyError::too_large(self.limit));
        }
        if self.buffer.capacity() == 0 {
            self.buffer.reserve(self.expected.max(chunk.len()));
        }
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body.
    pub(crate) fn finish(self) -> Bytes {
        self.buffer.freeze()
    }
}

/// The error for a body whose transport failed before its end (the client went away, the
/// connection broke). Adapters that read bodies their own way use it; [`collect_body`] does.
pub(crate) fn read_failed() -> VerifyError {
    VerifyError::unreadable("the connection failed before the body's end")
}

/// The error for a body that was not fully received within the adapter's read timeout (a client
/// trickling bytes holds a connection and a buffer; the timeout frees both).
pub(crate) fn read_timed_out() -> VerifyError {
    VerifyError::unreadable("the body was not received within the read timeout")
}

/// The `Content-Length` of a request, when present, single-valued and a number.
pub(crate) fn content_length<H: HeaderSource + ?Sized>(headers: &H) -> Option<u64> {
    // By its predefined name: a lookup by `&str` parses and lowercases the name on every call.
    let value = crate::headers::single_value_by_name(headers, &http::header::CONTENT_LENGTH).ok()??;
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Reads an `http_body::Body` to its end under `limit`.
///
/// # Errors
///
/// [`BodyTooLarge`](crate::VerifyErrorKind::BodyTooLarge) as soon as the limit is passed (or the
/// declared `content_length` is over it), [`BodyUnreadable`](crate::VerifyErrorKind::BodyUnreadable)
/// when the body fails before its end.
pub(crate) async fn collect_body<B>(body: B, limit: usize, content_length: Option<u64>) -> Result<Bytes, VerifyError>
where
    B: Body,
{
    let collector = collector_for(&body, limit, content_length)?;
    collect_frames(std::pin::pin!(body), collector).await
}

/// Reads a request's body to its end under `limit`, like [`collect_body`], and when it is refused
/// as too large, reads and discards the rest of it in a background task ([`discard_body`](discard::discard_body)) while
/// the caller answers 413, so that a client that writes its whole body before reading gets that
/// answer (see the [module docs](self#after-a-refusal-reading-on-for-a-while-before-closing)).
/// Such a refusal is answered with `Connection: close` ([`Rejection::ends_connection`](crate::Rejection::ends_connection)).
///
/// A body refused by its declared length before a byte was read is not discarded when the client
/// sent `Expect: 100-continue`: it is waiting for a `100 Continue` that reading would make hyper
/// send, and the 413 tells it not to send the body at all (RFC 9110 §10.1.1). Nor is it
/// discarded outside a Tokio runtime: it is dropped, and the connection closes as it would have.
///
/// # Errors
///
/// As [`collect_body`].
pub(crate) fn collect_or_discard<B, H>(
    body: B,
    limit: usize,
    headers: &H,
) -> impl Future<Output = Result<Bytes, VerifyError>> + Send + use<B, H>
where
    B: Body + Send + 'static,
    H: HeaderSource + ?Sized,
{
    let content_length = content_length(headers);
    let waits_for_continue = crate::headers::single_value_by_name(headers, &http::header::EXPECT)
        .ok()
        .flatten()
        .is_some_and(|value| value.eq_ignore_ascii_case(b"100-continue"));
    async move {
        // Boxed so that what is left of it can move into the task that discards it.
        let mut body = Box::pin(body);
        let collected = match collector_for(&*body, limit, content_length) {
            Ok(collector) => collect_frames(body.as_mut(), collector).await,
            Err(refused) if waits_for_continue => return Err(refused),
            Err(refused) => Err(refused),
        };
        if collected.as_ref().is_err_and(|error| error.kind() == VerifyErrorKind::BodyTooLarge) {
            discard_in_background(body);
        }
        collected
    }
}

/// Starts collecting `body`, refusing it when its declared length or its own size hint (HTTP/2
/// content-length, `Full`) is over `limit`: before a byte is read.
fn collector_for<B: Body + ?Sized>(
    body: &B,
    limit: usize,
    content_length: Option<u64>,
) -> Result<BodyCollector, VerifyError> {
    let collector = BodyCollector::new(limit, content_length)?;
    if usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX) > limit {
        return Err(VerifyError::too_large(limit));
    }
    Ok(collector)
}

async fn collect_frames<B: Body + ?Sized>(
    mut body: Pin<&mut B>,
    mut collector: BodyCollector,
) -> Result<Bytes, VerifyError> {
    // A body that arrives as one frame (a small body on one connection read, hyper's usual case)
    // is kept as the frame's own bytes, not copied; a second frame starts the copy.
    let mut only: Option<Bytes> = None;
    while let Some(frame) = body.frame().await {
        // The error's text is the transport's (it never holds body bytes) but is not needed.
        let frame = frame.map_err(|_| read_failed())?;
        if let Ok(mut data) = frame.into_data() {
            if !data.has_remaining() {
                continue;
            }
            if only.is_none() && collector.is_empty() {
                collector.check_room(data.remaining())?;
                only = Some(data.copy_to_bytes(data.remaining()));
                continue;
            }
            if let Some(first) = only.take() {
                collector.push(&first)?;
            }
            while data.has_remaining() {
                let chunk = data.chunk();
                let len = chunk.len();
                collector.push(chunk)?;
                data.advance(len);
            }
        }
    }
    Ok(only.unwrap_or_else(|| collector.finish()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::discard::tests::CountedBody;
    use super::*;

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let error = BodyCollector::new(10, Some(11)).unwrap_err();
        assert_eq!(error.kind(), VerifyErrorKind::BodyTooLarge);
        assert!(BodyCollector::new(10, Some(10)).is_ok());
        assert!(BodyCollector::new(10, Some(u64::MAX)).is_err());
    }

    #[test]
    fn debug_shows_sizes_never_body_bytes() {
        // A secret-in-body delivery (Breakcold legacy) carries the shared secret in its body.
        let mut collector = BodyCollector::new(64, None).unwrap();
        collector.push(br#"{"secret":"wh_canary_4f9c2a"}"#).unwrap();
        let debug = format!("{collector:?}");
        assert_eq!(debug, "BodyCollector { limit: 64, len: 29 }");
    }

    #[test]
    fn chunks_are_cut_at_the_limit() {
        let mut collector = BodyCollector::new(10, None).unwrap();
        collector.push(b"12345").unwrap();
        collector.push(b"67890").unwrap();
        assert_eq!(collector.push(b"x").unwrap_err().kind(), VerifyErrorKind::BodyTooLarge);
        assert_eq!(collector.finish(), Bytes::from_static(b"1234567890"));
    }

    #[test]
    fn the_declared_length_is_reserved_on_the_first_copy_and_never_past_the_limit() {
        // Nothing is allocated before a chunk is copied: a one-frame body is never copied.
        let collector = BodyCollector::new(1 << 20, Some(5)).unwrap();
        assert_eq!(collector.buffer.capacity(), 0);
        let mut collector = BodyCollector::new(1 << 20, Some(500)).unwrap();
        collector.push(b"ab").unwrap();
        assert!(collector.buffer.capacity() >= 500, "{}", collector.buffer.capacity());
        // A declared length over the limit is refused before anything (above); one under it but
        // larger than what arrives reserves no more than it declared.
        let mut collector = BodyCollector::new(64, Some(8)).unwrap();
        collector.push(b"ab").unwrap();
        assert!(collector.buffer.capacity() < 64, "{}", collector.buffer.capacity());
        let mut collector = BodyCollector::new(64, None).unwrap();
        collector.push(b"ab").unwrap();
        assert!(collector.buffer.capacity() < 64, "{}", collector.buffer.capacity());
    }

    #[test]
    fn http_bodies_are_collected_under_the_limit() {
        let body = http_body_util::Full::new(Bytes::from_static(b"hello"));
        let collected = futures_executor(collect_body(body, 5, None)).unwrap();
        assert_eq!(collected, Bytes::from_static(b"hello"));
        let body = http_body_util::Full::new(Bytes::from_static(b"hello!"));
        let error = futures_executor(collect_body(body, 5, None)).unwrap_err();
        assert_eq!(error.kind(), VerifyErrorKind::BodyTooLarge);
    }

    /// Waits up to a second for `taken` to reach `bytes`.
    async fn eventually_taken(taken: &std::sync::atomic::AtomicU64, bytes: u64) -> u64 {
        for _ in 0..100 {
            if taken.load(std::sync::atomic::Ordering::Relaxed) >= bytes {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        taken.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[tokio::test]
    async fn the_rest_of_a_body_refused_as_too_large_is_discarded_in_the_background() {
        // Chunked: cut at the limit, then read to its end in the background.
        let body = CountedBody::new(1024, 100, None);
        let taken = body.taken();
        let refused = collect_or_discard(body, 10 * 1024, &[("transfer-encoding", "chunked")]).await;
        assert_eq!(refused.unwrap_err().kind(), VerifyErrorKind::BodyTooLarge);
        assert_eq!(eventually_taken(&taken, 100 * 1024).await, 100 * 1024);

        // Refused by its declared length before a byte was read: read in the background too.
        let body = CountedBody::new(1024, 100, None);
        let taken = body.taken();
        let refused = collect_or_discard(body, 10 * 1024, &[("content-length", "102400")]).await;
        assert_eq!(refused.unwrap_err().kind(), VerifyErrorKind::BodyTooLarge);
        assert_eq!(eventually_taken(&taken, 100 * 1024).await, 100 * 1024);
    }

    #[tokio::test]
    async fn a_body_whose_client_waits_for_100_continue_is_not_read_after_a_refusal() {
        let body = CountedBody::new(1024, 100, None);
        let taken = body.taken();
        let headers = [("content-length", "102400"), ("expect", "100-Continue")];
        let refused = collect_or_discard(body, 10 * 1024, &headers).await;
        assert_eq!(refused.unwrap_err().kind(), VerifyErrorKind::BodyTooLarge);
        assert_eq!(eventually_taken(&taken, 1).await, 0, "polling it would send 100 Continue");

        // Within the limit, the body is read as usual.
        let headers = [("content-length", "1024"), ("expect", "100-continue")];
        let collected = collect_or_discard(CountedBody::new(1024, 1, None), 10 * 1024, &headers).await;
        assert_eq!(collected.unwrap().len(), 1024);
    }

    /// Polls a future that never waits (in-memory bodies) to completion.
    fn futures_executor<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }
}
