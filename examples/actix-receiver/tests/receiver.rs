//! The real `actix-receiver` binary over real HTTP, through the shared example checks: the status
//! table, the dedup rows and 2,000 concurrent deliveries (each event printed exactly once), hostile
//! input, bodies that do not stop, and the exit status without a secret.

use webhook_guard_test_support::process::example;

const BIN: &str = env!("CARGO_BIN_EXE_actix-receiver");

#[test]
fn answers_the_status_table_and_dedup_rows_and_prints_each_event_once() {
    example::check_status_table_dedup_and_output(BIN, "whsec_actix_receiver_test", "actix_example");
}

#[test]
fn survives_hostile_input_and_cuts_trickling_bodies_after_its_read_timeout() {
    example::check_hostile_input(BIN, "whsec_actix_receiver_test");
}

#[test]
fn without_a_secret_it_exits_with_status_2() {
    example::check_exits_2_without_secret(BIN);
}

#[test]
fn cuts_bodies_that_do_not_stop_within_the_discard_bounds() {
    example::check_endless_body_is_cut(BIN, "whsec_actix_receiver_test");
}
