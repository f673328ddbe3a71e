//! The real `tower-receiver` binary over real HTTP, through the shared example checks: the status
//! table, the dedup rows and 2,000 concurrent deliveries (each event printed exactly once), hostile
//! input, bodies that do not stop, the exit status without a secret; and other routes are 404 and
//! never verified.
#![allow(clippy::unwrap_used)]

use std::net::Shutdown;

use webhook_guard_test_support::conformance::BotdogReceiver;
use webhook_guard_test_support::http_client::{post, send_raw};
use webhook_guard_test_support::process::{ReceiverProcess, assert_printed_once, example};

const BIN: &str = env!("CARGO_BIN_EXE_tower-receiver");
const SECRET: &str = "whsec_tower_receiver_test";

#[test]
fn answers_the_status_table_and_dedup_rows_and_prints_each_event_once() {
    example::check_status_table_dedup_and_output(BIN, SECRET, "tower_example");
}

#[test]
fn other_routes_are_404_and_never_verified() {
    let process = ReceiverProcess::spawn(BIN, &[("WEBHOOK_SECRET", SECRET)]).unwrap();
    let body = BotdogReceiver::valid_body("elsewhere", "LEAD_PROFILE_VISITED");
    assert_eq!(post(process.addr, "/webhooks/other", &[], &body).unwrap().status, 404);
    let get = format!("GET /webhooks/botdog HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", process.addr);
    assert_eq!(send_raw(process.addr, get.as_bytes(), Shutdown::Write).unwrap().status, 404);
    assert_printed_once(&process.stop(), &[]);
}

#[test]
fn survives_hostile_input_and_cuts_trickling_bodies_after_its_read_timeout() {
    example::check_hostile_input(BIN, SECRET);
}

#[test]
fn cuts_bodies_that_do_not_stop_within_the_discard_bounds() {
    example::check_endless_body_is_cut(BIN, SECRET);
}

#[test]
fn without_a_secret_it_exits_with_status_2() {
    example::check_exits_2_without_secret(BIN);
}
