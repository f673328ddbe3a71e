//! `webhook-guard listen`: a verifying, deduplicating receiver in front of any program.
//!
//! Every request goes through [`Guard::admit`], the core's one request path (body under the
//! limit within the read timeout, verification, claim, log), exactly as the tower, axum and
//! actix-web adapters do; this module only serves HTTP with hyper, runs the chosen handling
//! (print, `--exec`, `--forward`) and hands its outcome to the claim.

mod exec;
mod forward;
mod receiver;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, Args};
use webhook_guard::providers::AnyProvider;
use webhook_guard::{DEFAULT_LEASE, Dedup, Guard, MemoryStore, Verifier};
use webhook_guard_redis::RedisStore;

use crate::failure::Failure;
use crate::input::KeyArgs;

pub(crate) use receiver::Handling;

/// Arguments of `listen`.
#[derive(Debug, Args)]
#[command(after_help = "\
Each accepted delivery (verified, and not a duplicate) is handled, then printed on stdout as one \
JSON line {\"provider\",\"id\",\"event_type\",\"timestamp\",\"event\"}. Logs go to stderr (RUST_LOG \
sets the level). Handling is one of:
  (default)      printing the line is the handling: answered 200
  --exec CMD     CMD runs with the line on stdin; exit 0 = 200, anything else or a timeout = 500
  --forward URL  the verified body is POSTed to URL; a 2xx = 200, anything else or a timeout = 502
A non-2xx answer releases the delivery's id, so the sender's retry is handled again; a 2xx marks \
it completed, so later copies are answered 200 with `webhook-guard-duplicate: completed` and not \
handled. Refusals follow the status table (400, 401, 409, 413, 422, 503).

SIGINT or SIGTERM stops accepting connections, lets deliveries in flight finish (at most \
--shutdown-timeout) and exits 0. A bad secret, address or --redis url exits 2.

Example:
  webhook-guard listen --provider botdog --secret-env BOTDOG_SECRET --path /webhooks/botdog \\
      --redis redis://127.0.0.1:6379/ --exec 'python3 handle_event.py' --concurrency 4")]
pub(crate) struct ListenArgs {
    /// The sender and its secrets.
    #[command(flatten)]
    pub(crate) keys: KeyArgs,

    /// The address to listen on (port 0: any free port, logged at start).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8787")]
    pub(crate) addr: String,

    /// The path deliveries are POSTed to; other paths are answered 404.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub(crate) path: String,

    /// Accept a signed timestamp at most SECS away from now [default: 300].
    #[arg(long, value_name = "SECS")]
    pub(crate) tolerance: Option<u64>,

    /// Refuse bodies larger than BYTES with 413 [default: 262144].
    #[arg(long, value_name = "BYTES")]
    pub(crate) body_limit: Option<usize>,

    /// Refuse (400 body_unreadable) a body not received whole within SECS (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) read_timeout: Duration,

    /// Share delivery ids through Redis, so several `listen` processes handle each event once
    /// [default: in memory, this process only].
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,

    /// Run CMD for each delivery, with its JSON line on stdin and WEBHOOK_PROVIDER, WEBHOOK_ID,
    /// WEBHOOK_EVENT_TYPE in its environment. CMD is split into words like a shell would, but no
    /// shell runs it: write `sh -c '…'` for pipes and redirections. Its stdout goes to stderr.
    #[arg(long, value_name = "CMD", conflicts_with = "forward")]
    pub(crate) exec: Option<String>,

    /// Kill CMD's whole process group after SECS (fractions allowed) and answer 500.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) exec_timeout: Duration,

    /// POST each verified body, unchanged, to URL with its Content-Type and
    /// X-Webhook-Guard-Provider, X-Webhook-Guard-Id and X-Webhook-Guard-Event-Type headers.
    /// breakcold-legacy bodies carry the shared secret: forward them only inside your network.
    #[arg(long, value_name = "URL")]
    pub(crate) forward: Option<String>,

    /// Give up on --forward after SECS (fractions allowed) and answer 502.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) forward_timeout: Duration,

    /// Handle at most N deliveries at once; beyond that, answer 503 with Retry-After.
    #[arg(long, value_name = "N", default_value = "16", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrency: u32,

    /// On SIGINT/SIGTERM, wait at most SECS for deliveries in flight (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub(crate) shutdown_timeout: Duration,

    /// pollybot only: also accept signatures over the body alone, as one page of Pollybot's docs
    /// describes. Such deliveries have no replay protection.
    #[arg(long)]
    pub(crate) accept_body_only: bool,
}

/// Parses a number of seconds, fractions allowed (`0.5`), for clap.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a usable number of seconds"))
}

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub(crate) struct Receiver {
    /// The core's request path: verifier and dedup policy.
    pub(crate) guard: Guard<AnyProvider>,
    /// The path deliveries are POSTed to.
    pub(crate) path: String,
    /// What is done with an accepted delivery.
    pub(crate) handling: Handling,
    /// Bounds the deliveries handled at once.
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
}

/// Runs `listen` until SIGINT or SIGTERM. `matches` are the subcommand's matches (for the order
/// of secrets).
///
/// # Errors
///
/// A usage failure (exit 2) for a bad secret, address, path, command or url, or an unreachable
/// Redis; a failure (exit 1) when the server cannot go on.
pub(crate) fn run(args: &ListenArgs, matches: &ArgMatches) -> Result<(), Failure> {
    let addr: SocketAddr = args
        .addr
        .parse()
        .map_err(|_| Failure::usage(format!("--addr `{}` is not an address like 127.0.0.1:8787", args.addr)))?;
    if !args.path.starts_with('/') {
        return Err(Failure::usage(format!("--path `{}` must start with `/`", args.path)));
    }
    let verifier = build_verifier(args, matches)?;
    let handling = Handling::from_args(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::failed(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(async {
        let dedup = dedup(args, &handling).await?;
        let guard = Guard::new(verifier).with_dedup(dedup).map_err(Failure::usage)?;
        let permits = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
        let receiver = Arc::new(Receiver { guard, path: args.path.clone(), handling, permits });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|error| Failure::usage(format!("cannot listen on {addr}: {error}")))?;
        server::serve(listener, receiver, args.shutdown_timeout).await
    })
}

/// The verifier the arguments describe.
fn build_verifier(args: &ListenArgs, matches: &ArgMatches) -> Result<Verifier<AnyProvider>, Failure> {
    let provider = args.keys.provider_accepting_body_only(args.accept_body_only)?;
    let mut builder = Verifier::builder(provider);
    for secret in &args.keys.secrets(matches)? {
        builder = builder.secret(secret);
    }
    if let Some(tolerance) = args.tolerance {
        builder = builder.tolerance(Duration::from_secs(tolerance));
    }
    if let Some(limit) = args.body_limit {
        builder = builder.body_limit(limit);
    }
    builder = builder.read_timeout(args.read_timeout);
    builder.build().map_err(Failure::usage)
}

/// The dedup policy: Redis when `--redis` is given (connected now, so a wrong url stops the
/// start), else memory. The lease outlasts the longest handling, so a slow command's claim is
/// never taken over by a retry while it still runs.
async fn dedup(args: &ListenArgs, handling: &Handling) -> Result<Dedup, Failure> {
    let dedup = match &args.redis {
        Some(url) => {
            let store = RedisStore::connect(url).await.map_err(|error| {
                // The url may carry a password: name the failure, not the url.
                Failure::usage(format!("--redis: {error}"))
            })?;
            Dedup::new(store)
        }
        None => Dedup::new(MemoryStore::default()),
    };
    let lease = DEFAULT_LEASE.max(handling.longest_run() + Duration::from_secs(30));
    Ok(dedup.lease(lease))
}
