//! `send --simulate`: deliver like the sender does, at least once, and report what was lost.
//!
//! Each event is attempted on the sender's schedule until a 2xx; the first attempt of some events
//! is sent twice at once (a racing duplicate, as when a sender's request times out on its side
//! while the receiver is still working), and some acknowledged events are delivered once more (a
//! redelivery, as after a lost acknowledgement or a replay from the sender's dashboard). A correct
//! receiver acknowledges every event and handles each once.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::attempt::{self, Answer};
use super::events::{self, Event};
use super::schedule::Policy;
use super::{Target, print_line};
use crate::failure::Failure;

/// How to simulate.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The sender's policy.
    pub(crate) policy: Policy,
    /// How many times faster than real time the waits run.
    pub(crate) speed: f64,
    /// The share of events whose first attempt is sent twice at once.
    pub(crate) duplicates: f64,
    /// The share of acknowledged events delivered once more.
    pub(crate) redeliveries: f64,
    /// The seed of the random choices, when given.
    pub(crate) seed: Option<u64>,
    /// Requests in flight at most.
    pub(crate) concurrency: u32,
}

/// What happened to one event.
#[derive(Debug, Default)]
struct Fate {
    acknowledged: bool,
    attempts: usize,
    copies: usize,
    redelivered: Option<Answer>,
    last: Option<Answer>,
}

/// splitmix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators", 2014): the
/// choices only need to be spread evenly and repeatable from a printed seed, not unpredictable.
#[derive(Debug)]
struct Choices(u64);

impl Choices {
    /// A number in [0, 1).
    fn next_share(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits, as a double's mantissa holds.
        (z >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// Everything the events' tasks share.
#[derive(Debug)]
struct Run {
    target: Arc<Target>,
    options: Options,
    permits: tokio::sync::Semaphore,
}

impl Run {
    /// POSTs one attempt within the concurrency bound.
    async fn post(&self, event: &Event) -> Answer {
        let _permit = self.permits.acquire().await;
        attempt::post(&self.target.client, &self.target.url, events::sign_attempt(&self.target.signer, event)).await
    }

    /// `wait` of the sender's time, compressed by the speed.
    async fn wait(&self, wait: Duration) {
        tokio::time::sleep(wait.div_f64(self.options.speed)).await;
    }
}

/// Simulates the delivery of `events` and prints the report.
///
/// # Errors
///
/// A failure (exit 1) naming how many events were never acknowledged.
pub(crate) async fn run(target: Arc<Target>, events: Vec<Event>, options: Options) -> Result<(), Failure> {
    let seed = match options.seed {
        Some(seed) => seed,
        None => {
            let mut bytes = [0_u8; 8];
            getrandom::fill(&mut bytes).map_err(|error| Failure::failed(format!("no random seed: {error}")))?;
            u64::from_le_bytes(bytes)
        }
    };
    let mut choices = Choices(seed);
    // Decided up front from the seed, so a run's copies and redeliveries can be replayed.
    let plans: Vec<(bool, bool)> = events
        .iter()
        .map(|_| (choices.next_share() < options.duplicates, choices.next_share() < options.redeliveries))
        .collect();
    let attempts_each = options.policy.attempts();
    let permits = tokio::sync::Semaphore::new(options.concurrency as usize);
    let run = Arc::new(Run { target: Arc::clone(&target), options, permits });
    let fates: Arc<Mutex<Vec<Fate>>> = Arc::new(Mutex::new((0..events.len()).map(|_| Fate::default()).collect()));

    let mut tasks = tokio::task::JoinSet::new();
    for (index, (event, (race, redeliver))) in events.iter().cloned().zip(plans).enumerate() {
        let (run, fates) = (Arc::clone(&run), Arc::clone(&fates));
        tasks.spawn(async move {
            let fate = deliver(&run, &event, race, redeliver, attempts_each).await;
            fates.lock().unwrap_or_else(PoisonError::into_inner)[index] = fate;
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|error| Failure::failed(format!("a delivery task failed: {error}")))?;
    }

    let fates = std::mem::take(&mut *fates.lock().unwrap_or_else(PoisonError::into_inner));
    let (report, lost) = report(&target, &run.options, seed, &events, &fates);
    print_line(&report);
    if lost == 0 {
        Ok(())
    } else {
        Err(Failure::failed(format!("{lost} of {} events were never acknowledged", events.len())))
    }
}

/// Delivers one event on the sender's schedule until it is acknowledged or the attempts run out.
async fn deliver(run: &Run, event: &Event, race: bool, redeliver: bool, attempts_each: usize) -> Fate {
    let mut fate = Fate::default();
    for attempt in 1..=attempts_each {
        if let Some(last) = &fate.last {
            let policy = &run.options.policy;
            if policy.gives_up(last.status()) {
                break;
            }
            run.wait(policy.wait_before(attempt, last.status(), last.retry_after)).await;
        }
        let answer = if race && attempt == 1 {
            let (answer, copy) = tokio::join!(run.post(event), run.post(event));
            fate.copies += 1;
            fate.attempts += 1;
            print_line(&format!("{copy}  {}  {}  copy of attempt 1  {}", event.event_type, event.id, copy.note()));
            // A copy's 2xx acknowledges the event as much as the original's.
            if copy.acknowledged() { copy } else { answer }
        } else {
            run.post(event).await
        };
        fate.attempts += 1;
        print_line(&format!(
            "{answer}  {}  {}  attempt {attempt}/{attempts_each}  {}",
            event.event_type,
            event.id,
            answer.note()
        ));
        let acknowledged = answer.acknowledged();
        fate.last = Some(answer);
        if acknowledged {
            fate.acknowledged = true;
            break;
        }
    }
    if fate.acknowledged && redeliver {
        // Later, as a sender's replay comes: after its first retry wait (or a second).
        run.wait(run.options.policy.waits.first().copied().unwrap_or(Duration::from_secs(1))).await;
        let answer = run.post(event).await;
        fate.attempts += 1;
        print_line(&format!("{answer}  {}  {}  redelivery  {}", event.event_type, event.id, answer.note()));
        fate.redelivered = Some(answer);
    }
    fate
}

/// The report, and how many events were never acknowledged.
fn report(target: &Target, options: &Options, seed: u64, events: &[Event], fates: &[Fate]) -> (String, usize) {
    let acknowledged = fates.iter().filter(|fate| fate.acknowledged).count();
    let attempts: usize = fates.iter().map(|fate| fate.attempts).sum();
    let copies: usize = fates.iter().map(|fate| fate.copies).sum();
    let redelivered: Vec<&Answer> = fates.iter().filter_map(|fate| fate.redelivered.as_ref()).collect();
    let redelivered_ok = redelivered.iter().filter(|answer| answer.acknowledged()).count();
    let redelivered_dup = redelivered.iter().filter(|answer| answer.duplicate).count();
    let lost: Vec<(&Event, &Fate)> = events.iter().zip(fates).filter(|(_, fate)| !fate.acknowledged).collect();

    let mut out = String::new();
    let _ = writeln!(out, "\nsimulation report ({} at {}× speed, seed {seed}):", target.shown_url(), options.speed);
    let _ = writeln!(out, "  events:              {}", events.len());
    let _ = writeln!(out, "  acknowledged:        {acknowledged}");
    let _ = writeln!(
        out,
        "  attempts:            {attempts} (of which {copies} racing copies and {} redeliveries)",
        redelivered.len()
    );
    let _ = writeln!(
        out,
        "  redeliveries:        {} answered 2xx, {redelivered_dup} marked duplicate (already handled)",
        redelivered_ok
    );
    let _ = writeln!(out, "  never acknowledged:  {}", lost.len());
    for (event, fate) in &lost {
        let last = fate.last.as_ref().map_or_else(String::new, |answer| {
            let status = answer.outcome.as_ref().map_or_else(|_| "no answer".to_owned(), ToString::to_string);
            format!(", last: {status} {}", answer.note())
        });
        let _ = writeln!(out, "    {} {} after {} attempts{last}", event.event_type, event.id, fate.attempts);
    }
    (out, lost.len())
}

#[cfg(test)]
mod tests {
    use super::Choices;

    #[test]
    fn choices_are_shares_repeatable_from_the_seed() {
        let (mut a, mut b) = (Choices(7), Choices(7));
        let shares: Vec<f64> = (0..1000).map(|_| a.next_share()).collect();
        assert!(shares.iter().all(|share| (0.0..1.0).contains(share)));
        assert_eq!(shares, (0..1000).map(|_| b.next_share()).collect::<Vec<_>>());
        let mean = shares.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }
}
