//! `webhook-guard send` into `webhook-guard listen` over loopback, for every sender; its exit
//! codes; `send --simulate` against receivers that fail first attempts and that drop events; and
//! every command's `--help`.

// Helpers beside the tests panic with their message as the failure report, like the tests.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;

use support::listener::Listener;
use support::scripted_server::scripted_server;
use support::{run, secret_for};
use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::fixtures;

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("send-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `send --provider P --secret S --url U extra…`.
fn send(provider: &str, secret: &str, url: &str, extra: &[&str]) -> support::Output {
    let mut args = vec!["send", "--provider", provider, "--secret", secret, "--url", url];
    args.extend_from_slice(extra);
    run(&args, b"")
}

#[test]
fn send_delivers_every_documented_event_of_every_sender_to_listen() {
    for &provider in AnyProvider::NAMES {
        let secret = secret_for(provider);
        let listener = Listener::start(&["--provider", provider, "--secret", secret]);
        let sent = send(provider, secret, &listener.url, &["--event", "all", "--count", "2", "--concurrency", "3"]);
        assert_eq!(sent.code, 0, "{provider}: {sent:?}");
        let expected: usize = 2 * fixtures(provider).len();
        let lines: Vec<&str> = sent.stdout_str().lines().collect();
        assert_eq!(lines.len(), expected + 1, "{provider}: a line per delivery and a summary: {lines:?}");
        assert!(lines[..expected].iter().all(|line| line.starts_with("200 OK ")), "{provider}: {lines:?}");
        assert_eq!(lines[expected], format!("sent {expected} deliveries to {}: {expected} answered 2xx", listener.url));

        let stopped = listener.terminate();
        assert_eq!(stopped.code, Some(0), "{provider}");
        // Every event once, typed, under the sender's name; two fresh events per fixture.
        let mut per_type: HashMap<String, usize> = HashMap::new();
        let mut ids = std::collections::HashSet::new();
        for line in &stopped.stdout {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(json["provider"], provider);
            assert!(ids.insert(json["id"].as_str().unwrap().to_owned()), "{provider}: id printed twice: {line}");
            *per_type.entry(json["event_type"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        for fixture in fixtures(provider) {
            assert_eq!(per_type.get(fixture.event_type), Some(&2), "{provider} {}", fixture.event_type);
        }
        assert_eq!(stopped.stdout.len(), expected, "{provider}");
    }
}

#[test]
fn copies_are_duplicates_and_forgeries_are_refused() {
    let listener = Listener::start(&["--provider", "breakcold", "--secret", "bc-secret"]);
    let copies =
        send("breakcold", "bc-secret", &listener.url, &["--event", "note.created", "--id", "evt_1", "--count", "3"]);
    assert_eq!(copies.code, 0, "{copies:?}");
    let lines: Vec<&str> = copies.stdout_str().lines().collect();
    assert!(!lines[0].contains("duplicate"), "{lines:?}");
    assert!(lines[1].ends_with("note.created  evt_1  duplicate: already handled"), "{lines:?}");
    assert!(lines[2].ends_with("duplicate: already handled"), "{lines:?}");

    // A password in the url is not printed.
    let with_password = listener.url.replace("http://", "http://user:pa55word@");
    let sent = send("breakcold", "bc-secret", &with_password, &["--event", "note.created"]);
    assert_eq!(sent.code, 0, "{sent:?}");
    assert!(!sent.stdout_str().contains("pa55word") && sent.stdout_str().contains("user:***@"), "{sent:?}");

    let forged = send("breakcold", "another-secret", &listener.url, &["--event", "note.created"]);
    assert_eq!(forged.code, 1, "{forged:?}");
    assert!(forged.stdout_str().starts_with("401 Unauthorized "), "{forged:?}");
    assert!(forged.stdout_str().lines().next().unwrap().ends_with("signature_mismatch"), "{forged:?}");
    assert_eq!(forged.stderr, "error: 1 of 1 deliveries were not answered 2xx\n");
    assert!(!forged.stdout_str().contains("another-secret") && !forged.stderr.contains("another-secret"));
    assert_eq!(listener.terminate().stdout.len(), 2);
}

#[test]
fn send_sends_a_body_file_unchanged() {
    let dir = temp_dir("body");
    let file = dir.join("event.json");
    std::fs::write(&file, "{\"type\":\"call.started\",\"timestamp\":\"2026-11-20T10:15:30Z\",\"data\":{}}\n").unwrap();
    let listener = Listener::start(&["--provider", "standard", "--secret", secret_for("standard")]);
    let sent =
        send("standard", secret_for("standard"), &listener.url, &["--body", file.to_str().unwrap(), "--count", "2"]);
    assert_eq!(sent.code, 0, "{sent:?}");
    let stopped = listener.terminate();
    // Standard Webhooks ids are headers: two fresh ids, two events.
    assert_eq!(stopped.stdout.len(), 2);
    assert!(stopped.stdout.iter().all(|line| line.contains(r#""event_type":"call.started""#)));
}

#[test]
fn send_exit_codes() {
    let usage = |args: &[&str], expected: &str| {
        let output = run(args, b"");
        assert_eq!(output.code, 2, "{args:?}: {output:?}");
        assert!(output.stdout.is_empty());
        assert!(output.stderr.contains(expected), "{args:?}: {output:?}");
    };
    let base = ["send", "--provider", "botdog", "--secret", "s"];
    usage(&[&base[..], &["--url", "nowhere"]].concat(), "error: --url `nowhere` is not an http:// or https:// url");
    usage(
        &[&base[..], &["--url", "http://127.0.0.1:1/", "--event", "NOPE"]].concat(),
        "error: no fixture for botdog event `NOPE`; known: all, LEAD_PROFILE_VISITED",
    );
    usage(&[&base[..], &["--url", "http://127.0.0.1:1/", "--speed", "10"]].concat(), "--simulate");
    usage(
        &["send", "--provider", "botdog", "--url", "http://127.0.0.1:1/"],
        "error: at least one --secret or --secret-env is required",
    );
    usage(
        &["send", "--provider", "stripe", "--secret", "s", "--url", "http://127.0.0.1:1/", "--simulate"],
        "no retry schedule to imitate",
    );
    usage(
        &[
            "send",
            "--provider",
            "pollybot",
            "--secret",
            "s",
            "--url",
            "http://127.0.0.1:1/",
            "--simulate",
            "--max-retries",
            "11",
        ],
        "error: --max-retries 11: Pollybot allows 0 to 10",
    );

    // Nobody listens: every delivery is reported without an answer, exit 1.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{closed}/");
    let refused = send("botdog", "s", &url, &["--event", "LEAD_MESSAGE_SENT"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stdout_str().starts_with("--- no answer"), "{refused:?}");
    assert!(refused.stdout_str().contains("connection failed"), "{refused:?}");
}

#[test]
fn simulate_retries_a_receiver_that_fails_first_attempts_until_every_event_is_acknowledged() {
    let dir = temp_dir("simulate-flaky");
    // Fails the first two attempts of each event.
    let script = format!(
        "sh -c 'f={}/\"$WEBHOOK_ID\"; n=$(cat \"$f\" 2>/dev/null || echo 0); echo $((n + 1)) > \"$f\"; [ \"$n\" -ge 2 ]'",
        dir.display()
    );
    for (provider, secret, extra) in [
        // Botdog: 1, 2, 4, 8, 16 minutes, at 60,000× speed.
        ("botdog", "sim-secret", vec!["--speed", "60000"]),
        // Pollybot: retryDelay 100 ms doubling, at 10×.
        ("pollybot", "sim-secret", vec!["--speed", "10", "--retry-delay", "100"]),
        // Standard Webhooks / Svix: 5 s, 5 min, … at 100,000×.
        ("standard", secret_for("standard"), vec!["--speed", "100000"]),
    ] {
        let listener = Listener::start(&["--provider", provider, "--secret", secret, "--exec", &script]);
        let mut args = vec!["--event", "all", "--simulate", "--concurrency", "4", "--seed", "11"];
        args.extend(extra);
        let simulated = send(provider, secret, &listener.url, &args);
        assert_eq!(simulated.code, 0, "{provider}: {simulated:?}");
        let events = fixtures(provider).len();
        let report = simulated.stdout_str();
        assert!(report.contains(&format!("  events:              {events}\n")), "{report}");
        assert!(report.contains(&format!("  acknowledged:        {events}\n")), "{report}");
        assert!(report.contains("  never acknowledged:  0\n"), "{report}");
        assert!(report.contains("attempt 3/"), "third attempts succeeded: {report}");
        let stopped = listener.terminate();
        assert_eq!(stopped.stdout.len(), events, "{provider}: each event handled once: {:?}", stopped.stdout);
    }
}

#[test]
fn simulate_names_the_events_a_receiver_drops() {
    // This receiver never handles LEAD_MESSAGE_SENT (a bug in its handler).
    let script = "sh -c '[ \"$WEBHOOK_EVENT_TYPE\" != LEAD_MESSAGE_SENT ]'";
    let listener = Listener::start(&["--provider", "botdog", "--secret", "drop-secret", "--exec", script]);
    let simulated = send(
        "botdog",
        "drop-secret",
        &listener.url,
        &[
            "--event",
            "all",
            "--count",
            "2",
            "--simulate",
            "--speed",
            "60000",
            "--duplicates",
            "1",
            "--redeliveries",
            "1",
        ],
    );
    assert_eq!(simulated.code, 1, "{simulated:?}");
    assert_eq!(simulated.stderr, "error: 2 of 10 events were never acknowledged\n");
    let report = simulated.stdout_str();
    assert!(report.contains("  acknowledged:        8\n"), "{report}");
    assert!(report.contains("  never acknowledged:  2\n"), "{report}");
    // Every acknowledged event was redelivered, and answered as a duplicate.
    assert!(
        report.contains("  redeliveries:        8 answered 2xx, 8 marked duplicate (already handled)\n"),
        "{report}"
    );
    let lost: Vec<&str> = report.lines().filter(|line| line.starts_with("    LEAD_MESSAGE_SENT msg_")).collect();
    assert_eq!(lost.len(), 2, "{report}");
    for line in lost {
        // Six attempts, plus the racing copy of the first.
        assert!(line.ends_with("after 7 attempts, last: 500 Internal Server Error handler_failed"), "{line}");
    }
    let stopped = listener.terminate();
    assert_eq!(stopped.stdout.len(), 8, "each acknowledged event handled once");
}

#[test]
fn simulated_svix_stops_retrying_an_endpoint_that_answers_410() {
    let (url, received) = scripted_server(vec![410], &[]);
    let simulated = send(
        "standard",
        secret_for("standard"),
        &url,
        &["--event", "call.completed", "--simulate", "--speed", "100000", "--duplicates", "0", "--redeliveries", "0"],
    );
    assert_eq!(simulated.code, 1, "{simulated:?}");
    let report = simulated.stdout_str();
    assert!(report.contains("attempt 1/8"), "{report}");
    assert!(!report.contains("attempt 2/8"), "no retry after 410: {report}");
    assert!(report.contains("after 1 attempts, last: 410 Gone"), "{report}");
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[test]
fn every_command_has_complete_help_with_an_example() {
    for command in ["sign", "verify", "listen", "send"] {
        let help = run(&[command, "--help"], b"");
        assert_eq!(help.code, 0, "{command}: {help:?}");
        let text = help.stdout_str();
        assert!(text.contains("--provider <NAME>") && text.contains("--secret-env <VAR>"), "{command}: {text}");
        let example = text.split("Example").nth(1).unwrap_or_else(|| panic!("{command}: no example: {text}"));
        assert!(example.contains(&format!("webhook-guard {command} --provider ")), "{command}: {text}");
    }
    let top = run(&["--help"], b"");
    assert!(top.stdout_str().contains("listen") && top.stdout_str().contains("send"), "{top:?}");
    let listen = run(&["listen", "--help"], b"").stdout;
    let listen = String::from_utf8(listen).unwrap();
    for flag in [
        "--addr",
        "--path",
        "--tolerance",
        "--body-limit",
        "--redis",
        "--exec",
        "--exec-timeout",
        "--forward",
        "--concurrency",
    ] {
        assert!(listen.contains(flag), "{flag}");
    }
}
