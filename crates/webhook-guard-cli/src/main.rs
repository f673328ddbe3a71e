//! The `webhook-guard` command: sign and send deliveries the way a sender does, and verify and
//! receive them the way a receiver does, from the shell.
//!
//! `sign` prints the headers a sender would send for a body (or a payload fixture); `verify` checks
//! a body and its headers and prints the typed event as one JSON line; `listen` is a ready receiver
//! (verify, deduplicate, then print, run a command or forward); `send` posts signed deliveries, and
//! with `--simulate` behaves like the sender's real retry policy. All are thin: every check,
//! signature, parse and claim happens in the `webhook-guard` crate, so what the command accepts is
//! exactly what a receiver built on the library accepts.
//!
//! Exit status: 0 on success, 1 when a delivery is refused or not acknowledged, 2 for usage and
//! configuration errors (clap's own usage errors included). Errors are one `error: …` line on
//! stderr.

mod event_line;
mod failure;
mod http_client;
mod input;
mod listen;
mod send;
mod sign;
mod verify;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::failure::Failure;

/// Sign, verify, send and receive webhook deliveries of the supported senders.
#[derive(Debug, Parser)]
#[command(name = "webhook-guard", version, propagate_version = true)]
#[command(after_help = "\
Exit status: 0 on success; 1 when a delivery is refused (verify) or not acknowledged (send), or the \
receiver failed (listen); 2 for usage and configuration errors.

Try a sender end to end in two shells:
  webhook-guard listen --provider botdog --secret dev-secret
  webhook-guard send --provider botdog --secret dev-secret --url http://127.0.0.1:8787/ --event all")]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the headers a sender would send for a body.
    Sign(sign::SignArgs),
    /// Check a delivery's signature and print its event as one JSON line.
    Verify(verify::VerifyArgs),
    /// Receive deliveries: verify, deduplicate, then print, run a command or forward each.
    Listen(listen::ListenArgs),
    /// Send signed deliveries to a receiver, or simulate the sender's retries with --simulate.
    Send(send::SendArgs),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    // The subcommand's own matches tell the command-line order of `--secret` and `--secret-env`.
    let Some((_, sub_matches)) = matches.subcommand() else {
        return report(&Failure::usage("a command is required"));
    };
    let result = match &cli.command {
        Command::Sign(args) => sign::run(args, sub_matches),
        Command::Verify(args) => verify::run(args, sub_matches),
        Command::Listen(args) => {
            init_logs();
            listen::run(args, sub_matches)
        }
        Command::Send(args) => send::run(args, sub_matches),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

/// Logs to stderr through `tracing` (`RUST_LOG` sets the level; `info` by default), in colour only
/// on a terminal.
fn init_logs() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // The binary's module paths (`webhook_guard::listen`) would read as the library's.
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Prints `failure` as one `error: …` line on stderr and returns its exit status.
fn report(failure: &Failure) -> ExitCode {
    // Nothing useful is left to do if stderr itself is gone.
    let _ = writeln!(std::io::stderr().lock(), "error: {}", failure.message());
    ExitCode::from(failure.code())
}
