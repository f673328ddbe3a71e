//! Reading a request body under a limit, decided while reading.
//!
//! A `Content-Length` over the limit is refused before a byte is read; a body without one (chunked)
//! is cut as soon as the bytes received pass the limit. Memory per request is bounded by the limit
//! whatever the client sends. Every adapter reads bodies through [`BodyCollector`]: tower and axum
//! through [`collect_body`], actix through its payload stream.

use bytes::{Buf, Bytes, BytesMut};
use http_body::Body;
use http_body_util::BodyExt;

use crate::error::VerifyError;
use crate::headers::HeaderSource;

/// How long a whole body may take to arrive, by default, in every adapter: 30 s. A client that
/// trickles bytes holds a connection and a buffer; the timeout frees both.
pub const DEFAULT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Accumulates a body's chunks, refusing to grow past a limit.
pub struct BodyCollector {
    limit: usize,
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
    pub fn new(limit: usize, content_length: Option<u64>) -> Result<Self, VerifyError> {
        let declared = content_length.map(|length| usize::try_from(length).unwrap_or(usize::MAX));
        if declared.is_some_and(|length| length > limit) {
            return Err(VerifyError::too_large(limit));
        }
        // Trust a declared length only up to the limit; grow as bytes arrive otherwise.
        let capacity = declared.unwrap_or(0).min(limit);
        Ok(Self { limit, buffer: BytesMut::with_capacity(capacity) })
    }

    /// Adds a chunk.
    ///
    /// # Errors
    ///
    /// [`BodyTooLarge`](crate::VerifyErrorKind::BodyTooLarge) when the body would pass the limit;
    /// the chunk is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), VerifyError> {
        if chunk.len() > self.limit - self.buffer.len() {
            return Err(VerifyError::too_large(self.limit));
        }
        self.buffer.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        self.buffer.freeze()
    }
}

/// The error for a body whose transport failed before its end (the client went away, the
/// connection broke). Adapters that read bodies their own way use it; [`collect_body`] does.
pub fn read_failed() -> VerifyError {
    VerifyError::unreadable("the connection failed before the body's end")
}

/// The error for a body that was not fully received within the adapter's read timeout (a client
/// trickling bytes holds a connection and a buffer; the timeout frees both).
pub fn read_timed_out() -> VerifyError {
    VerifyError::unreadable("the body was not received within the read timeout")
}

/// The `Content-Length` of a request, when present, single-valued and a number.
pub fn content_length<H: HeaderSource + ?Sized>(headers: &H) -> Option<u64> {
    let value = crate::headers::single_value(headers, &["content-length"]).ok()??;
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Reads an `http_body::Body` to its end under `limit`.
///
/// # Errors
///
/// [`BodyTooLarge`](crate::VerifyErrorKind::BodyTooLarge) as soon as the limit is passed (or the
/// declared `content_length` is over it), [`BodyUnreadable`](crate::VerifyErrorKind::BodyUnreadable)
/// when the body fails before its end.
pub async fn collect_body<B>(body: B, limit: usize, content_length: Option<u64>) -> Result<Bytes, VerifyError>
where
    B: Body,
{
    let mut collector = BodyCollector::new(limit, content_length)?;
    // Also refuse a body whose own size hint is over the limit (HTTP/2 content-length, `Full`).
    if usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX) > limit {
        return Err(VerifyError::too_large(limit));
    }
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        // The error's text is the transport's (it never holds body bytes) but is not needed.
        let frame = frame.map_err(|_| read_failed())?;
        if let Ok(mut data) = frame.into_data() {
            while data.has_remaining() {
                let chunk = data.chunk();
                let len = chunk.len();
                collector.push(chunk)?;
                data.advance(len);
            }
        }
    }
    Ok(collector.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VerifyErrorKind;

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let error = BodyCollector::new(10, Some(11)).unwrap_err();
        assert_eq!(error.kind(), VerifyErrorKind::BodyTooLarge);
        assert!(BodyCollector::new(10, Some(10)).is_ok());
        assert!(BodyCollector::new(10, Some(u64::MAX)).is_err());
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
    fn a_lying_content_length_does_not_preallocate_past_the_limit() {
        let collector = BodyCollector::new(1 << 20, Some(5)).unwrap();
        assert!(collector.buffer.capacity() >= 5);
        let collector = BodyCollector::new(64, None).unwrap();
        assert_eq!(collector.buffer.capacity(), 0);
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
