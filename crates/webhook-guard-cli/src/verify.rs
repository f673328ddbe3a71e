//! `webhook-guard verify`: check a delivery's signature and print its typed event.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::{ArgMatches, Args};
use webhook_guard::providers::AnyProvider;
use webhook_guard::{FixedClock, Verifier};

use crate::event_line;
use crate::failure::Failure;
use crate::input::{self, KeyArgs};

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(after_help = "\
On success, exits 0 and prints one JSON line on stdout:
  {\"provider\":…,\"id\":…,\"event_type\":…,\"timestamp\":<RFC 3339 or null>,\"event\":{…}}
When the delivery is refused, exits 1 and prints `error: <kind>: <message>` on stderr, where kind \
is one of missing_signature, malformed_signature, signature_mismatch, timestamp_out_of_tolerance, \
body_too_large, invalid_payload. Usage and configuration errors exit 2.

Example:
  webhook-guard verify --provider botdog --secret-env BOTDOG_SECRET --body event.json \\
      --header 'X-Webhook-Signature: t=1763633730,s=5f1c…' --now 1763633730 --explain")]
pub(crate) struct VerifyArgs {
    /// The sender and its secrets.
    #[command(flatten)]
    pub(crate) keys: KeyArgs,

    /// Accept a signed timestamp at most SECS away from now [default: 300].
    #[arg(long, value_name = "SECS")]
    pub(crate) tolerance: Option<u64>,

    /// Verify as if the time were UNIX seconds since 1970 [default: the system clock].
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub(crate) now: Option<i64>,

    /// A request header, as `Name: value` (split at the first `:`; spaces around the value are
    /// dropped). Repeat for each header.
    #[arg(long, value_name = "NAME: VALUE", value_parser = input::parse_header, action = clap::ArgAction::Append)]
    pub(crate) header: Vec<(String, String)>,

    /// Read the body from FILE [default: stdin]. The exact bytes are checked: nothing is trimmed.
    #[arg(long, value_name = "FILE")]
    pub(crate) body: Option<PathBuf>,

    /// Also print, on stderr, each step of the check (headers found, which secret matched, clock
    /// skew, signs of a re-serialized body). Never prints a secret or an expected signature.
    #[arg(long)]
    pub(crate) explain: bool,

    /// pollybot only: also accept signatures over the body alone, as one page of Pollybot's docs
    /// describes. Such deliveries have no replay protection.
    #[arg(long)]
    pub(crate) accept_body_only: bool,
}

/// Runs `verify`. `matches` are the subcommand's matches (for the order of secrets).
///
/// # Errors
///
/// A rejected failure (exit 1) when the delivery is refused; a usage failure (exit 2) for bad
/// secrets, `--accept-body-only` with another sender, or an unreadable body.
pub(crate) fn run(args: &VerifyArgs, matches: &ArgMatches) -> Result<(), Failure> {
    let verifier = build_verifier(args, matches)?;
    let body = Bytes::from(input::read_body(args.body.as_deref())?);

    if args.explain {
        let explanation = verifier.explain(&args.header, &body);
        let mut stderr = std::io::stderr().lock();
        // The explanation is an extra: failing to print it does not change the verdict.
        let _ = write!(stderr, "{explanation}").and_then(|()| stderr.flush());
    }

    let delivery = verifier.verify(&args.header, body).map_err(Failure::rejected)?;
    let line = event_line::json_line(&delivery).map_err(Failure::usage)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|error| Failure::usage(format!("cannot write to stdout: {error}")))
}

/// The verifier the arguments describe.
fn build_verifier(args: &VerifyArgs, matches: &ArgMatches) -> Result<Verifier<AnyProvider>, Failure> {
    let provider = args.keys.provider_accepting_body_only(args.accept_body_only)?;
    let secrets = args.keys.secrets(matches)?;
    let mut builder = Verifier::builder(provider);
    for secret in &secrets {
        builder = builder.secret(secret);
    }
    if let Some(tolerance) = args.tolerance {
        builder = builder.tolerance(Duration::from_secs(tolerance));
    }
    if let Some(now) = args.now {
        builder = builder.clock(FixedClock(now));
    }
    builder.build().map_err(Failure::usage)
}
