//! The real binary, started on a free port, against the core's conformance suite.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use webhook_guard::testing::conformance::{BotdogReceiver, Expected};

const BIN: &str = env!("CARGO_BIN_EXE_axum-receiver");
const SECRET: &str = "whsec_example_receiver_secret";

/// The running binary: its address, and its whole stdout once it is stopped.
struct Running {
    child: Child,
    addr: SocketAddr,
    stdout: JoinHandle<String>,
}

fn start() -> Running {
    let mut child = Command::new(BIN)
        .env("WEBHOOK_SECRET", SECRET)
        .env("ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes are drained all along: a full pipe would block the receiver.
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "the receiver exited before listening");
        if let Some((_, rest)) = line.split_once("listening on ") {
            // Stop at the first character that is not part of an address (an ANSI reset, the newline).
            let addr: String = rest.chars().take_while(|c| c.is_ascii_hexdigit() || ".:[]".contains(*c)).collect();
            break addr.parse().unwrap();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Running { child, addr, stdout }
}

/// The deliveries printed on stdout; each line must be exactly `{"id", "event_type"}`.
fn printed(stdout: &str) -> Vec<Expected> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value.as_object().map(serde_json::Map::len), Some(2), "{line}");
            let field = |name: &str| value[name].as_str().unwrap().to_owned();
            Expected { id: field("id"), event_type: field("event_type") }
        })
        .collect()
}

#[test]
fn answers_the_status_table_and_prints_one_line_per_delivery() {
    let mut running = start();
    let receiver =
        BotdogReceiver { addr: running.addr, path: "/webhooks/botdog".to_owned(), secret: SECRET.to_owned() };
    let table = receiver.check_status_table();
    let mut concurrent = receiver.check_concurrent_deliveries(2000, 8);
    running.child.kill().unwrap();
    running.child.wait().unwrap();

    let mut printed = printed(&running.stdout.join().unwrap());
    assert_eq!(printed.len(), table.len() + concurrent.len(), "one line per delivery, nothing else");
    let mut printed_concurrently = printed.split_off(table.len());
    assert_eq!(printed, table);
    printed_concurrently.sort_by(|a, b| a.id.cmp(&b.id));
    concurrent.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(printed_concurrently, concurrent);
}

#[test]
fn without_a_secret_it_exits_with_status_2() {
    let output = Command::new(BIN).env_remove("WEBHOOK_SECRET").env("ADDR", "127.0.0.1:0").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("WEBHOOK_SECRET"));
}
