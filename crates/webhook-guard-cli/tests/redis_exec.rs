//! At least once in, exactly once out: two `listen --exec` processes share one real
//! `redis-server`; the command fails 30 % of the time; every event is delivered as racing copies
//! to both until one acknowledges it. Each event is processed exactly once, and all are
//! acknowledged.

// Helpers beside the tests panic with their message as the failure report, like the tests.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use support::listener::Listener;
use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::{Signer, fixture};
use webhook_guard_test_support::http_client::post;
use webhook_guard_test_support::redis_server::RedisServer;

const SECRET: &str = "redis-exec-secret";
const EVENTS: usize = 400;

fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// One sender thread's work: each of `ids`, as copies racing to both receivers, re-signed and
/// retried until one copy is answered 2xx. Returns how many attempts each took.
fn deliver_until_acknowledged(ids: Vec<String>, receivers: [SocketAddr; 2]) -> Vec<(String, usize)> {
    let signer = Signer::for_provider(&AnyProvider::from_name("botdog").unwrap(), &[SECRET]).unwrap();
    let template: serde_json::Value =
        serde_json::from_str(fixture("botdog", "LEAD_MESSAGE_REPLIED").unwrap().body).unwrap();
    let mut attempts = Vec::new();
    for id in ids {
        let mut body = template.clone();
        body["id"] = id.as_str().into();
        let body = serde_json::to_vec(&body).unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut tries = 0;
        loop {
            tries += 1;
            let headers = signer.sign_delivery(&body, now(), "", None).headers;
            let copies: Vec<_> = receivers
                .iter()
                .map(|addr| {
                    let (addr, headers, body) = (*addr, headers.clone(), body.clone());
                    std::thread::spawn(move || post(addr, "/", &headers, &body).map(|answer| answer.status))
                })
                .collect();
            let statuses: Vec<u16> = copies.into_iter().map(|copy| copy.join().unwrap().unwrap_or(0)).collect();
            if statuses.iter().any(|status| (200..300).contains(status)) {
                break;
            }
            assert!(Instant::now() < deadline, "{id} not acknowledged within 120 s: {statuses:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        attempts.push((id, tries));
    }
    attempts
}

#[test]
fn two_listeners_on_one_redis_process_every_event_exactly_once() {
    let redis = RedisServer::start();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("redis-exec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("processed");
    // Fails when a random byte is below 77 (77/256: 30 %); otherwise appends the id (one short
    // O_APPEND write per line: lines from both receivers never interleave).
    let script = format!(
        "sh -c 'cat > /dev/null; [ $(od -An -N1 -tu1 /dev/urandom) -ge 77 ] || exit 1; echo \"$WEBHOOK_ID\" >> {}'",
        log.display()
    );
    let args = ["--provider", "botdog", "--secret", SECRET, "--redis", &redis.url(), "--exec", &script];
    let (first, second) = (Listener::start(&args), Listener::start(&args));
    let receivers = [first.addr, second.addr];

    let ids: Vec<String> = (0..EVENTS).map(|n| format!("evt_race_{n:04}")).collect();
    let senders: Vec<_> = ids
        .chunks(EVENTS / 4)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            std::thread::spawn(move || deliver_until_acknowledged(chunk, receivers))
        })
        .collect();
    let attempts: Vec<(String, usize)> = senders.into_iter().flat_map(|sender| sender.join().unwrap()).collect();
    assert_eq!(attempts.len(), EVENTS, "every event acknowledged");
    assert!(attempts.iter().any(|(_, tries)| *tries > 1), "some handlings failed and were retried");

    // Redeliveries of acknowledged events: answered as duplicates by either receiver.
    let signer = Signer::for_provider(&AnyProvider::from_name("botdog").unwrap(), &[SECRET]).unwrap();
    for id in ids.iter().take(10) {
        let mut body: serde_json::Value =
            serde_json::from_str(fixture("botdog", "LEAD_MESSAGE_REPLIED").unwrap().body).unwrap();
        body["id"] = id.as_str().into();
        let body = serde_json::to_vec(&body).unwrap();
        for addr in receivers {
            let answer = post(addr, "/", &signer.sign_delivery(&body, now(), "", None).headers, &body).unwrap();
            assert_eq!((answer.status, answer.header("webhook-guard-duplicate")), (200, Some("completed")), "{id}");
        }
    }

    let (first, second) = (first.terminate(), second.terminate());
    assert_eq!((first.code, second.code), (Some(0), Some(0)));
    let processed = std::fs::read_to_string(&log).unwrap();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in processed.lines() {
        *counts.entry(id).or_default() += 1;
    }
    let wrong: Vec<_> = ids.iter().filter(|id| counts.get(id.as_str()) != Some(&1)).collect();
    assert!(wrong.is_empty(), "processed other than exactly once: {wrong:?}");
    assert_eq!(counts.len(), EVENTS, "nothing else processed");
    // And printed once across both receivers.
    let printed = first.stdout.len() + second.stdout.len();
    assert_eq!(printed, EVENTS);
    assert!(!first.stdout.is_empty() && !second.stdout.is_empty(), "both receivers handled events");
}
