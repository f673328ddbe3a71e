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

/// The bounds of reading on after a refusal, for code that polls the body itself: counts what was
/// discarded against [`DISCARD_MAX_BYTES`] and keeps the clocks of [`DISCARD_MAX_TIME`] (from
/// [`new`](Self::new)) and [`DISCARD_IDLE_TIMEOUT`] (from the last chunk). The tower and axum
/// adapters' discarding after a 413 is built on it, and so is webhook-guard-actix's answer body,
/// which discards while actix-http writes the answer (its payload cannot move to a task of its
/// own).
///
/// Must be created and polled inside a Tokio runtime with its time driver enabled (as
/// `#[tokio::main]` and actix-web build).
#[derive(Debug)]
pub struct DiscardBudget {
    discarded: u64,
    /// Chunks read since the body last had nothing ready.
    ready_in_a_row: u32,
    deadline: Pin<Box<tokio::time::Sleep>>,
    idle: Pin<Box<tokio::time::Sleep>>,
}

/// Chunks read in a row, without the body waiting, before the reader yields: a body that is
/// always ready must not hold the thread for the whole discard.
const CHUNKS_BEFORE_YIELDING: u32 = 64;

/// Which bound a [`DiscardBudget`] reached: the body then goes unread and the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscardCut {
    /// More than [`DISCARD_MAX_BYTES`] followed.
    TooMuch,
    /// The body did not end within [`DISCARD_MAX_TIME`].
    TooLong,
    /// Nothing came for [`DISCARD_IDLE_TIMEOUT`].
    Idle,
}

impl std::fmt::Display for DiscardCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooMuch => write!(f, "more than {DISCARD_MAX_BYTES} bytes followed"),
            Self::TooLong => write!(f, "it did not end within {DISCARD_MAX_TIME:?}"),
            Self::Idle => write!(f, "nothing came for {DISCARD_IDLE_TIMEOUT:?}"),
        }
    }
}

impl Default for DiscardBudget {
    fn default() -> Self {
        Self::new()
    }
}

impl DiscardBudget {
    /// Starts both clocks now.
    pub fn new() -> Self {
        Self {
            discarded: 0,
            ready_in_a_row: 0,
            deadline: Box::pin(tokio::time::sleep(DISCARD_MAX_TIME)),
            idle: Box::pin(tokio::time::sleep(DISCARD_IDLE_TIMEOUT)),
        }
    }

    /// Counts a chunk of `len` bytes that was read and dropped, and restarts the idle clock.
    /// `Ready(Ok(()))`: read on. `Ready(Err(cut))`: a bound is passed, read no more
    /// ([`DiscardCut::TooMuch`] after the chunk that passes [`DISCARD_MAX_BYTES`],
    /// [`DiscardCut::TooLong`] once [`DISCARD_MAX_TIME`] is over, checked against the clock at
    /// each chunk). `Pending`: the body has been ready for many chunks in a row, so the task is
    /// woken and yields, letting others run (and the timers fire) before it reads on.
    pub fn poll_discarded(
        &mut self,
        len: usize,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), DiscardCut>> {
        self.discarded = self.discarded.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        if self.discarded > DISCARD_MAX_BYTES {
            return std::task::Poll::Ready(Err(DiscardCut::TooMuch));
        }
        let now = tokio::time::Instant::now();
        if now >= self.deadline.deadline() {
            return std::task::Poll::Ready(Err(DiscardCut::TooLong));
        }
        self.idle.as_mut().reset(now + DISCARD_IDLE_TIMEOUT);
        self.ready_in_a_row += 1;
        if self.ready_in_a_row >= CHUNKS_BEFORE_YIELDING {
            self.ready_in_a_row = 0;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::task::Poll::Ready(Ok(()))
    }

    /// The bytes discarded so far.
    pub fn bytes(&self) -> u64 {
        self.discarded
    }

    /// For when the body has nothing ready: the time bound that has passed (the whole time before
    /// the idle one), or pending, with the task woken when one passes.
    pub fn poll_expired(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<DiscardCut> {
        self.ready_in_a_row = 0;
        if self.deadline.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(DiscardCut::TooLong);
        }
        self.idle.as_mut().poll(cx).map(|()| DiscardCut::Idle)
    }
}

/// What [`discard_body`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Discarded {
    /// The bytes read and dropped.
    pub bytes: u64,
    /// Whether the body was read to its end; `false` when a bound was reached or it failed.
    pub to_the_end: bool,
}

/// Reads the rest of a refused body and drops every chunk as it arrives, within a
/// [`DiscardBudget`]: at most [`DISCARD_MAX_BYTES`] (it stops after the chunk that passes them),
/// [`DISCARD_MAX_TIME`] in all and [`DISCARD_IDLE_TIMEOUT`] between chunks: nginx's lingering
/// close, see the [module docs](super#after-a-refusal-reading-on-for-a-while-before-closing).
/// Dropping the body afterwards lets the server close the connection.
///
/// Must run inside a Tokio runtime with its time driver enabled (as `#[tokio::main]` builds).
pub(crate) async fn discard_body<B: Body>(body: B) -> Discarded {
    let mut body = std::pin::pin!(body);
    let mut budget = DiscardBudget::new();
    let to_the_end = std::future::poll_fn(|cx| {
        loop {
            // Each frame is measured and dropped inside the poll: nothing of it outlives it.
            match body.as_mut().poll_frame(cx) {
                std::task::Poll::Ready(Some(Ok(frame))) => {
                    match budget.poll_discarded(frame.data_ref().map_or(0, Buf::remaining), cx) {
                        std::task::Poll::Ready(Ok(())) => {}
                        std::task::Poll::Ready(Err(_)) => return std::task::Poll::Ready(false),
                        std::task::Poll::Pending => return std::task::Poll::Pending,
                    }
                }
                std::task::Poll::Ready(None) => return std::task::Poll::Ready(true),
                // The body failed: the client went away.
                std::task::Poll::Ready(Some(Err(_))) => return std::task::Poll::Ready(false),
                std::task::Poll::Pending => return budget.poll_expired(cx).map(|_| false),
            }
        }
    })
    .await;
    Discarded { bytes: budget.bytes(), to_the_end }
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

    /// Empty frames without end, always ready: the discard yields between runs of them and ends
    /// at the time bound.
    struct AlwaysReady;

    impl Body for AlwaysReady {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::new()))))
        }
    }

    #[tokio::test]
    async fn a_body_that_is_always_ready_meets_the_time_bound_and_lets_other_tasks_run() {
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let ticking = std::sync::Arc::clone(&ticks);
        // On this test's single thread: it only counts if the discard yields.
        let ticker = tokio::spawn(async move {
            loop {
                ticking.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        });
        let started = tokio::time::Instant::now();
        let discarded = discard_body(AlwaysReady).await;
        let took = started.elapsed();
        ticker.abort();
        assert_eq!(discarded, Discarded { bytes: 0, to_the_end: false });
        assert!((DISCARD_MAX_TIME..DISCARD_MAX_TIME + Duration::from_millis(500)).contains(&took), "{took:?}");
        assert!(ticks.load(std::sync::atomic::Ordering::Relaxed) > 100, "the discard never yielded");
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
