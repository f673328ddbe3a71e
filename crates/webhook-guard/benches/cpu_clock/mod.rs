//! How the benches time a routine: the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`),
//! not wall time. The machines these run on are shared, and wall time counts the slices another
//! process ran in, which differ from one contestant's turn to the next. `BENCH_CLOCK=wall` times
//! wall time.
//!
//! One file for the core's `verify` bench and peer-benches/ (its own workspace includes it by
//! path), so both time the same way.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Bencher;
use nix::time::{ClockId, clock_gettime};

/// Runs `routine` `iters` times and says how long that took in this thread's CPU time (or wall
/// time with `BENCH_CLOCK=wall`).
pub(crate) fn timed<O>(b: &mut Bencher<'_>, mut routine: impl FnMut() -> O) {
    let wall = std::env::var("BENCH_CLOCK").is_ok_and(|clock| clock == "wall");
    b.iter_custom(|iters| {
        if wall {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(routine());
            }
            return start.elapsed();
        }
        let cpu = || Duration::from(clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap());
        let start = cpu();
        for _ in 0..iters {
            black_box(routine());
        }
        cpu() - start
    });
}
