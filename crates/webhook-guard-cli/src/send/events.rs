//! The events `send` delivers: payload fixtures made into fresh events (each with its own id), or
//! a body given as a file, and how each attempt is signed.

use std::path::Path;

use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::{SignedRequest, Signer, fixture, fixtures};
use webhook_guard::{Clock as _, Provider as _, SystemClock};

use crate::failure::Failure;
use crate::input;
use crate::sign::random_id;

/// One event to deliver: the same body and id on every attempt, as senders retry.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The event type, as the sender names it.
    pub(crate) event_type: String,
    /// The delivery id the sender gives it (in a header, or in the body, per sender).
    pub(crate) id: String,
    /// The body, with the id written in where the sender puts it.
    pub(crate) body: Vec<u8>,
}

/// What to send: `--event TYPE` (or `all`), or `--body FILE`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The fixtures of one event type, or of every documented one (`all`).
    Fixture(&'a str),
    /// A body, sent unchanged.
    File(&'a Path),
}

/// `count` events of each selected fixture, each with a fresh id written where the sender writes
/// it (or `id` for all of them, to make copies of one event); or `count` deliveries of the file's
/// body, unchanged, each with a fresh header id.
///
/// # Errors
///
/// A usage failure for an unknown event type, an unreadable file or a fixture that is not JSON.
pub(crate) fn events(
    provider: &AnyProvider,
    source: Source<'_>,
    count: u32,
    id: Option<&str>,
) -> Result<Vec<Event>, Failure> {
    let new_id = || id.map_or_else(random_id, |id| Ok(id.to_owned()));
    let mut events = Vec::new();
    match source {
        Source::File(path) => {
            let body = input::read_body(Some(path))?;
            let event_type = serde_json::from_slice::<serde_json::Value>(&body)
                .map(|value| webhook_guard::Event::event_type(&value).to_owned())
                .unwrap_or_default();
            for _ in 0..count {
                events.push(Event { event_type: event_type.clone(), id: new_id()?, body: body.clone() });
            }
        }
        Source::Fixture(event_type) => {
            for fixture in selected_fixtures(provider, event_type)? {
                for _ in 0..count {
                    let id = new_id()?;
                    let body = fixture
                        .with_id(&id)
                        .map_err(|error| Failure::usage(format!("a fixture is not JSON: {error}")))?;
                    events.push(Event { event_type: fixture.event_type.to_owned(), id, body });
                }
            }
        }
    }
    Ok(events)
}

/// The fixtures of `event_type`, or all of the provider's for `all`.
fn selected_fixtures(
    provider: &AnyProvider,
    event_type: &str,
) -> Result<Vec<&'static webhook_guard::testing::Fixture>, Failure> {
    let name = provider.name();
    if event_type == "all" {
        return Ok(fixtures(name).iter().collect());
    }
    fixture(name, event_type).map(|fixture| vec![fixture]).ok_or_else(|| {
        let known: Vec<&str> = fixtures(name).iter().map(|fixture| fixture.event_type).collect();
        Failure::usage(format!("no fixture for {name} event `{event_type}`; known: all, {}", known.join(", ")))
    })
}

/// Signs one attempt of `event` now: a fresh timestamp on every attempt, as senders re-sign each
/// retry (Standard Webhooks: the timestamp changes on every attempt, the id does not).
pub(crate) fn sign_attempt(signer: &Signer, event: &Event) -> SignedRequest {
    signer.sign_delivery(&event.body, SystemClock.now_unix(), &event.id, Some(&event.event_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_fixture_events_carry_their_id_where_the_sender_writes_it() {
        for name in AnyProvider::NAMES {
            let provider = AnyProvider::from_name(name).unwrap();
            let events = events(&provider, Source::Fixture("all"), 2, None).unwrap();
            assert_eq!(events.len(), 2 * fixtures(name).len(), "{name}");
            assert_ne!(events[0].id, events[1].id, "{name}");
            for (event, fixture) in events.iter().zip(fixtures(name).iter().flat_map(|fixture| [fixture, fixture])) {
                if let Some(pointer) = fixture.id_pointer() {
                    let body: serde_json::Value = serde_json::from_slice(&event.body).unwrap();
                    assert_eq!(body.pointer(pointer).and_then(|id| id.as_str()), Some(event.id.as_str()), "{name}");
                }
            }
        }
    }

    #[test]
    fn a_given_id_makes_copies_of_one_event() {
        let provider = AnyProvider::from_name("botdog").unwrap();
        let events = events(&provider, Source::Fixture("LEAD_MESSAGE_SENT"), 2, Some("evt_same")).unwrap();
        assert_eq!(events[0].body, events[1].body);
        assert_eq!(events[0].id, "evt_same");
    }
}
