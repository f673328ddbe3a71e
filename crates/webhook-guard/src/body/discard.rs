//! Reading on after a refusal, for a while, and dropping what comes: nginx's lingering close for
//! refused bodies. Why, and the bounds: the [`body` module docs](super#after-a-refusal-reading-on-for-a-while-before-closing).

use std::pin::Pin;
use std::time::Duration;

use bytes::Buf;
use http_body::Body;

/// At most this many bytes of a refused body are read and discarded, after the bytes read before
/// the refusal: 4 MiB. Bodies up to 16 times the default limit (256 KiB) are read whole, so a
/// sender of a few megabytes gets its 413; see [`Guard::admit`](crate::Guard::admit).
pub const DISCARD_MAX_BYTES: u64 = 4 * 1024 * 1024;

/// For at most this long in all: 2 s (nginx's `lingering_time`). Enough for 4 MiB at 17 Mbit/s.
pub const DISCARD_MAX_TIME: Duration = Duration::from_secs(2);

/// Giving up sooner when no byte arrives for this long: 1 s (nginx's `lingering_timeout`). A
/// client that declared a large body and stopped sending does not hold the connection for
/// [`DISCARD_MAX_TIME`].
pub const DISCARD_IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// What [`discard_body`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Discarded {
    /// The bytes read and dropped.
    pub bytes: u64,
    /// Whether the body was read to its end; `false` when a bound was reached or it failed.
    pub to_the_end: bool,
}

/// Reads the rest of a refused body and drops every chunk as it arrives, for at most
/// [`DISCARD_MAX_BYTES`] (it stops after the chunk that passes them), [`DISCARD_MAX_TIME`] in all
/// and [`DISCARD_IDLE_TIMEOUT`] between chunks: nginx's lingering close, see the
/// [module docs](super#after-a-refusal-reading-on-for-a-while-before-closing). Dropping the body
/// afterwards lets the server close the connection.
///
/// Must run inside a Tokio runtime with its time driver enabled (as `#[tokio::main]` builds).
pub(crate) async fn discard_body<B: Body>(body: B) -> Discarded {
    let mut body = std::pin::pin!(body);
    let deadline = tokio::time::Instant::now() + DISCARD_MAX_TIME;
    let mut discarded = Discarded { bytes: 0, to_the_end: false };
    while discarded.bytes <= DISCARD_MAX_BYTES {
        let wait_until = (tokio::time::Instant::now() + DISCARD_IDLE_TIMEOUT).min(deadline);
        // Each frame is measured and dropped inside the poll: nothing of it outlives it.
        let next_frame_len = std::future::poll_fn(|cx| {
            body.as_mut().poll_frame(cx).map(|frame| {
                frame.map(|frame| frame.map(|frame| frame.data_ref().map_or(0, Buf::remaining)).map_err(drop))
            })
        });
        match tokio::time::timeout_at(wait_until, next_frame_len).await {
            Ok(Some(Ok(len))) => {
                discarded.bytes = discarded.bytes.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
            }
            Ok(None) => {
                discarded.to_the_end = true;
                break;
            }
            // The body failed (the client went away) or a time bound passed.
            Ok(Some(Err(()))) | Err(_) => break,
        }
    }
    discarded
}

/// Runs [`discard_body`] on a task of the current Tokio runtime; without one, drops the body.
pub(super) fn discard_in_background<B: Body + Send + 'static>(body: Pin<Box<B>>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let Discarded { bytes, to_the_end } = discard_body(body).await;
            tracing::debug!(bytes, to_the_end, "discarded the rest of a body refused as too large");
        });
    }
}

#[cfg(test)]
pub(super) mod tests {
    use bytes::Bytes;

    use super::*;

    /// A body of `frames` frames of `frame` (endless with `usize::MAX`), counting the bytes taken
    /// from it; with `gap`, each frame comes that long after the previous one.
    pub(in crate::body) struct CountedBody {
        frame: Bytes,
        frames: usize,
        gap: Option<Duration>,
        next: Option<Pin<Box<tokio::time::Sleep>>>,
        taken: std::sync::Arc<std::sync::atomic::AtomicU64>,
    }

    impl CountedBody {
        pub(in crate::body) fn new(frame_len: usize, frames: usize, gap: Option<Duration>) -> Self {
            let taken = std::sync::Arc::default();
            Self { frame: Bytes::from(vec![b' '; frame_len]), frames, gap, next: None, taken }
        }

        pub(in crate::body) fn taken(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
            std::sync::Arc::clone(&self.taken)
        }
    }

    impl Body for CountedBody {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            if self.frames == 0 {
                return std::task::Poll::Ready(None);
            }
            if let Some(gap) = self.gap {
                let next = self.next.get_or_insert_with(|| Box::pin(tokio::time::sleep(gap)));
                std::task::ready!(next.as_mut().poll(cx));
                self.next = None;
            }
            self.frames -= 1;
            self.taken.fetch_add(self.frame.len() as u64, std::sync::atomic::Ordering::Relaxed);
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(self.frame.clone()))))
        }
    }

    #[tokio::test]
    async fn a_refused_body_is_discarded_to_its_end() {
        let discarded = discard_body(CountedBody::new(64 * 1024, 16, None)).await;
        assert_eq!(discarded, Discarded { bytes: 1 << 20, to_the_end: true });
    }

    #[tokio::test]
    async fn discarding_stops_after_the_byte_bound() {
        let discarded = discard_body(CountedBody::new(64 * 1024, usize::MAX, None)).await;
        assert_eq!(discarded, Discarded { bytes: DISCARD_MAX_BYTES + 64 * 1024, to_the_end: false });
    }

    #[tokio::test]
    async fn discarding_stops_when_the_client_goes_quiet_or_takes_too_long() {
        let started = tokio::time::Instant::now();
        let quiet = discard_body(CountedBody::new(1, 1, Some(Duration::from_secs(60)))).await;
        assert_eq!(quiet, Discarded { bytes: 0, to_the_end: false });
        assert!((DISCARD_IDLE_TIMEOUT..DISCARD_MAX_TIME).contains(&started.elapsed()), "{:?}", started.elapsed());

        let started = tokio::time::Instant::now();
        let trickle = discard_body(CountedBody::new(1, usize::MAX, Some(Duration::from_millis(100)))).await;
        assert!(!trickle.to_the_end && (15..=20).contains(&trickle.bytes), "{trickle:?}");
        let took = started.elapsed();
        assert!((DISCARD_MAX_TIME..DISCARD_MAX_TIME + Duration::from_millis(500)).contains(&took), "{took:?}");
    }
}
