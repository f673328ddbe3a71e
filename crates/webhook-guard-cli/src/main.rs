//! The `webhook-guard` command: sign deliveries the way a sender does, and verify them the way a
//! receiver does, from the shell.
//!
//! `sign` prints the headers a sender would send for a body (or a payload fixture); `verify` checks
//! a body and its headers and prints the typed event as one JSON line. Both are thin: every check,
//! signature and parse happens in the `webhook-guard` crate, so what the command accepts is exactly
//! what a receiver built on the library accepts.
//!
//! Exit status: 0 on success, 1 when `verify` refuses a delivery, 2 for usage and configuration
//! errors (clap's own usage errors included). Errors are one `error: …` line on stderr.

mod failure;
mod input;
mod sign;
mod verify;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::failure::Failure;

/// Sign and verify webhook deliveries of the supported senders.
#[derive(Debug, Parser)]
#[command(name = "webhook-guard", version, propagate_version = true)]
#[command(after_help = "Exit status: 0 on success, 1 when a delivery is refused, 2 for usage errors.")]
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

/// Prints `failure` as one `error: …` line on stderr and returns its exit status.
fn report(failure: &Failure) -> ExitCode {
    // Nothing useful is left to do if stderr itself is gone.
    let _ = writeln!(std::io::stderr().lock(), "error: {}", failure.message());
    ExitCode::from(failure.code())
}
