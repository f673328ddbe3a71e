//! `webhook-guard send`: POST deliveries signed exactly as a sender signs them, once each, or with
//! `--simulate` under the sender's real retry policy.

mod attempt;
mod events;
mod schedule;
mod simulate;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, Args};
use webhook_guard::testing::Signer;

use crate::failure::Failure;
use crate::http_client;
use crate::input::KeyArgs;
use events::{Event, Source};

/// Arguments of `send`.
#[derive(Debug, Args)]
#[command(after_help = "\
Each delivery is a new event: a fresh id (written where the sender writes it: a header, or the \
body's id field) and a fresh timestamp. With --body the file is sent unchanged, so senders whose id \
is in the body see every copy as the same event. One line per delivery on stdout: status, latency, \
event type, id, and `duplicate: already handled` or the refusal's kind; then a summary. Exit 0 when \
every delivery (every event, with --simulate) was answered 2xx, 1 otherwise, 2 for usage errors.

--simulate delivers like the sender does: each event is retried on a non-2xx answer, a timeout or \
a connection error, waiting as the sender's documentation says (botdog: 1, 2, 4, 8, 16 min; pollybot: \
--retry-delay doubling, --max-retries times; breakcold: 5 s, 30 s; breakcold-legacy and github: no \
retries; standard: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, longer when a 429, 502 or 504 asks \
with Retry-After, none after a 410; slack: 0 s, 1 min, 5 min), divided by --speed. It also races duplicate copies of first attempts and redelivers acknowledged events, then \
reports events acknowledged, attempts, and the events never acknowledged.

Examples:
  webhook-guard send --provider botdog --secret dev-secret --url http://127.0.0.1:8787/ --event all
  webhook-guard send --provider standard --secret-env SVIX_SECRET --url https://staging.example.com/hooks \\
      --event all --count 100 --concurrency 8 --simulate --speed 3600")]
pub(crate) struct SendArgs {
    /// The sender and its secrets (the first one signs).
    #[command(flatten)]
    pub(crate) keys: KeyArgs,

    /// Where to POST the deliveries.
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,

    /// Send the sender's fixture of event TYPE, or `all` for every documented event [default: all].
    #[arg(long, value_name = "TYPE", conflicts_with = "body")]
    pub(crate) event: Option<String>,

    /// Send the bytes of FILE, unchanged, instead of fixtures.
    #[arg(long, value_name = "FILE")]
    pub(crate) body: Option<PathBuf>,

    /// Send N events of each selected type (N copies of --body).
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) count: u32,

    /// Keep at most C requests in flight.
    #[arg(long, value_name = "C", default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrency: u32,

    /// Give every delivery this id instead of fresh ones: copies of one event (a duplicate).
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Count an attempt failed after SECS without an answer [default: the sender's documented
    /// timeout, else 30].
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<f64>,

    /// Deliver like the sender: retries on its schedule, racing copies, redeliveries, a report.
    #[arg(long)]
    pub(crate) simulate: bool,

    /// With --simulate: run the sender's schedule SPEED times faster (3600: an hour per second).
    #[arg(long, value_name = "SPEED", default_value = "60", requires = "simulate")]
    pub(crate) speed: f64,

    /// With --simulate: the share of events whose first attempt is sent twice at once (0 to 1).
    #[arg(long, value_name = "SHARE", default_value = "0.1", requires = "simulate")]
    pub(crate) duplicates: f64,

    /// With --simulate: the share of acknowledged events delivered once more (0 to 1).
    #[arg(long, value_name = "SHARE", default_value = "0.1", requires = "simulate")]
    pub(crate) redeliveries: f64,

    /// With --simulate: the seed of the random choices (copies, redeliveries) [default: random,
    /// printed in the report].
    #[arg(long, value_name = "SEED", requires = "simulate")]
    pub(crate) seed: Option<u64>,

    /// With --simulate, pollybot: the webhook's `maxRetries` setting (0 to 10).
    #[arg(long, value_name = "N", default_value = "3")]
    pub(crate) max_retries: u32,

    /// With --simulate, pollybot: the webhook's `retryDelay` setting in ms (100 to 60000).
    #[arg(long, value_name = "MS", default_value = "1000")]
    pub(crate) retry_delay: u64,
}

/// What every delivery of one run shares.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) client: reqwest::Client,
    pub(crate) url: reqwest::Url,
    pub(crate) signer: Signer,
}

impl Target {
    /// The url as printed: a password in it is replaced by `***`.
    pub(crate) fn shown_url(&self) -> reqwest::Url {
        let mut url = self.url.clone();
        if url.password().is_some() {
            // Only fails for urls that cannot have a password, which this one has.
            let _ = url.set_password(Some("***"));
        }
        url
    }
}

/// Runs `send`. `matches` are the subcommand's matches (for the order of secrets).
///
/// # Errors
///
/// A usage failure (exit 2) for bad arguments or secrets; a failure (exit 1) when a delivery (or,
/// simulating, an event) was not acknowledged.
pub(crate) fn run(args: &SendArgs, matches: &ArgMatches) -> Result<(), Failure> {
    let provider = args.keys.provider()?;
    let secrets = args.keys.secrets(matches)?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signer = Signer::for_provider(&provider, &secrets).map_err(Failure::usage)?;
    let url = reqwest::Url::parse(&args.url)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .ok_or_else(|| Failure::usage(format!("--url `{}` is not an http:// or https:// url", args.url)))?;
    for (name, share) in [("--duplicates", args.duplicates), ("--redeliveries", args.redeliveries)] {
        if !(0.0..=1.0).contains(&share) {
            return Err(Failure::usage(format!("{name} {share}: a share is between 0 and 1")));
        }
    }
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Failure::usage(format!("--speed {}: must be a positive number", args.speed)));
    }
    let policy = if args.simulate {
        let pollybot = schedule::PollybotSettings { max_retries: args.max_retries, retry_delay_ms: args.retry_delay };
        Some(schedule::policy(&provider, pollybot)?)
    } else {
        None
    };
    let timeout = match args.timeout {
        Some(secs) => Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|timeout| !timeout.is_zero())
            .ok_or_else(|| Failure::usage(format!("--timeout {secs}: must be a positive number of seconds")))?,
        None => policy.as_ref().map_or(Duration::from_secs(30), |policy| policy.request_timeout),
    };
    let source = match (&args.body, &args.event) {
        (Some(path), _) => Source::File(path),
        (None, event) => Source::Fixture(event.as_deref().unwrap_or("all")),
    };
    let events = events::events(&provider, source, args.count, args.id.as_deref())?;
    let target = Arc::new(Target { client: http_client::build(timeout)?, url, signer });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::failed(format!("cannot start the async runtime: {error}")))?;
    match policy {
        None => runtime.block_on(send_once(target, events, args.concurrency)),
        Some(policy) => {
            let options = simulate::Options {
                policy,
                speed: args.speed,
                duplicates: args.duplicates,
                redeliveries: args.redeliveries,
                seed: args.seed,
                concurrency: args.concurrency,
            };
            runtime.block_on(simulate::run(target, events, options))
        }
    }
}

/// Sends each event once, at most `concurrency` at a time, printing a line per delivery.
async fn send_once(target: Arc<Target>, events: Vec<Event>, concurrency: u32) -> Result<(), Failure> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    let total = events.len();
    for event in events {
        // Taken before spawning, so deliveries start in order (one at a time by default).
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .map_err(|error| Failure::failed(format!("the delivery queue closed: {error}")))?;
        let target = Arc::clone(&target);
        tasks.spawn(async move {
            let _permit = permit;
            let request = events::sign_attempt(&target.signer, &event);
            let answer = attempt::post(&target.client, &target.url, request).await;
            print_line(&format!("{answer}  {}  {}  {}", event.event_type, event.id, answer.note()));
            answer.acknowledged()
        });
    }
    let mut acknowledged = 0;
    while let Some(joined) = tasks.join_next().await {
        acknowledged +=
            usize::from(joined.map_err(|error| Failure::failed(format!("a delivery task failed: {error}")))?);
    }
    print_line(&format!("sent {total} deliveries to {}: {acknowledged} answered 2xx", target.shown_url()));
    if acknowledged == total {
        Ok(())
    } else {
        Err(Failure::failed(format!("{} of {total} deliveries were not answered 2xx", total - acknowledged)))
    }
}

/// Prints one line on stdout; lines from concurrent deliveries never interleave. A closed stdout
/// (`| head`) stops nothing: the deliveries and the exit status still count.
pub(crate) fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", line.trim_end()).and_then(|()| stdout.flush());
}
