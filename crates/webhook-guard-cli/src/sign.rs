//! `webhook-guard sign`: the headers a sender would send for a body.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{ArgMatches, Args};
use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::{Signer, fixture, fixtures};
use webhook_guard::{Clock as _, Provider as _, SystemClock};

use crate::failure::Failure;
use crate::input::{self, KeyArgs};

/// Arguments of `sign`.
#[derive(Debug, Args)]
#[command(after_help = "\
Prints one `Name: value` line per header, in the order the sender sends them. The body itself is \
not printed: send the bytes you signed.

breakcold-legacy has no signature header: its sender writes the secret into the body's `secret` \
field. For it, sign prints the HTTP message form instead: the headers, an empty line, then the \
body with the first secret written in, exactly as sent (no newline added after it).

Example:
  webhook-guard sign --provider botdog --secret-env BOTDOG_SECRET --event LEAD_MESSAGE_REPLIED \\
      --timestamp 1763633730")]
pub(crate) struct SignArgs {
    /// The sender and its secrets.
    #[command(flatten)]
    pub(crate) keys: KeyArgs,

    /// The signed timestamp, in seconds since 1970 [default: now].
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub(crate) timestamp: Option<i64>,

    /// The delivery id, for senders that send or sign one [default: `msg_` and 24 random
    /// characters].
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Read the body from FILE [default: stdin].
    #[arg(long, value_name = "FILE", conflicts_with = "event")]
    pub(crate) body: Option<PathBuf>,

    /// Sign the sender's payload fixture of event TYPE instead of a body, and name TYPE in the
    /// event header of senders that have one.
    #[arg(long, value_name = "TYPE")]
    pub(crate) event: Option<String>,
}

/// Runs `sign`. `matches` are the subcommand's matches (for the order of secrets).
///
/// # Errors
///
/// A usage failure for a missing or unusable secret, an unknown event type or an unreadable body.
pub(crate) fn run(args: &SignArgs, matches: &ArgMatches) -> Result<(), Failure> {
    let provider = args.keys.provider()?;
    let secrets = args.keys.secrets(matches)?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signer = Signer::for_provider(&provider, &secrets).map_err(Failure::usage)?;

    let body = match &args.event {
        Some(event_type) => fixture_body(&provider, event_type)?,
        None => input::read_body(args.body.as_deref())?,
    };
    let timestamp = args.timestamp.unwrap_or_else(|| SystemClock.now_unix());
    let id = match &args.id {
        Some(id) => id.clone(),
        None => random_id()?,
    };
    let request = signer.sign_delivery(&body, timestamp, &id, args.event.as_deref());

    let mut out = Vec::new();
    for (name, value) in &request.headers {
        out.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    // Without a signature header the proof travels in the body, so the body is part of the output.
    if provider.scheme().signature_header().is_none() {
        out.push(b'\n');
        out.extend_from_slice(&request.body);
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|error| Failure::usage(format!("cannot write to stdout: {error}")))
}

/// The body of `provider`'s fixture for `event_type`.
fn fixture_body(provider: &AnyProvider, event_type: &str) -> Result<Vec<u8>, Failure> {
    let name = provider.name();
    match fixture(name, event_type) {
        Some(fixture) => Ok(fixture.body.as_bytes().to_vec()),
        None => {
            let known: Vec<&str> = fixtures(name).iter().map(|fixture| fixture.event_type).collect();
            Err(Failure::usage(format!("no fixture for {name} event `{event_type}`; known: {}", known.join(", "))))
        }
    }
}

/// The length of the random part of a generated id.
const ID_RANDOM_LEN: usize = 24;

/// A fresh delivery id: `msg_` and 24 base62 characters from the operating system's RNG.
pub(crate) fn random_id() -> Result<String, Failure> {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::from("msg_");
    let mut bytes = [0_u8; 64];
    while id.len() < 4 + ID_RANDOM_LEN {
        getrandom::fill(&mut bytes)
            .map_err(|error| Failure::usage(format!("cannot get random bytes for an id: {error}")))?;
        // Rejection sampling: 248 = 4 × 62, so the bytes kept map onto the alphabet uniformly.
        for byte in bytes.iter().filter(|byte| **byte < 248) {
            if id.len() == 4 + ID_RANDOM_LEN {
                break;
            }
            id.push(char::from(ALPHABET[usize::from(*byte % 62)]));
        }
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::random_id;

    #[test]
    fn random_ids_are_prefixed_base62_and_differ() {
        let first = random_id().unwrap();
        let second = random_id().unwrap();
        assert_eq!(first.len(), 28);
        assert!(first.starts_with("msg_"));
        assert!(first[4..].bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(first, second);
    }
}
