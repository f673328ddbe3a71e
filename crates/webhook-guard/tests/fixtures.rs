//! The payload fixtures: the table matches the `fixtures/` directory, every fixture is a JSON
//! object, and every fixture of a typed sender parses into its own typed event.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use webhook_guard::Event;
use webhook_guard::providers::botdog::BotdogEvent;
use webhook_guard::providers::breakcold::BreakcoldEvent;
use webhook_guard::providers::breakcold_legacy::BreakcoldLegacyEvent;
use webhook_guard::providers::pollybot::PollybotEvent;
use webhook_guard::providers::standard::StandardEvent;
use webhook_guard::testing::{Fixture, all_fixtures, fixture, fixtures};

const PROVIDERS: &[&str] =
    &["botdog", "pollybot", "breakcold", "breakcold-legacy", "standard", "github", "stripe", "slack", "shopify"];

/// Every file under `dir`, as a path relative to `root` with `/` separators.
fn files_under(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, found);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            let parts: Vec<_> = relative.iter().map(|part| part.to_str().unwrap()).collect();
            found.insert(parts.join("/"));
        }
    }
}

#[test]
fn table_and_directory_list_the_same_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut on_disk = BTreeSet::new();
    files_under(&root, &root, &mut on_disk);

    let in_table: BTreeSet<String> = all_fixtures().map(Fixture::relative_path).collect();
    let unlisted: Vec<_> = on_disk.difference(&in_table).collect();
    let missing: Vec<_> = in_table.difference(&on_disk).collect();
    assert!(unlisted.is_empty(), "files not in the fixture table: {unlisted:?}");
    assert!(missing.is_empty(), "table entries without a file: {missing:?}");
    assert_eq!(all_fixtures().count(), in_table.len(), "a fixture is listed twice");

    // Each table entry compiled the file its path names.
    for fixture in all_fixtures() {
        let on_disk = std::fs::read_to_string(root.join(fixture.relative_path())).unwrap();
        assert_eq!(fixture.body, on_disk, "{}", fixture.relative_path());
    }
}

#[test]
fn lookups_cover_every_provider() {
    for provider in PROVIDERS {
        assert!(!fixtures(provider).is_empty(), "{provider}");
        assert!(fixtures(provider).iter().all(|fixture| fixture.provider == *provider));
    }
    assert_eq!(all_fixtures().count(), PROVIDERS.iter().map(|p| fixtures(p).len()).sum::<usize>());
    assert!(fixtures("nope").is_empty());
    assert_eq!(fixture("shopify", "orders/create").unwrap().relative_path(), "shopify/orders_create.json");
    assert!(fixture("botdog", "LEAD_CREATED").is_none());
}

#[test]
fn every_fixture_is_a_json_object() {
    for fixture in all_fixtures() {
        let value: serde_json::Value =
            serde_json::from_str(fixture.body).unwrap_or_else(|error| panic!("{}: {error}", fixture.relative_path()));
        assert!(value.is_object(), "{}", fixture.relative_path());
    }
}

/// Asserts that every fixture of `provider` parses into a typed (non-`Unknown`) event whose
/// `event_type()` is the fixture's, and that every known event type has a fixture.
fn check_typed<E: Event>(
    provider: &str,
    known: &[&str],
    parse: impl Fn(&[u8]) -> Result<E, webhook_guard::PayloadError>,
    is_unknown: impl Fn(&E) -> bool,
) {
    for fixture in fixtures(provider) {
        let event = parse(fixture.body.as_bytes())
            .unwrap_or_else(|error| panic!("{}: {error} (at {})", fixture.relative_path(), error.path()));
        assert!(!is_unknown(&event), "{} parsed as Unknown", fixture.relative_path());
        assert_eq!(event.event_type(), fixture.event_type, "{}", fixture.relative_path());
    }
    for name in known {
        assert!(fixture(provider, name).is_some(), "{provider}: no fixture for {name}");
    }
}

#[test]
fn botdog_fixtures_are_typed() {
    check_typed("botdog", BotdogEvent::KNOWN_EVENT_TYPES, BotdogEvent::parse, |event| {
        matches!(event, BotdogEvent::Unknown(_))
    });
    for fixture in fixtures("botdog") {
        let event = BotdogEvent::parse(fixture.body.as_bytes()).unwrap();
        assert!(event.id().is_some_and(|id| id.starts_with("dlv_")));
    }
}

#[test]
fn pollybot_fixtures_are_typed() {
    check_typed("pollybot", PollybotEvent::KNOWN_EVENT_TYPES, PollybotEvent::parse, |event| {
        matches!(event, PollybotEvent::Unknown(_))
    });
    let event = PollybotEvent::parse(fixture("pollybot", "LEAD_CREATED").unwrap().body.as_bytes()).unwrap();
    assert!(event.dedup_parts().is_some());
}

#[test]
fn breakcold_fixtures_are_typed() {
    check_typed("breakcold", BreakcoldEvent::KNOWN_EVENT_TYPES, BreakcoldEvent::parse, |event| {
        matches!(event, BreakcoldEvent::Unknown(_))
    });
    for fixture in fixtures("breakcold") {
        let event = BreakcoldEvent::parse(fixture.body.as_bytes()).unwrap();
        assert!(event.event_id().is_some_and(|id| id.starts_with("evt_")));
    }
}

#[test]
fn breakcold_legacy_fixtures_are_typed_and_never_keep_the_secret() {
    let canonical: Vec<&str> =
        BreakcoldLegacyEvent::KNOWN_EVENT_TYPES.iter().copied().filter(|name| *name != "lead.lists.update").collect();
    check_typed("breakcold-legacy", &canonical, BreakcoldLegacyEvent::parse, |event| {
        matches!(event, BreakcoldLegacyEvent::Unknown(_))
    });
    for fixture in fixtures("breakcold-legacy") {
        assert!(fixture.body.contains("\"secret\": \"wh_fixture_secret\""), "{}", fixture.relative_path());
        let event = BreakcoldLegacyEvent::parse(fixture.body.as_bytes()).unwrap();
        assert!(!format!("{event:?}").contains("wh_fixture_secret"), "{}", fixture.relative_path());
        assert!(!serde_json::to_string(&event).unwrap().contains("wh_fixture_secret"));
        let verifier = webhook_guard::Verifier::builder(webhook_guard::providers::BreakcoldLegacy::new())
            .secret("wh_fixture_secret")
            .build()
            .unwrap();
        let delivery = verifier.verify(&[("Content-Type", "application/json")][..], fixture.body.as_bytes()).unwrap();
        assert!(!delivery.id().starts_with("sha256:"), "{}: derived id expected", fixture.relative_path());
    }
}

#[test]
fn breakcold_legacy_alias_is_the_same_variant() {
    let body = fixture("breakcold-legacy", "lead.list.update")
        .unwrap()
        .body
        .replace("\"lead.list.update\"", "\"lead.lists.update\"");
    let alias = BreakcoldLegacyEvent::parse(body.as_bytes()).unwrap();
    assert_eq!(alias.event_type(), "lead.lists.update");
    let BreakcoldLegacyEvent::LeadListUpdate(alias) = alias else { panic!("{alias:?}") };

    let inline = br#"{"id_space": "sp", "event": "lead.lists.update", "secret": "s",
        "payload": {"id": "ld_7", "updated_at": "2026-11-20T10:15:30.000Z"}}"#;
    let event = BreakcoldLegacyEvent::parse(inline).unwrap();
    assert!(matches!(event, BreakcoldLegacyEvent::LeadListUpdate(_)), "{event:?}");

    let canonical =
        BreakcoldLegacyEvent::parse(fixture("breakcold-legacy", "lead.list.update").unwrap().body.as_bytes()).unwrap();
    let BreakcoldLegacyEvent::LeadListUpdate(canonical) = canonical else { panic!("{canonical:?}") };
    assert_eq!(alias.payload, canonical.payload);
}

#[test]
fn standard_fixtures_are_typed() {
    check_typed("standard", &[], StandardEvent::<serde_json::Value>::parse, |_| false);
    for fixture in fixtures("standard") {
        let event = StandardEvent::<serde_json::Value>::parse(fixture.body.as_bytes()).unwrap();
        assert!(event.timestamp.is_some(), "{}", fixture.relative_path());
        assert!(event.data.is_object(), "{}", fixture.relative_path());
    }
}

#[test]
fn other_senders_name_their_event_type_in_the_body() {
    let value = |provider, event_type| -> serde_json::Value {
        serde_json::from_str(fixture(provider, event_type).unwrap().body).unwrap()
    };
    assert_eq!(value("stripe", "payment_intent.succeeded").event_type(), "payment_intent.succeeded");
    assert!(value("stripe", "payment_intent.succeeded")["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(value("slack", "event_callback").event_type(), "event_callback");
    assert!(value("slack", "event_callback")["event_id"].is_string());
    assert!(value("github", "push")["ref"].is_string());
    assert!(value("shopify", "orders/create")["line_items"].is_array());
}
