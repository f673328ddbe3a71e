//! What both commands read from the command line and the environment: the provider, its secrets,
//! the body and `--header` arguments.

use std::io::Read as _;
use std::path::Path;

use clap::{ArgMatches, Args};
use webhook_guard::providers::{AnyProvider, Pollybot};

use crate::failure::Failure;

/// The sender and its secrets, shared by `sign` and `verify`.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// The sender whose scheme to use.
    #[arg(long, value_name = "NAME", value_parser = provider_names())]
    pub(crate) provider: String,

    /// A secret as the sender's dashboard shows it (`whsec_…` for standard). Repeat for a
    /// rotation: each is tried, in command-line order. Visible to other users in the process list:
    /// prefer --secret-env.
    #[arg(long, value_name = "SECRET", action = clap::ArgAction::Append)]
    pub(crate) secret: Vec<String>,

    /// The name of an environment variable holding a secret. Repeatable, like --secret; a variable
    /// that is unset or empty is an error.
    #[arg(long, value_name = "VAR", action = clap::ArgAction::Append)]
    pub(crate) secret_env: Vec<String>,
}

impl KeyArgs {
    /// The preset named by `--provider`.
    ///
    /// # Errors
    ///
    /// A usage failure for an unknown name (clap already refuses those; this is the core's word).
    pub(crate) fn provider(&self) -> Result<AnyProvider, Failure> {
        AnyProvider::from_name(&self.provider).map_err(Failure::usage)
    }

    /// The preset named by `--provider`, with `--accept-body-only` applied: Pollybot's docs
    /// disagree on what is signed (the body and timestamp on the security page, the body alone
    /// on the overview page), so accepting the body alone is the receiver's explicit choice.
    ///
    /// # Errors
    ///
    /// A usage failure when `accept_body_only` is asked of another sender.
    pub(crate) fn provider_accepting_body_only(&self, accept_body_only: bool) -> Result<AnyProvider, Failure> {
        match self.provider()? {
            AnyProvider::Pollybot(_) if accept_body_only => Ok(AnyProvider::Pollybot(Pollybot::accepting_body_only())),
            _ if accept_body_only => {
                Err(Failure::usage(format!("--accept-body-only is for pollybot only, not {}", self.provider)))
            }
            provider => Ok(provider),
        }
    }

    /// Every secret from `--secret` and `--secret-env`, in the order they were given: the order
    /// decides which secret a sender signs with and which number `--explain` gives each.
    /// `matches` are the subcommand's matches, for the arguments' positions.
    ///
    /// # Errors
    ///
    /// A usage failure when a variable is unset, empty or not UTF-8, or when there is no secret.
    pub(crate) fn secrets(&self, matches: &ArgMatches) -> Result<Vec<String>, Failure> {
        let mut found: Vec<(usize, String)> = Vec::new();
        for (index, secret) in positions(matches, "secret").zip(&self.secret) {
            found.push((index, secret.clone()));
        }
        for (index, name) in positions(matches, "secret_env").zip(&self.secret_env) {
            found.push((index, secret_from_env(name)?));
        }
        if found.is_empty() {
            return Err(Failure::usage("at least one --secret or --secret-env is required"));
        }
        found.sort_by_key(|(index, _)| *index);
        Ok(found.into_iter().map(|(_, secret)| secret).collect())
    }
}

/// The command-line positions of the values of the argument `id` (none when it was not given).
fn positions<'a>(matches: &'a ArgMatches, id: &str) -> impl Iterator<Item = usize> + 'a {
    matches.indices_of(id).into_iter().flatten()
}

/// The secret in environment variable `name`.
fn secret_from_env(name: &str) -> Result<String, Failure> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(Failure::usage(format!("environment variable `{name}` is empty"))),
        Err(std::env::VarError::NotPresent) => Err(Failure::usage(format!("environment variable `{name}` is not set"))),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::usage(format!("environment variable `{name}` is not valid UTF-8")))
        }
    }
}

/// The accepted `--provider` values, so `--help` lists them and clap refuses others (exit 2).
fn provider_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(AnyProvider::NAMES.iter().copied())
}

/// The body: the file's bytes, or all of stdin when `path` is `None`. Never trimmed or decoded:
/// a signature covers the exact bytes.
///
/// # Errors
///
/// A usage failure when the file or stdin cannot be read.
pub(crate) fn read_body(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match path {
        Some(path) => {
            std::fs::read(path).map_err(|error| Failure::usage(format!("cannot read `{}`: {error}", path.display())))
        }
        None => {
            let mut body = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut body)
                .map_err(|error| Failure::usage(format!("cannot read the body from stdin: {error}")))?;
            Ok(body)
        }
    }
}

/// Parses a `--header "Name: value"` argument: split at the first `:`, the name and the value
/// trimmed of surrounding spaces and tabs (HTTP's optional whitespace). Used as a clap value
/// parser, so a bad argument is a usage error (exit 2).
///
/// # Errors
///
/// When there is no `:` or the name is empty.
pub(crate) fn parse_header(arg: &str) -> Result<(String, String), String> {
    let (name, value) = arg.split_once(':').ok_or_else(|| "expected `Name: value`, found no `:`".to_owned())?;
    let name = name.trim_matches([' ', '\t']);
    if name.is_empty() {
        return Err("expected `Name: value`, the name is empty".to_owned());
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::parse_header;

    #[test]
    fn header_splits_at_the_first_colon_and_trims_the_value() {
        assert_eq!(
            parse_header("X-Webhook-Signature:  t=1,s=ab:cd \t").unwrap(),
            ("X-Webhook-Signature".to_owned(), "t=1,s=ab:cd".to_owned())
        );
        assert_eq!(parse_header("X-Empty:").unwrap(), ("X-Empty".to_owned(), String::new()));
    }

    #[test]
    fn header_without_colon_or_name_is_refused() {
        assert!(parse_header("X-Webhook-Signature t=1").is_err());
        assert!(parse_header(" : value").is_err());
    }
}
