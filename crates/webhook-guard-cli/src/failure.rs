//! [`Failure`]: why a command stopped, and the exit status that says so.

use std::fmt;

/// A command that did not succeed: the message printed after `error: ` and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Exit status of a delivery that `verify` refused, of deliveries that `send` could not get
    /// acknowledged, and of a receiver that stopped on an error.
    pub(crate) const REJECTED: u8 = 1;
    /// Exit status of a usage or configuration error, as clap uses for its own.
    pub(crate) const USAGE: u8 = 2;

    /// A usage or configuration error (exit 2): a missing secret, an unreadable file, a bad key.
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self { code: Self::USAGE, message: message.to_string() }
    }

    /// A refused delivery (exit 1); `error` is the core's `VerifyError`, shown as `<kind>: <message>`.
    pub(crate) fn rejected(error: impl fmt::Display) -> Self {
        Self { code: Self::REJECTED, message: error.to_string() }
    }

    /// A command that ran but did not succeed (exit 1): deliveries not acknowledged, a server
    /// that failed.
    pub(crate) fn failed(message: impl fmt::Display) -> Self {
        Self { code: Self::REJECTED, message: message.to_string() }
    }

    /// The exit status.
    pub(crate) fn code(&self) -> u8 {
        self.code
    }

    /// The message, without the `error: ` prefix.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}
