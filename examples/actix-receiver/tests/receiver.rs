//! The real `actix-receiver` binary over real HTTP, through the core's conformance suite: the
//! status table, the dedup rows and 2,000 concurrent deliveries, each event printed exactly once.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use webhook_guard::testing::conformance::BotdogReceiver;
use webhook_guard::testing::process::{ReceiverProcess, assert_printed_once};

const BIN: &str = env!("CARGO_BIN_EXE_actix-receiver");
const SECRET: &str = "whsec_actix_receiver_test";

#[test]
fn answers_the_status_table_and_dedup_rows_and_prints_each_event_once() {
    let process = ReceiverProcess::spawn(BIN, &[("WEBHOOK_SECRET", SECRET)]).unwrap();
    let receiver = BotdogReceiver { addr: process.addr, path: "/webhooks/botdog".into(), secret: SECRET.into() };
    let mut handled = receiver.check_status_table();
    handled.extend(receiver.check_dedup_rows("actix_example"));
    handled.extend(receiver.check_concurrent_deliveries(2000, 8));
    assert_printed_once(&process.stop(), &handled);
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
