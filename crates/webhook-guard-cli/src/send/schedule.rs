//! Each sender's delivery policy as its documentation states it: how long it waits for an answer,
//! and how long it waits before each retry.

use std::time::Duration;

use webhook_guard::providers::AnyProvider;

use crate::failure::Failure;

/// Pollybot's per-webhook retry settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollybotSettings {
    /// `maxRetries`: 0..=10, default 3.
    pub(crate) max_retries: u32,
    /// `retryDelay` in milliseconds: 100..=60000, default 1000.
    pub(crate) retry_delay_ms: u64,
}

/// A sender's delivery policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// How long the sender waits for an answer before counting the attempt failed.
    pub(crate) request_timeout: Duration,
    /// The waits before the 2nd, 3rd, … attempt: one more attempt than waits.
    pub(crate) waits: Vec<Duration>,
    /// Statuses after which the sender waits at least the answer's `Retry-After`.
    pub(crate) honours_retry_after: &'static [u16],
    /// Statuses after which the sender stops retrying (the endpoint is disabled).
    pub(crate) gives_up_on: &'static [u16],
}

impl Policy {
    /// A policy that only retries on its schedule.
    fn scheduled(request_timeout: Duration, waits: Vec<Duration>) -> Self {
        Self { request_timeout, waits, honours_retry_after: &[], gives_up_on: &[] }
    }

    /// How many attempts one event gets.
    pub(crate) fn attempts(&self) -> usize {
        self.waits.len() + 1
    }

    /// The wait before attempt `next` (2 or more) after an answer of `status` with
    /// `retry_after`: the schedule's, or longer when the sender honours the receiver's
    /// `Retry-After` for that status.
    pub(crate) fn wait_before(&self, next: usize, status: Option<u16>, retry_after: Option<Duration>) -> Duration {
        let scheduled = self.waits[next - 2];
        match (status, retry_after) {
            (Some(status), Some(asked)) if self.honours_retry_after.contains(&status) => scheduled.max(asked),
            _ => scheduled,
        }
    }

    /// Whether the sender stops retrying after an answer of `status`.
    pub(crate) fn gives_up(&self, status: Option<u16>) -> bool {
        status.is_some_and(|status| self.gives_up_on.contains(&status))
    }
}

const fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// The policy of `provider`'s sender.
///
/// # Errors
///
/// A usage failure for Pollybot settings outside their documented ranges, and for senders whose
/// documentation gives no schedule to imitate (Stripe and Shopify describe theirs only as
/// "exponential backoff" over days or hours).
pub(crate) fn policy(provider: &AnyProvider, pollybot: PollybotSettings) -> Result<Policy, Failure> {
    let policy = match provider {
        // Botdog: "6 attempts in all; waits before attempts 2..6 are 1, 2, 4, 8, 16 minutes". No
        // request timeout is documented: 30 s, as Pollybot's.
        AnyProvider::Botdog(_) => {
            Policy::scheduled(secs(30), [1, 2, 4, 8, 16].map(|minutes| secs(minutes * 60)).to_vec())
        }
        // Pollybot: `maxRetries` (0..10) retries, `retryDelay` (100..60000 ms) with "exponential
        // backoff", read as the delay doubling after each retry; 30 s request timeout.
        AnyProvider::Pollybot(_) => {
            let PollybotSettings { max_retries, retry_delay_ms } = pollybot;
            if max_retries > 10 {
                return Err(Failure::usage(format!("--max-retries {max_retries}: Pollybot allows 0 to 10")));
            }
            if !(100..=60_000).contains(&retry_delay_ms) {
                return Err(Failure::usage(format!("--retry-delay {retry_delay_ms}: Pollybot allows 100 to 60000 ms")));
            }
            let waits = (0..max_retries).map(|retry| Duration::from_millis(retry_delay_ms << retry)).collect();
            Policy::scheduled(secs(30), waits)
        }
        // Breakcold: "3 attempts in all, about 5 s and 30 s apart; 10 s timeout".
        AnyProvider::Breakcold(_) => Policy::scheduled(secs(10), vec![secs(5), secs(30)]),
        // Breakcold legacy webhooks are never retried (the endpoint is paused after 10 failures).
        AnyProvider::BreakcoldLegacy(_) => Policy::scheduled(secs(30), Vec::new()),
        // Svix: attempts at 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; "2xx within 15 s".
        // Svix also throttles on 429, 502 and 504, honouring the receiver's Retry-After, and
        // disables the endpoint on 410 Gone.
        AnyProvider::Standard(_) => Policy {
            request_timeout: secs(15),
            waits: vec![secs(5), secs(300), secs(1800), secs(7200), secs(18_000), secs(36_000), secs(36_000)],
            honours_retry_after: &[429, 502, 504],
            gives_up_on: &[410],
        },
        // GitHub does not redeliver failed deliveries by itself ("Handling failed webhook
        // deliveries"); it waits 10 s for an answer.
        AnyProvider::Github(_) => Policy::scheduled(secs(10), Vec::new()),
        // Slack's Events API retries 3 times: nearly immediately, after 1 minute, after 5 minutes;
        // it expects an answer within 3 s.
        AnyProvider::Slack(_) => Policy::scheduled(secs(3), vec![secs(0), secs(60), secs(300)]),
        other => {
            use webhook_guard::Provider as _;
            return Err(Failure::usage(format!(
                "--simulate: {}'s documentation gives no retry schedule to imitate; \
                 simulate botdog, pollybot, breakcold, breakcold-legacy, standard, github or slack",
                other.name()
            )));
        }
    };
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLLYBOT_DEFAULTS: PollybotSettings = PollybotSettings { max_retries: 3, retry_delay_ms: 1000 };

    fn policy_of(name: &str) -> Policy {
        policy(&AnyProvider::from_name(name).unwrap(), POLLYBOT_DEFAULTS).unwrap()
    }

    #[test]
    fn the_documented_schedules() {
        assert_eq!(policy_of("botdog").attempts(), 6);
        assert_eq!(policy_of("botdog").waits.iter().sum::<Duration>(), secs(31 * 60));
        assert_eq!(policy_of("pollybot").waits, [1000, 2000, 4000].map(Duration::from_millis).to_vec());
        assert_eq!(policy_of("breakcold").waits, vec![secs(5), secs(30)]);
        assert_eq!(policy_of("breakcold-legacy").attempts(), 1);
        let standard = policy_of("standard");
        assert_eq!(standard.attempts(), 8);
        assert_eq!(standard.waits.iter().sum::<Duration>(), secs(27 * 3600 + 35 * 60 + 5));
    }

    #[test]
    fn svix_honours_retry_after_on_throttling_statuses_and_gives_up_on_410() {
        let standard = policy_of("standard");
        let asked = Some(secs(60));
        assert_eq!(standard.wait_before(2, Some(429), asked), secs(60));
        assert_eq!(standard.wait_before(3, Some(504), asked), secs(300), "never shorter than the schedule");
        assert_eq!(standard.wait_before(2, Some(503), asked), secs(5), "503 is not a throttling status for Svix");
        assert!(standard.gives_up(Some(410)) && !standard.gives_up(Some(500)) && !standard.gives_up(None));
        let botdog = policy_of("botdog");
        assert_eq!(botdog.wait_before(2, Some(429), asked), secs(60));
        assert_eq!(botdog.wait_before(2, Some(429), Some(secs(600))), secs(60), "Botdog keeps its schedule");
        assert!(!botdog.gives_up(Some(410)));
    }

    #[test]
    fn pollybot_settings_outside_their_ranges_are_refused() {
        let pollybot = AnyProvider::from_name("pollybot").unwrap();
        assert!(policy(&pollybot, PollybotSettings { max_retries: 11, retry_delay_ms: 1000 }).is_err());
        assert!(policy(&pollybot, PollybotSettings { max_retries: 3, retry_delay_ms: 99 }).is_err());
        let none = policy(&pollybot, PollybotSettings { max_retries: 0, retry_delay_ms: 100 }).unwrap();
        assert_eq!(none.attempts(), 1);
        assert!(policy(&AnyProvider::from_name("stripe").unwrap(), POLLYBOT_DEFAULTS).is_err());
    }
}
