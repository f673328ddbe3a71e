//! The real `crm-sync` binary over real HTTP, on a SQLite file and on a real PostgreSQL server,
//! fed by the five senders as they sign and retry: every documented event type (and an unknown
//! one) in 8 racing copies and a duplicate, out-of-order updates, one new person from the five
//! senders at once, and a handler failing after its contact write (a trigger the test installs).
//! The end state is read with SQL: one activity per event, each contact at its newest fields.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::bodies::{contact_event, unknown_event};
use support::db::{Db, quote};
use support::{Event, PROVIDERS, SECRETS, Sender, fresh_id};
use webhook_guard_test_support::postgres_server::PostgresServer;
use webhook_guard_test_support::process::ReceiverProcess;

const BIN: &str = env!("CARGO_BIN_EXE_crm-sync");

/// crm-sync with every sender enabled, on `url`.
fn start(url: &str) -> ReceiverProcess {
    let mut env: Vec<(&str, &str)> = SECRETS.to_vec();
    env.push(("DATABASE_URL", url));
    ReceiverProcess::spawn(BIN, &env).unwrap()
}

/// The statuses of one event's attempts: exactly one applied it (`204`, the handler's commit);
/// the others were copies in flight (`409`), duplicates (`200`) or found the database busy (`503`,
/// SQLite's write lock on a loaded machine): never a `500`, a handler that failed.
fn assert_applied_once(statuses: &[u16], what: &str) {
    let applied = statuses.iter().filter(|status| **status == 204).count();
    assert_eq!(applied, 1, "{what}: {statuses:?}");
    assert!(statuses.iter().all(|status| matches!(status, 200 | 204 | 409 | 503)), "{what}: {statuses:?}");
}

/// The activities of `provider` as `(delivery_id, event_type, contact_id)`.
fn activities(db: &Db, provider: &str) -> Vec<(String, String, Option<String>)> {
    let sql = format!(
        "SELECT delivery_id, event_type, CAST(contact_id AS TEXT) FROM activities WHERE provider = {}",
        quote(provider)
    );
    db.rows(&sql).into_iter().map(|row| (row[0].clone().unwrap(), row[1].clone().unwrap(), row[2].clone())).collect()
}

/// The activity of `event`: asserts there is exactly one; its contact id.
fn activity_of(db: &Db, event: &Event) -> Option<String> {
    let mine: Vec<_> = activities(db, event.provider).into_iter().filter(|(id, _, _)| event.owns(id)).collect();
    assert_eq!(mine.len(), 1, "{} {} ({}): {mine:?}", event.provider, event.id, event.event_type);
    assert_eq!(mine[0].1, event.event_type);
    mine[0].2.clone()
}

/// A contact as the tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contact {
    id: String,
    name: Option<String>,
    company: Option<String>,
    title: Option<String>,
}

/// The contact owning `email`; `None` when no contact has it.
fn contact_by_email(db: &Db, email: &str) -> Option<Contact> {
    let sql = format!(
        "SELECT CAST(c.id AS TEXT), c.name, c.company, c.title FROM contacts c \
         JOIN contact_identities i ON i.contact_id = c.id WHERE i.kind = 'email' AND i.value = {}",
        quote(email)
    );
    let rows = db.rows(&sql);
    assert!(rows.len() <= 1, "{email}: {rows:?}");
    rows.first().map(|row| Contact {
        id: row[0].clone().unwrap(),
        name: row[1].clone(),
        company: row[2].clone(),
        title: row[3].clone(),
    })
}

/// Every documented event of every sender and one unknown type, each in 8 racing copies (then
/// retried until acknowledged, as the sender would), then once more: exactly one copy was applied
/// (`204`), the rest answered in flight (`409`) or duplicate (`200`); one activity per event.
fn every_event_in_racing_copies_and_a_duplicate(db: &Db, process: &ReceiverProcess, senders: &[Sender]) -> usize {
    let mut sent = 0;
    for sender in senders {
        let mut bodies: Vec<Value> = webhook_guard::testing::fixtures(sender.provider)
            .iter()
            .map(|fixture| serde_json::from_str(fixture.body).unwrap())
            .collect();
        bodies.push(unknown_event(sender.provider));
        let events: Vec<Event> = bodies.into_iter().map(|body| Event::new(sender.provider, body)).collect();
        for event in &events {
            let statuses = sender.deliver(process.addr, event, 8);
            assert_applied_once(&statuses, &format!("{} {}", sender.provider, event.event_type));
            let again = sender.send(process.addr, event);
            assert_eq!(again.status, 200, "{} {}: a duplicate: {again:?}", sender.provider, event.event_type);
        }
        let recorded = activities(db, sender.provider);
        assert_eq!(recorded.len(), events.len(), "{}: {recorded:?}", sender.provider);
        for event in &events {
            activity_of(db, event);
        }
        sent += events.len();
    }
    // The legacy secret travels in the body: it is never stored.
    let secret = SECRETS.iter().find(|(name, _)| *name == "BREAKCOLD_LEGACY_SECRET").unwrap().1;
    assert_eq!(db.count(&format!("SELECT id FROM activities WHERE payload LIKE '%{secret}%'")), 0);
    sent
}

/// Per sender: a newer update delivered first, then an older one: the contact keeps the newer
/// name and company and both activities exist; the same in order; and six updates racing in
/// reverse order: the newest one's fields win.
fn out_of_order_updates_keep_the_newest_fields(db: &Db, process: &ReceiverProcess, senders: &[Sender]) -> usize {
    for sender in senders {
        let provider = sender.provider;
        let email = format!("{}@order.example.com", fresh_id("order"));
        let lead = fresh_id("lead");
        let newer = Event::new(provider, contact_event(provider, &email, "Newer Name", "Newer Co", 20, &lead));
        let older = Event::new(provider, contact_event(provider, &email, "Older Name", "Older Co", 19, &lead));
        sender.deliver(process.addr, &newer, 1);
        sender.deliver(process.addr, &older, 1);
        let contact = contact_by_email(db, &email).unwrap();
        assert_eq!(contact.name.as_deref(), Some("Newer Name"), "{provider}");
        assert_eq!(contact.company.as_deref(), Some("Newer Co"), "{provider}");
        if provider == "breakcold" {
            // Both carry a title: the newer one's stays.
            assert_eq!(contact.title.as_deref(), Some("title of day 20"));
        }
        assert_eq!(activity_of(db, &newer), Some(contact.id.clone()), "{provider}");
        assert_eq!(activity_of(db, &older), Some(contact.id), "{provider}");
        // And in order (older, then newer) the newer fields win too.
        let email = format!("{}@order.example.com", fresh_id("inorder"));
        let lead = fresh_id("lead");
        for (day, name) in [(19, "Older Name"), (20, "Newer Name")] {
            let event = Event::new(provider, contact_event(provider, &email, name, name, day, &lead));
            sender.deliver(process.addr, &event, 1);
        }
        assert_eq!(contact_by_email(db, &email).unwrap().name.as_deref(), Some("Newer Name"), "{provider}");
        // And six updates at once, in racing pairs of copies: the newest wins.
        let email = format!("{}@order.example.com", fresh_id("racing"));
        let lead = fresh_id("lead");
        let updates: Vec<Event> = (21..27)
            .rev()
            .map(|day| {
                let name = format!("Name of day {day}");
                Event::new(provider, contact_event(provider, &email, &name, &name, day, &lead))
            })
            .collect();
        std::thread::scope(|scope| {
            for event in &updates {
                scope.spawn(move || sender.deliver(process.addr, event, 2));
            }
        });
        let contact = contact_by_email(db, &email).unwrap();
        assert_eq!(contact.name.as_deref(), Some("Name of day 26"), "{provider}");
        assert_eq!(contact.company.as_deref(), Some("Name of day 26"), "{provider}");
        for event in &updates {
            assert_eq!(activity_of(db, event), Some(contact.id.clone()), "{provider}");
        }
    }
    10 * senders.len()
}

/// One new person (one email) from the five senders at once, each event in racing copies: one
/// contact, which every activity points to.
fn one_person_from_five_senders_at_once_is_one_contact(
    db: &Db,
    process: &ReceiverProcess,
    senders: &[Sender],
) -> usize {
    for round in 0..3 {
        let email = format!("{}@cross.example.com", fresh_id("cross"));
        let events: Vec<Event> = senders
            .iter()
            .map(|sender| {
                let body =
                    contact_event(sender.provider, &email, "Cross Sender", "Cross Co", 10 + round, &fresh_id("lead"));
                Event::new(sender.provider, body)
            })
            .collect();
        std::thread::scope(|scope| {
            for (sender, event) in senders.iter().zip(&events) {
                scope.spawn(move || sender.deliver(process.addr, event, 3));
            }
        });
        let contact = contact_by_email(db, &email).unwrap();
        assert_eq!(contact.name.as_deref(), Some("Cross Sender"));
        for event in &events {
            assert_eq!(activity_of(db, event), Some(contact.id.clone()), "{} {}", event.provider, event.event_type);
        }
        let contacts = db.count(&format!(
            "SELECT DISTINCT contact_id FROM activities WHERE contact_id IN \
             (SELECT contact_id FROM contact_identities WHERE kind = 'email' AND value = {})",
            quote(&email)
        ));
        assert_eq!(contacts, 1);
    }
    3 * senders.len()
}

/// Per sender: an event delivered again after its inbox row is gone (purged once its ttl, 72 h,
/// passed, while the sender still redelivers): crm-sync finds the activity, completes the claim
/// and changes nothing.
fn a_delivery_after_its_inbox_row_was_purged_is_not_applied_twice(
    db: &Db,
    process: &ReceiverProcess,
    senders: &[Sender],
) -> usize {
    for sender in senders {
        let provider = sender.provider;
        let email = format!("{}@purged.example.com", fresh_id("purged"));
        let event = Event::new(provider, contact_event(provider, &email, "Purged", "Co", 7, &fresh_id("lead")));
        assert_applied_once(&sender.deliver(process.addr, &event, 1), provider);
        db.execute("DELETE FROM webhook_guard_inbox");
        assert_applied_once(&sender.deliver(process.addr, &event, 1), &format!("{provider}: claimed anew"));
        assert_eq!(sender.send(process.addr, &event).status, 200, "{provider}: then a duplicate");
        let contact = contact_by_email(db, &email).unwrap();
        assert_eq!(activity_of(db, &event), Some(contact.id), "{provider}");
    }
    senders.len()
}

/// A trigger that makes the insert of an activity fail while its delivery id contains a marker
/// listed in `fail_once`: the handler has written the contact by then.
fn install_failing_trigger(db: &Db) {
    db.execute("CREATE TABLE fail_once (marker TEXT PRIMARY KEY)");
    if db.is_postgres() {
        db.execute(
            "CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF EXISTS (SELECT 1 FROM fail_once WHERE strpos(NEW.delivery_id, marker) > 0) THEN \
             RAISE EXCEPTION 'induced failure'; END IF; RETURN NEW; END $$",
        );
        db.execute("CREATE TRIGGER fail_once BEFORE INSERT ON activities FOR EACH ROW EXECUTE FUNCTION fail_once()");
    } else {
        db.execute(
            "CREATE TRIGGER fail_once BEFORE INSERT ON activities \
             WHEN EXISTS (SELECT 1 FROM fail_once WHERE instr(NEW.delivery_id, marker) > 0) \
             BEGIN SELECT RAISE(ABORT, 'induced failure'); END",
        );
    }
}

/// Per sender: the handler fails after writing the contact → 500, nothing committed (no contact,
/// no activity); the sender's retry applies it once.
fn a_failing_handler_commits_nothing_and_the_retry_applies_once(
    db: &Db,
    process: &ReceiverProcess,
    senders: &[Sender],
) -> usize {
    install_failing_trigger(db);
    for sender in senders {
        let provider = sender.provider;
        let email = format!("{}@fail.example.com", fresh_id("fail"));
        let event = Event::new(provider, contact_event(provider, &email, "Failing", "Fail Co", 5, &fresh_id("lead")));
        db.execute(&format!("INSERT INTO fail_once (marker) VALUES ({})", quote(&event.id)));
        let response = sender.send(process.addr, &event);
        assert_eq!(response.status, 500, "{provider}: {response:?}");
        assert_eq!(contact_by_email(db, &email), None, "{provider}: the contact write was rolled back");
        assert!(activities(db, provider).iter().all(|(id, ..)| !event.owns(id)), "{provider}");
        db.execute(&format!("DELETE FROM fail_once WHERE marker = {}", quote(&event.id)));
        let statuses = sender.deliver(process.addr, &event, 1);
        assert_applied_once(&statuses, &format!("{provider}: the retry"));
        assert_eq!(sender.send(process.addr, &event).status, 200, "{provider}: then a duplicate");
        let contact = contact_by_email(db, &email).unwrap();
        assert_eq!(contact.name.as_deref(), Some("Failing"));
        assert_eq!(activity_of(db, &event), Some(contact.id));
    }
    senders.len()
}

/// The whole run on one database: each part, then one activity per event sent and one stdout
/// line per applied delivery.
fn end_to_end(url: &str) -> ReceiverProcess {
    let process = start(url);
    let db = Db::connect(url);
    let senders: Vec<Sender> = PROVIDERS.into_iter().map(Sender::new).collect();
    let mut sent = every_event_in_racing_copies_and_a_duplicate(&db, &process, &senders);
    sent += out_of_order_updates_keep_the_newest_fields(&db, &process, &senders);
    sent += one_person_from_five_senders_at_once_is_one_contact(&db, &process, &senders);
    sent += a_failing_handler_commits_nothing_and_the_retry_applies_once(&db, &process, &senders);
    let purged = a_delivery_after_its_inbox_row_was_purged_is_not_applied_twice(&db, &process, &senders);
    sent += purged;
    assert_eq!(db.count("SELECT id FROM activities"), sent);
    let stdout = process.stdout();
    let applied = stdout.iter().filter(|line| line.contains(r#""outcome":"applied""#)).count();
    assert_eq!(applied, sent, "one stdout line per applied delivery");
    let again = stdout.iter().filter(|line| line.contains(r#""outcome":"already recorded""#)).count();
    assert_eq!(again, purged, "one line per delivery found already recorded");
    assert_eq!(stdout.len(), applied + again, "nothing else on stdout: {stdout:?}");
    process
}

#[test]
fn end_to_end_on_sqlite() {
    let dir = std::env::temp_dir().join(fresh_id("crm-sync-test"));
    std::fs::create_dir_all(&dir).unwrap();
    // The file does not exist yet: crm-sync creates it.
    let url = format!("sqlite://{}", dir.join("crm.db").display());
    let process = end_to_end(&url);
    let stopped = process.terminate();
    assert_eq!(stopped.code, Some(0), "SIGTERM stops it gracefully: {:?}", stopped.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn end_to_end_on_postgres() {
    let server = PostgresServer::start();
    let url = server.create_database("crm_sync");
    end_to_end(&url).stop();
}

/// PostgreSQL killed mid-run: a delivery is answered `503` (the guard cannot claim it) and
/// nothing is written; once the server is back, the sender's retry is applied once.
#[test]
fn postgres_killed_mid_run_answers_503_then_the_retry_is_applied_once() {
    let mut server = PostgresServer::start();
    let url = server.create_database("crm_sync_kill");
    let process = start(&url);
    let sender = Sender::new("breakcold");
    let email = format!("{}@kill.example.com", fresh_id("kill"));
    let before = Event::new("breakcold", contact_event("breakcold", &email, "Before", "Co", 3, &fresh_id("rec")));
    assert_applied_once(&sender.deliver(process.addr, &before, 1), "before the kill");

    server.kill();
    let during = Event::new("breakcold", contact_event("breakcold", &email, "During", "Co", 4, &fresh_id("rec")));
    let response = sender.send(process.addr, &during);
    assert_eq!(response.status, 503, "{response:?}");
    assert!(response.header("retry-after").is_some(), "{response:?}");

    server.restart();
    let statuses = sender.deliver(process.addr, &during, 1);
    assert_applied_once(&statuses, "after the restart");
    assert_eq!(sender.send(process.addr, &during).status, 200);
    let db = Db::connect(&url);
    let contact = contact_by_email(&db, &email).unwrap();
    assert_eq!(contact.name.as_deref(), Some("During"));
    assert_eq!(activity_of(&db, &before), Some(contact.id.clone()));
    assert_eq!(activity_of(&db, &during), Some(contact.id));
    assert_eq!(db.count("SELECT id FROM activities"), 2);
    process.stop();
}

#[test]
fn without_a_secret_or_with_an_unknown_database_it_exits_with_status_2() {
    let dir = std::env::temp_dir();
    let output = std::process::Command::new(BIN).env_clear().current_dir(&dir).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("BOTDOG_SECRET"), "{output:?}");
    let output = std::process::Command::new(BIN)
        .env_clear()
        .env("BOTDOG_SECRET", "s")
        .env("DATABASE_URL", "mysql://localhost/crm")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"), "{output:?}");
    let output = std::process::Command::new(BIN)
        .env_clear()
        .env("BOTDOG_SECRET", "s")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("in-memory"), "{output:?}");
}
