//! `webhook-guard listen` as a real process over loopback: the status table, the handlings
//! (print, --exec, --forward), --exec-timeout, --concurrency, graceful shutdown and exit codes.

// Helpers beside the tests panic with their message as the failure report, like the tests.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::listener::{Listener, wait_until};
use support::scripted_server::scripted_server;
use support::{run, secret_for};
use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::{Signer, fixture};
use webhook_guard_test_support::conformance::BotdogReceiver;
use webhook_guard_test_support::http_client::{HttpResponse, post};
use webhook_guard_test_support::process::assert_printed_once;

const SECRET: &str = "listen-test-secret";

/// A fresh directory under the target's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("listen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A Botdog delivery of fixture `event_type` with body id `id`, signed now: headers and body.
fn botdog_delivery(id: &str, event_type: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let mut body: serde_json::Value = serde_json::from_str(fixture("botdog", event_type).unwrap().body).unwrap();
    body["id"] = id.into();
    let body = serde_json::to_vec(&body).unwrap();
    let signer = Signer::for_provider(&AnyProvider::from_name("botdog").unwrap(), &[SECRET]).unwrap();
    (signer.sign_delivery(&body, now(), "", None).headers, body)
}

fn deliver(listener: &Listener, id: &str) -> HttpResponse {
    let (headers, body) = botdog_delivery(id, "LEAD_MESSAGE_SENT");
    post(listener.addr, "/", &headers, &body).unwrap()
}

#[test]
fn listen_answers_the_status_table_and_prints_each_handled_delivery_once() {
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--path", "/webhooks/botdog"]);
    let receiver = BotdogReceiver { addr: listener.addr, path: "/webhooks/botdog".into(), secret: SECRET.into() };
    let mut handled = receiver.check_status_table();
    handled.extend(receiver.check_dedup_rows("cli_"));
    handled.extend(receiver.check_concurrent_deliveries(300, 4));

    // Only the path and POST are served.
    let elsewhere = post(listener.addr, "/other", &[], b"{}").unwrap();
    assert_eq!(elsewhere.status, 404);
    assert_eq!(elsewhere.body, br#"{"error":"not_found","message":"no webhook endpoint at this path"}"#);

    let stopped = listener.terminate();
    assert_eq!(stopped.code, Some(0), "{stopped:?}");
    assert_printed_once(&stopped.stdout, &handled);
}

#[test]
fn listen_refuses_bodies_over_the_limit_and_answers_handled_deliveries_exactly() {
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--body-limit", "64"]);
    let big = deliver(&listener, &"x".repeat(100));
    assert_eq!(big.status, 413);
    assert_eq!(big.json()["error"], "body_too_large");

    let limit_free = Listener::start(&["--provider", "botdog", "--secret", SECRET]);
    let first = deliver(&limit_free, "evt_exact");
    assert_eq!((first.status, first.body.as_slice()), (200, br#"{"status":"handled"}"#.as_slice()));
    assert_eq!(first.header("content-type"), Some("application/json"));
    let copy = deliver(&limit_free, "evt_exact");
    assert_eq!(copy.status, 200);
    assert_eq!(copy.header("webhook-guard-duplicate"), Some("completed"));
    assert_eq!(copy.body, br#"{"error":"duplicate","message":"this delivery was already processed"}"#);
    let stopped = limit_free.terminate();
    assert_eq!(stopped.stdout.len(), 1, "{stopped:?}");
    let line: serde_json::Value = serde_json::from_str(&stopped.stdout[0]).unwrap();
    assert_eq!(line["id"], "evt_exact");
    assert_eq!(line["event"]["eventType"], "LEAD_MESSAGE_SENT");
}

#[test]
fn exec_gets_the_event_line_on_stdin_and_the_delivery_in_its_environment() {
    let dir = temp_dir("exec-env");
    let script = format!(
        "sh -c 'cat > {0}/\"$WEBHOOK_ID\".json; printf \"%s %s\" \"$WEBHOOK_PROVIDER\" \"$WEBHOOK_EVENT_TYPE\" > {0}/\"$WEBHOOK_ID\".env; echo said-by-the-command'",
        dir.display()
    );
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--exec", &script]);
    assert_eq!(deliver(&listener, "evt_env").status, 200);
    let stopped = listener.terminate();
    assert_eq!(stopped.stdout.len(), 1);
    // The command read exactly the printed line, newline-terminated.
    assert_eq!(std::fs::read_to_string(dir.join("evt_env.json")).unwrap(), format!("{}\n", stopped.stdout[0]));
    assert_eq!(std::fs::read_to_string(dir.join("evt_env.env")).unwrap(), "botdog LEAD_MESSAGE_SENT");
    // The command's stdout goes to stderr: stdout carries only the JSON lines.
    assert!(stopped.stderr.iter().any(|line| line == "said-by-the-command"), "{stopped:?}");
}

#[test]
fn a_failing_exec_answers_500_and_the_retry_is_handled() {
    let dir = temp_dir("exec-fail");
    // Fails the first time it sees an id, succeeds the next.
    let script =
        format!("sh -c 'f={}/\"$WEBHOOK_ID\"; if [ -e \"$f\" ]; then exit 0; fi; touch \"$f\"; exit 3'", dir.display());
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--exec", &script]);
    let failed = deliver(&listener, "evt_retry");
    assert_eq!(failed.status, 500);
    assert_eq!(failed.body, br#"{"error":"handler_failed","message":"the command exited with status 3"}"#);
    assert!(listener.stdout().is_empty(), "nothing printed for a failed handling");
    assert_eq!(deliver(&listener, "evt_retry").status, 200, "the claim was released: the retry is handled");
    assert_eq!(deliver(&listener, "evt_retry").header("webhook-guard-duplicate"), Some("completed"));
    let stopped = listener.terminate();
    assert_eq!(stopped.stdout.len(), 1);
}

#[test]
fn exec_timeout_kills_the_whole_process_group_and_answers_500() {
    let dir = temp_dir("exec-timeout");
    // The shell starts a background sleep (a grandchild) and waits: both must die.
    let script = format!("sh -c 'sleep 300 & echo $! > {}/grandchild; wait'", dir.display());
    let listener =
        Listener::start(&["--provider", "botdog", "--secret", SECRET, "--exec", &script, "--exec-timeout", "0.5"]);
    let started = Instant::now();
    let answer = deliver(&listener, "evt_slow");
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json()["message"], "the command ran longer than 500ms and was killed");
    assert!(started.elapsed() < Duration::from_secs(20), "answered within a generous bound");
    let grandchild = std::fs::read_to_string(dir.join("grandchild")).unwrap();
    let proc_dir = PathBuf::from(format!("/proc/{}", grandchild.trim()));
    wait_until(Duration::from_secs(20), "the background sleep is killed", || {
        // Gone, or a zombie waiting for its (killed) parent's reaper.
        std::fs::read_to_string(proc_dir.join("stat")).map_or(true, |stat| stat.contains(") Z "))
    });
    assert!(listener.terminate().stdout.is_empty());
}

#[test]
fn concurrency_overflow_answers_503_with_retry_after() {
    let dir = temp_dir("concurrency");
    let script = format!("sh -c 'touch {}/\"$WEBHOOK_ID\"; sleep 2'", dir.display());
    let listener =
        Listener::start(&["--provider", "botdog", "--secret", SECRET, "--exec", &script, "--concurrency", "1"]);
    let addr = listener.addr;
    let slow = std::thread::spawn(move || {
        let (headers, body) = botdog_delivery("evt_first", "LEAD_MESSAGE_SENT");
        post(addr, "/", &headers, &body).unwrap()
    });
    wait_until(Duration::from_secs(20), "the first command runs", || dir.join("evt_first").exists());
    let overflow = deliver(&listener, "evt_second");
    assert_eq!(overflow.status, 503);
    assert_eq!(overflow.header("retry-after"), Some("5"));
    assert_eq!(overflow.json()["error"], "busy");
    assert_eq!(slow.join().unwrap().status, 200);
    // The overflowed delivery's claim was released: its retry is handled.
    assert_eq!(deliver(&listener, "evt_second").status, 200);
    assert_eq!(listener.terminate().stdout.len(), 2);
}

#[test]
fn sigterm_lets_a_delivery_in_flight_finish_then_exits_0() {
    let dir = temp_dir("shutdown");
    let script = format!("sh -c 'touch {}/started; sleep 1'", dir.display());
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--exec", &script]);
    let addr = listener.addr;
    let in_flight = std::thread::spawn(move || {
        let (headers, body) = botdog_delivery("evt_in_flight", "LEAD_MESSAGE_SENT");
        post(addr, "/", &headers, &body).unwrap()
    });
    wait_until(Duration::from_secs(20), "the command runs", || dir.join("started").exists());
    let stopped = listener.terminate();
    assert_eq!(stopped.code, Some(0), "{stopped:?}");
    assert_eq!(in_flight.join().unwrap().status, 200, "the delivery in flight was answered");
    assert_eq!(stopped.stdout.len(), 1);
    assert!(stopped.stderr.iter().any(|line| line.contains("SIGTERM: no longer accepting")), "{stopped:?}");
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer accepting");
}

#[test]
fn forward_posts_the_verified_body_unchanged_and_a_failure_is_retried() {
    let (url, seen) = scripted_server(vec![500, 200], &[]);
    let listener = Listener::start(&["--provider", "botdog", "--secret", SECRET, "--forward", &url]);
    let (headers, body) = botdog_delivery("evt_forward", "LEAD_MESSAGE_REPLIED");
    let failed = post(listener.addr, "/", &headers, &body).unwrap();
    assert_eq!(failed.status, 502);
    assert_eq!(
        failed.body,
        br#"{"error":"forward_failed","message":"the forward url answered 500 Internal Server Error"}"#
    );
    // The sender's retry: re-signed, same body.
    let (headers, _) = botdog_delivery("evt_forward", "LEAD_MESSAGE_REPLIED");
    assert_eq!(post(listener.addr, "/", &headers, &body).unwrap().status, 200);
    assert_eq!(post(listener.addr, "/", &headers, &body).unwrap().header("webhook-guard-duplicate"), Some("completed"));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "the duplicate is not forwarded");
    for (head, forwarded) in &seen {
        assert_eq!(forwarded, &body, "the body is forwarded byte for byte");
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("post /internal/events http/1.1"), "{head}");
        for expected in [
            "content-type: application/json",
            "x-webhook-guard-provider: botdog",
            "x-webhook-guard-id: evt_forward",
            "x-webhook-guard-event-type: lead_message_replied",
        ] {
            assert!(head.contains(expected), "{expected} in {head}");
        }
    }
    assert_eq!(listener.terminate().stdout.len(), 1);
}

#[test]
fn forward_gives_up_after_its_timeout_with_502() {
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let listener =
        Listener::start(&["--provider", "botdog", "--secret", SECRET, "--forward", &url, "--forward-timeout", "0.5"]);
    let answer = deliver(&listener, "evt_silent");
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["message"], "the forward url did not answer within 500ms");
    drop(silent);
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let one_line = |args: &[&str], expected: &str| {
        let output = run(args, b"");
        assert_eq!(output.code, 2, "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        assert_eq!(output.stderr, format!("error: {expected}\n"), "{args:?}");
    };
    one_line(&["listen", "--provider", "botdog"], "at least one --secret or --secret-env is required");
    one_line(
        &["listen", "--provider", "botdog", "--secret", "s", "--addr", "nowhere"],
        "--addr `nowhere` is not an address like 127.0.0.1:8787",
    );
    one_line(
        &["listen", "--provider", "botdog", "--secret", "s", "--path", "hooks"],
        "--path `hooks` must start with `/`",
    );
    one_line(
        &["listen", "--provider", "botdog", "--secret", "s", "--exec", "sh -c 'oops"],
        "--exec: unbalanced quotes in the command",
    );
    one_line(&["listen", "--provider", "botdog", "--secret", "s", "--exec", ""], "--exec: the command is empty");
    one_line(
        &["listen", "--provider", "botdog", "--secret", "s", "--forward", "ftp://x/"],
        "--forward `ftp://x/` is not an http:// or https:// url",
    );

    // A secret the sender cannot use is named, not echoed.
    let bad_key = run(&["listen", "--provider", "standard", "--secret", "not-a-whsec-key"], b"");
    assert_eq!(bad_key.code, 2);
    assert_eq!(bad_key.stderr.lines().count(), 1, "{bad_key:?}");
    assert!(!bad_key.stderr.contains("not-a-whsec-key"));

    // An address in use.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let in_use = run(&["listen", "--provider", "botdog", "--secret", "s", "--addr", &addr], b"");
    assert_eq!(in_use.code, 2, "{in_use:?}");
    assert!(in_use.stderr.starts_with(&format!("error: cannot listen on {addr}: ")), "{in_use:?}");
    assert_eq!(in_use.stderr.lines().filter(|line| line.starts_with("error:")).count(), 1);

    // Nothing answers on a closed port: --redis fails at start.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{closed}/");
    let no_redis = run(&["listen", "--provider", "botdog", "--secret", "s", "--redis", &url], b"");
    assert_eq!(no_redis.code, 2, "{no_redis:?}");
    assert!(no_redis.stderr.starts_with("error: --redis: "), "{no_redis:?}");
    assert_eq!(no_redis.stderr.lines().count(), 1, "{no_redis:?}");
    assert_eq!(secret_for("botdog"), "cli-test-secret-7d1f");
}
