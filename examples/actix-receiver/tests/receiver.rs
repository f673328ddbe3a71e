//! The real `actix-receiver` binary over real HTTP: the whole status table, the dedup rows
//! (a repeated delivery, 32 raced copies), 2,000 concurrent deliveries, and exactly one stdout line
//! per event processed.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use webhook_guard::testing::conformance::{BotdogReceiver, Expected};

const BIN: &str = env!("CARGO_BIN_EXE_actix-receiver");
const SECRET: &str = "whsec_actix_receiver_test";

struct Receiver {
    child: Child,
    addr: SocketAddr,
    stdout: Option<JoinHandle<String>>,
}

impl Receiver {
    /// Stops the receiver and returns everything it printed on stdout.
    fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.stdout.take().unwrap().join().unwrap()
    }
}

/// A failing test must not leave the receiver running.
impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a free port and reads the address from its `listening on` log line. Both
/// pipes are drained on threads so the receiver never blocks on a full pipe.
fn start() -> Receiver {
    let mut child = Command::new(BIN)
        .env("WEBHOOK_SECRET", SECRET)
        .env("ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (found, addr) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once("listening on ") {
                let _ = found.send(rest.trim().parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = addr.recv_timeout(Duration::from_secs(30)).expect("no `listening on <addr>` line on stderr");
    Receiver { child, addr, stdout: Some(stdout) }
}

fn parse_lines(stdout: &str) -> Vec<Expected> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            let object = value.as_object().unwrap_or_else(|| panic!("not an object: {line}"));
            assert_eq!(object.len(), 2, "only id and event_type: {line}");
            Expected {
                id: object["id"].as_str().unwrap().to_owned(),
                event_type: object["event_type"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

fn multiset(deliveries: &[Expected]) -> HashMap<(&str, &str), usize> {
    let mut counts = HashMap::new();
    for delivery in deliveries {
        *counts.entry((delivery.id.as_str(), delivery.event_type.as_str())).or_default() += 1;
    }
    counts
}

#[test]
fn the_receiver_answers_the_status_table_and_dedup_rows_and_prints_one_line_per_event() {
    let receiver = start();
    let botdog = BotdogReceiver { addr: receiver.addr, path: "/webhooks/botdog".into(), secret: SECRET.into() };
    let table = botdog.check_status_table();
    let dedup = botdog.check_dedup_rows("example");
    let concurrent = botdog.check_concurrent_deliveries(2000, 8);
    assert_eq!(concurrent.len(), 2000);
    let printed = parse_lines(&receiver.stop());
    let len = table.len() + dedup.len() + concurrent.len();
    assert_eq!(printed.len(), len, "one line per event processed, nothing else");
    let (printed_table, rest) = printed.split_at(table.len());
    let (printed_dedup, printed_concurrent) = rest.split_at(dedup.len());
    assert_eq!(printed_table, table, "the status table's deliveries, in order");
    assert_eq!(printed_dedup, dedup, "a repeated delivery and 32 raced copies: one line each");
    assert_eq!(multiset(printed_concurrent), multiset(&concurrent), "each concurrent delivery once");
}

#[test]
fn a_missing_secret_exits_with_2() {
    let output = Command::new(BIN).env_remove("WEBHOOK_SECRET").env("ADDR", "127.0.0.1:0").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("WEBHOOK_SECRET"), "{output:?}");
    assert!(output.stdout.is_empty());
}
