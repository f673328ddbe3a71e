//! `webhook-guard listen` as a real process on a free loopback port, through the test-support
//! crate's process runner (the one the example receivers' tests use).

use std::process::Command;
use std::time::{Duration, Instant};

use webhook_guard_test_support::process::{ReceiverProcess, Stopped};

/// A running `listen`. Killed on drop; [`Listener::terminate`] stops it as an operator would.
pub struct Listener {
    process: ReceiverProcess,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// `http://{addr}{path}`, as it logged it.
    pub url: String,
}

impl Listener {
    /// Starts `webhook-guard listen --addr 127.0.0.1:0 args…` with `env`, and waits (60 s at
    /// most) for its `listening on` line.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-guard"));
        command.arg("listen").args(["--addr", "127.0.0.1:0"]).args(args).envs(env.iter().copied());
        let process = ReceiverProcess::spawn_command(command, "listen").unwrap_or_else(|error| panic!("{error}"));
        let url = process.listening_on().to_owned();
        assert!(url.starts_with("http://"), "listen logs its url: {url}");
        Self { addr: process.addr, url, process }
    }

    /// As [`Listener::start_with_env`] with no extra environment.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// The lines printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.process.stdout()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends SIGTERM and waits (60 s at most) for the process to exit.
    pub fn terminate(self) -> Stopped {
        self.process.terminate()
    }
}

/// Waits (`limit` at most) until `done` holds.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
