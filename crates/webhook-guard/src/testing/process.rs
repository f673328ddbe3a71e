//! Running a receiver binary (the examples, the CLI's `listen`) as a real process in tests.
//!
//! The process is started with `ADDR=127.0.0.1:0`, its bound address is read from the
//! `listening on <addr>` line it logs on stderr, and every line it prints on stdout is collected,
//! so a test can check that each handled delivery was printed exactly once.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::conformance::Expected;

/// A receiver process under test. Killed on drop.
#[derive(Debug)]
pub struct ReceiverProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl ReceiverProcess {
    /// Starts `program` with `env` (plus `ADDR=127.0.0.1:0`) and waits up to 60 s for its
    /// `listening on` line.
    ///
    /// # Errors
    ///
    /// When it cannot start, exits, or never says where it listens.
    pub fn spawn(program: &str, env: &[(&str, &str)]) -> io::Result<Self> {
        let mut command = Command::new(program);
        command.env("ADDR", "127.0.0.1:0").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn()?;
        let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(io::Error::other("no pipes"));
        };
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&stdout);
        let out_reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                collected.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
            }
        });
        let (found, listening) = mpsc::channel();
        let err_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1).and_then(|rest| rest.split_whitespace().next()) {
                    let _ = found.send(addr.parse::<SocketAddr>().ok());
                }
                eprintln!("[receiver] {line}");
            }
        });
        let addr = match listening.recv_timeout(Duration::from_secs(60)) {
            Ok(Some(addr)) => addr,
            _ => {
                let _ = child.kill();
                return Err(io::Error::other(format!("{program} never logged `listening on <addr>`")));
            }
        };
        Ok(Self { child, addr, stdout, readers: vec![out_reader, err_reader] })
    }

    /// Stops the process and returns every line it printed on stdout.
    pub fn stop(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        std::mem::take(&mut *self.stdout.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
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
