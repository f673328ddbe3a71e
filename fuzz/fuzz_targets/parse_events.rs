//! Every provider's typed parsing on arbitrary bytes: the per-provider `parse` functions and
//! `Provider::parse_event` of each preset. Must never panic; both routes agree; a parsed event
//! can be formatted and serialized; and a Breakcold legacy event never keeps a top-level `secret`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhook_guard::providers::{BotdogEvent, BreakcoldEvent, BreakcoldLegacyEvent, PollybotEvent, StandardEvent};
use webhook_guard::{Event, PayloadError, Provider};
use webhook_guard_fuzz::keyrings;

/// Headers that name the event type for the senders that put it there.
const HEADERS: &[(&str, &str)] =
    &[("X-GitHub-Event", "push"), ("X-Shopify-Topic", "orders/create"), ("X-Webhook-Event", "record.created")];

fn outcome<E: Event + serde::Serialize>(parsed: &Result<E, PayloadError>) -> Result<String, String> {
    match parsed {
        Ok(event) => {
            let json = serde_json::to_string(event).unwrap_or_else(|error| panic!("serializing {event:?}: {error}"));
            let _ = format!("{event:?}");
            Ok(format!("{}|{json}", event.event_type()))
        }
        Err(error) => Err(format!("{}|{}|{error}", error.path(), error.message())),
    }
}

fuzz_target!(|body: &[u8]| {
    let direct = [
        ("botdog", outcome(&BotdogEvent::parse(body))),
        ("pollybot", outcome(&PollybotEvent::parse(body))),
        ("breakcold", outcome(&BreakcoldEvent::parse(body))),
        ("breakcold-legacy", outcome(&BreakcoldLegacyEvent::parse(body))),
        ("standard", outcome(&StandardEvent::<serde_json::Value>::parse(body))),
    ];
    for case in keyrings::CASES {
        let parsed = keyrings::provider(case).parse_event(HEADERS, body);
        let routed = outcome(&parsed);
        let base = case.strip_suffix("-body-only").unwrap_or(case);
        if let Some((_, direct)) = direct.iter().find(|(name, _)| *name == base) {
            assert_eq!(&routed, direct, "{case}: parse_event and the event type's parse disagree");
        }
        if *case == "breakcold-legacy"
            && let Ok(event) = &parsed
        {
            let json = serde_json::to_value(event).unwrap_or_default();
            for object in [Some(&json), json.get("raw")].into_iter().flatten() {
                assert!(object.get("secret").is_none(), "a legacy event keeps its secret: {json}");
            }
        }
    }
});
