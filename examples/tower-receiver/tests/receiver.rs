//! The real `tower-receiver` binary over real HTTP, through the core's conformance suite: the
//! status table, the dedup rows and 2,000 concurrent deliveries, each event printed exactly once;
//! other routes are 404 and never verified.
#![allow(clippy::unwrap_used)]

use std::net::Shutdown;
use std::process::Command;

use webhook_guard::testing::conformance::BotdogReceiver;
use webhook_guard::testing::http_client::{post, send_raw};
use webhook_guard::testing::process::{ReceiverProcess, assert_printed_once};

const BIN: &str = env!("CARGO_BIN_EXE_tower-receiver");
const SECRET: &str = "whsec_tower_receiver_test";

fn start() -> ReceiverProcess {
    ReceiverProcess::spawn(BIN, &[("WEBHOOK_SECRET", SECRET)]).unwrap()
}

#[test]
fn answers_the_status_table_and_dedup_rows_and_prints_each_event_once() {
    let process = start();
    let receiver = BotdogReceiver { addr: process.addr, path: "/webhooks/botdog".into(), secret: SECRET.into() };
    let mut handled = receiver.check_status_table();
    handled.extend(receiver.check_dedup_rows("tower_example"));
    handled.extend(receiver.check_concurrent_deliveries(2000, 8));
    assert_printed_once(&process.stop(), &handled);
}

#[test]
fn other_routes_are_404_and_never_verified() {
    let process = start();
    let body = BotdogReceiver::valid_body("elsewhere", "LEAD_PROFILE_VISITED");
    assert_eq!(post(process.addr, "/webhooks/other", &[], &body).unwrap().status, 404);
    let get = format!("GET /webhooks/botdog HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", process.addr);
    assert_eq!(send_raw(process.addr, get.as_bytes(), Shutdown::Write).unwrap().status, 404);
    assert_printed_once(&process.stop(), &[]);
}

#[test]
fn survives_hostile_input_and_cuts_trickling_bodies_after_its_read_timeout() {
    let env = [("WEBHOOK_SECRET", SECRET), ("READ_TIMEOUT_SECS", "2")];
    let process = ReceiverProcess::spawn(BIN, &env).unwrap();
    let receiver = BotdogReceiver { addr: process.addr, path: "/webhooks/botdog".into(), secret: SECRET.into() };
    let took = receiver.check_hostile_input(std::time::Duration::from_secs(2));
    eprintln!("20 deliveries beside 1,000 idle connections: {took:?}");
    assert!(process.stop().iter().all(|line| line.contains("\"alive_")), "only the liveness deliveries are handled");
}

#[test]
fn without_a_secret_it_exits_with_status_2() {
    let output = Command::new(BIN).env_remove("WEBHOOK_SECRET").env("ADDR", "127.0.0.1:0").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("WEBHOOK_SECRET"));
}
