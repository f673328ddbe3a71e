//! `listen --exec`: one command per delivery, in its own process group, within a timeout.

use std::os::fd::AsFd as _;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncWriteExt as _;

use crate::failure::Failure;

/// The command of `--exec`: a program and its arguments, never a shell of our own.
#[derive(Debug, Clone)]
pub(crate) struct Command {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl Command {
    /// Splits `text` into words as a POSIX shell would (quotes and backslashes, no expansion).
    ///
    /// # Errors
    ///
    /// A usage failure for an empty command or unbalanced quotes.
    pub(crate) fn parse(text: &str, timeout: Duration) -> Result<Self, Failure> {
        let words = shlex::split(text).ok_or_else(|| Failure::usage("--exec: unbalanced quotes in the command"))?;
        let mut words = words.into_iter();
        let program = words.next().ok_or_else(|| Failure::usage("--exec: the command is empty"))?;
        Ok(Self { program, args: words.collect(), timeout })
    }

    /// How long one run may take.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs the command with `line` on stdin and the delivery in its environment.
    ///
    /// # Errors
    ///
    /// Why the delivery was not handled: the command could not start, exited unsuccessfully, or
    /// ran past the timeout (its process group is killed).
    pub(crate) async fn run(&self, line: &str, provider: &str, id: &str, event_type: &str) -> Result<(), String> {
        // The command's stdout goes to our stderr: our stdout carries only the JSON lines.
        let stdout = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|error| format!("cannot pass stderr to the command: {error}"))?;
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env("WEBHOOK_PROVIDER", provider)
            .env("WEBHOOK_ID", id)
            .env("WEBHOOK_EVENT_TYPE", event_type)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::inherit())
            // Its own process group, so a timeout ends everything it started (a shell's
            // children too), not just the first process.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("cannot run `{}`: {error}", self.program))?;
        // A group to kill if this future is dropped (the sender hung up) or times out.
        let group = child.id().and_then(|pid| i32::try_from(pid).ok()).map(ProcessGroup);

        let mut stdin = child.stdin.take();
        let input = format!("{line}\n");
        let run = async {
            if let Some(stdin) = &mut stdin {
                // A command that does not read its stdin may exit first: that is its choice.
                let _ = stdin.write_all(input.as_bytes()).await;
            }
            drop(stdin);
            child.wait().await
        };
        let status = tokio::time::timeout(self.timeout, run).await;
        match status {
            Ok(Ok(status)) => {
                if let Some(group) = group {
                    group.forget();
                }
                exit_outcome(status)
            }
            Ok(Err(error)) => Err(format!("cannot wait for the command: {error}")),
            Err(_) => {
                // Kill the whole group, then reap the command so no zombie is left.
                drop(group);
                let _ = child.wait().await;
                Err(format!("the command ran longer than {:?} and was killed", self.timeout))
            }
        }
    }
}

/// Success for exit status 0, else what the status was.
fn exit_outcome(status: ExitStatus) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt as _;
    if status.success() {
        Ok(())
    } else if let Some(code) = status.code() {
        Err(format!("the command exited with status {code}"))
    } else {
        Err(format!("the command was killed by signal {}", status.signal().unwrap_or_default()))
    }
}

/// A command's process group, killed (SIGKILL) when dropped unless [`ProcessGroup::forget`] was
/// called after the command exited by itself.
#[derive(Debug)]
struct ProcessGroup(i32);

impl ProcessGroup {
    /// The command exited by itself: whatever it left running in the background is its business.
    fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // ESRCH (the group is already gone) is the expected outcome when everything exited.
        let _ = killpg(Pid::from_raw(self.0), Signal::SIGKILL);
    }
}
