//! Running a receiver binary (the example receivers, `webhook-guard listen`) as a real process
//! in tests.
//!
//! The process is told to bind a free port (`ADDR=127.0.0.1:0` for the examples, `--addr
//! 127.0.0.1:0` for the CLI), where it listens is read from the `listening on <addr or url>` line
//! it logs on stderr, and every line it prints on stdout and stderr is collected, so a test can
//! check that each handled delivery was printed exactly once.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::conformance::Expected;

/// A receiver process under test. Killed on drop.
#[derive(Debug)]
pub struct ReceiverProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    listening_on: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

/// How a receiver process ended.
#[derive(Debug)]
pub struct Stopped {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Every line it printed on stdout.
    pub stdout: Vec<String>,
    /// Every line it printed on stderr.
    pub stderr: Vec<String>,
}

/// Collects `pipe`'s lines into `into`; on stderr (`listening` given) also echoes them under
/// `label` and sends the first `listening on` value.
fn collect(
    pipe: impl io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    listening: Option<(mpsc::Sender<String>, String)>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some((found, label)) = &listening {
                if let Some(value) = line.split("listening on ").nth(1).and_then(|rest| rest.split_whitespace().next())
                {
                    let _ = found.send(value.to_owned());
                }
                eprintln!("[{label}] {line}");
            }
            into.lock().unwrap_or_else(PoisonError::into_inner).push(line);
        }
    })
}

/// The socket address in a `listening on` value: `127.0.0.1:3000` or `http://127.0.0.1:3000/path`.
fn socket_address(listening_on: &str) -> Option<SocketAddr> {
    let authority = listening_on.strip_prefix("http://").unwrap_or(listening_on).split('/').next()?;
    authority.parse().ok()
}

impl ReceiverProcess {
    /// Starts the example receiver `program` with `env` (plus `ADDR=127.0.0.1:0`) and waits up to
    /// 60 s for its `listening on` line.
    ///
    /// # Errors
    ///
    /// When it cannot start, exits, or never says where it listens.
    pub fn spawn(program: &str, env: &[(&str, &str)]) -> io::Result<Self> {
        let mut command = Command::new(program);
        command.env("ADDR", "127.0.0.1:0").envs(env.iter().copied());
        Self::spawn_command(command, "receiver")
    }

    /// Starts `command` (which must make the process bind a free port) with its standard streams
    /// piped, echoes its stderr under `label`, and waits up to 60 s for its `listening on` line.
    ///
    /// # Errors
    ///
    /// When it cannot start, exits, or never says where it listens (with what it logged).
    pub fn spawn_command(mut command: Command, label: &str) -> io::Result<Self> {
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(io::Error::other("no pipes"));
        };
        let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (found, listening) = mpsc::channel();
        let readers = vec![
            collect(out, Arc::clone(&stdout), None),
            collect(err, Arc::clone(&stderr), Some((found, label.to_owned()))),
        ];
        let listening_on = listening.recv_timeout(Duration::from_secs(60)).ok();
        let Some((listening_on, addr)) = listening_on.and_then(|on| socket_address(&on).map(|addr| (on, addr))) else {
            let _ = child.kill();
            let _ = child.wait();
            let logged = stderr.lock().unwrap_or_else(PoisonError::into_inner).join("\n");
            return Err(io::Error::other(format!("{label} never logged `listening on <addr>`:\n{logged}")));
        };
        Ok(Self { child, addr, listening_on, stdout, stderr, readers })
    }

    /// What the process logged after `listening on` (an address, or the CLI's URL).
    pub fn listening_on(&self) -> &str {
        &self.listening_on
    }

    /// The lines printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process and returns every line it printed on stdout.
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.finish(None).stdout
    }

    /// Sends SIGTERM, as an operator stopping it would, and waits (60 s at most) for it to exit.
    ///
    /// # Panics
    ///
    /// When the signal cannot be sent or the process does not exit in time.
    pub fn terminate(mut self) -> Stopped {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(60);
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status.code();
            }
            assert!(Instant::now() < deadline, "the process did not exit within 60 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        self.finish(code)
    }

    /// Joins the readers of an exited process and takes what they collected.
    fn finish(&mut self, code: Option<i32>) -> Stopped {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let take =
            |lines: &Mutex<Vec<String>>| std::mem::take(&mut *lines.lock().unwrap_or_else(PoisonError::into_inner));
        Stopped { code, stdout: take(&self.stdout), stderr: take(&self.stderr) }
    }
}

impl Drop for ReceiverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts that `lines` are exactly one JSON line `{"id", "event_type"}` per expected delivery
/// (in any order) and nothing else.
///
/// # Panics
///
/// Naming the missing, extra or malformed lines.
pub fn assert_printed_once(lines: &[String], expected: &[Expected]) {
    let mut wanted: HashMap<(String, String), isize> = HashMap::new();
    for delivery in expected {
        *wanted.entry((delivery.id.clone(), delivery.event_type.clone())).or_default() += 1;
    }
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("stdout line is not JSON: {line}"));
        let id = value["id"].as_str().unwrap_or_else(|| panic!("no id in {line}")).to_owned();
        let event_type = value["event_type"].as_str().unwrap_or_else(|| panic!("no event_type in {line}")).to_owned();
        *wanted.entry((id, event_type)).or_default() -= 1;
    }
    let wrong: Vec<_> = wanted.into_iter().filter(|(_, count)| *count != 0).collect();
    assert!(
        wrong.is_empty(),
        "printed lines differ from handled deliveries (count > 0: missing, < 0: extra): {wrong:?}"
    );
}

/// The checks every example Botdog receiver binary passes (route `POST /webhooks/botdog`, secret
/// from `WEBHOOK_SECRET`, read timeout from `READ_TIMEOUT_SECS`, one JSON line per handled event).
pub mod example {
    use std::process::Command;
    use std::time::Duration;

    use super::{ReceiverProcess, assert_printed_once};
    use crate::conformance::BotdogReceiver;

    const PATH: &str = "/webhooks/botdog";

    fn start(program: &str, env: &[(&str, &str)]) -> (ReceiverProcess, BotdogReceiver) {
        let secret = env.iter().find(|(name, _)| *name == "WEBHOOK_SECRET").map_or("", |(_, value)| *value);
        let process = ReceiverProcess::spawn(program, env).unwrap_or_else(|error| panic!("{program}: {error}"));
        let receiver = BotdogReceiver { addr: process.addr, path: PATH.into(), secret: secret.into() };
        (process, receiver)
    }

    /// The status table, the dedup rows and 2,000 deliveries from 8 clients; every handled
    /// delivery printed exactly once, nothing else.
    ///
    /// # Panics
    ///
    /// On the first wrong answer or printed line.
    pub fn check_status_table_dedup_and_output(program: &str, secret: &str, prefix: &str) {
        let (process, receiver) = start(program, &[("WEBHOOK_SECRET", secret)]);
        let mut handled = receiver.check_status_table();
        handled.extend(receiver.check_dedup_rows(prefix));
        handled.extend(receiver.check_concurrent_deliveries(2000, 8));
        assert_printed_once(&process.stop(), &handled);
    }

    /// Hostile input ([`BotdogReceiver::check_hostile_input`]) against the binary started with a
    /// 2 s read timeout; only the liveness deliveries are handled.
    ///
    /// # Panics
    ///
    /// On the first failed check.
    pub fn check_hostile_input(program: &str, secret: &str) {
        let (process, receiver) = start(program, &[("WEBHOOK_SECRET", secret), ("READ_TIMEOUT_SECS", "2")]);
        let took = receiver.check_hostile_input(Duration::from_secs(2));
        eprintln!("20 deliveries beside 1,000 idle connections: {took:?}");
        let printed = process.stop();
        assert!(
            printed.iter().all(|line| line.contains("\"alive_")),
            "only liveness deliveries are handled: {printed:?}"
        );
    }

    /// Bodies that do not stop ([`BotdogReceiver::check_endless_body_is_cut`]) against the
    /// binary: each connection is closed within the discard bounds; none is handled.
    ///
    /// # Panics
    ///
    /// On the first failed check.
    pub fn check_endless_body_is_cut(program: &str, secret: &str) {
        let (process, receiver) = start(program, &[("WEBHOOK_SECRET", secret)]);
        receiver.check_endless_body_is_cut();
        let printed = process.stop();
        assert!(
            printed.iter().all(|line| line.contains("\"alive_")),
            "only liveness deliveries are handled: {printed:?}"
        );
    }

    /// Without `WEBHOOK_SECRET` the binary exits with status 2, prints nothing on stdout and names
    /// the variable on stderr.
    ///
    /// # Panics
    ///
    /// Otherwise.
    pub fn check_exits_2_without_secret(program: &str) {
        let output = Command::new(program)
            .env_remove("WEBHOOK_SECRET")
            .env("ADDR", "127.0.0.1:0")
            .output()
            .unwrap_or_else(|error| panic!("{program}: {error}"));
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("WEBHOOK_SECRET"), "{output:?}");
    }
}
