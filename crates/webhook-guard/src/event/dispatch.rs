//! One-pass parsing of an event enum that is dispatched on a top-level type field.
//!
//! [`peek_type_field`](super::peek_type_field) and a second parse read the start of the body
//! twice, and stop the first parse with a serde error, whose message serde_json formats and
//! allocates and whose line and column it computes: under callgrind that was 3,350 instructions
//! per 1 KiB Botdog delivery, beside 7,300 for serde_json into the struct alone. Here the body
//! is read once (8,340 instructions in all): the entries before the type field are kept as JSON
//! values (senders put nothing there, or one to three short strings), then the event's struct
//! is deserialized from those entries, the type field, and the rest of the object straight from
//! the bytes.
//!
//! This parse says only whether it succeeded: on any failure the caller parses again the
//! two-pass way, whose errors name the JSON path. Everything that decides success is the same
//! in both (serde_json's `Value` deserializer follows its byte deserializer, and the unit tests
//! run every fixture and every refusal through both), so a body gets the same event or the same
//! error whichever pass decides.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use super::CowStr;

/// An event enum that chooses the type of its body by a top-level string field.
pub(crate) trait TypedEvent: Sized {
    /// The top-level field that names the event type.
    const TYPE_FIELD: &'static str;

    /// Whether `event_type` has a typed variant. Its struct has the type field, so it refuses a
    /// second copy (serde's derive refuses duplicate fields).
    fn is_typed(event_type: &str) -> bool;

    /// Deserializes the event whose type field reads `event_type` from `object`, the whole
    /// top-level object (type field included): its typed variant, or its unknown-event variant
    /// for a type it does not know.
    ///
    /// # Errors
    ///
    /// When `object` does not match the event's type.
    fn deserialize_as<'de, D: de::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error>;
}

/// Parses `body` into `E`: in one pass, and when that fails, again with `describe_failure` (the
/// sender's two-pass parse, which tracks the JSON path) to say where. What every typed sender's
/// `parse` does.
///
/// # Errors
///
/// The error of `describe_failure`.
pub(crate) fn parse_typed<E: TypedEvent>(
    body: &[u8],
    describe_failure: fn(&[u8]) -> Result<E, crate::error::PayloadError>,
) -> Result<E, crate::error::PayloadError> {
    parse_in_one_pass(body).map_or_else(|| describe_failure(body), Ok)
}

/// Parses `body` into `E` in one pass, or `None` when the body is not a valid `E`: not one
/// JSON object, no type field or one that is not a string, a second copy of the type field, or
/// an object that does not match its type.
pub(crate) fn parse_in_one_pass<E: TypedEvent>(body: &[u8]) -> Option<E> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let event = de::Deserializer::deserialize_map(&mut deserializer, OnePass(PhantomData)).ok()?;
    // Trailing bytes after the object make it not JSON, whatever a lenient reader would take.
    deserializer.end().ok()?;
    Some(event)
}

/// Reads the top-level object up to its type field, then hands it, resumed, to
/// [`TypedEvent::deserialize_as`].
struct OnePass<E>(PhantomData<fn() -> E>);

impl<'de, E: TypedEvent> Visitor<'de> for OnePass<E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<E, A::Error> {
        let mut before = ReadAhead::default();
        while let Some(CowStr(key)) = map.next_key()? {
            if key == E::TYPE_FIELD {
                let CowStr(event_type) = map.next_value()?;
                let object = ResumedObject {
                    before,
                    // Borrowed from the body unless the name has escapes: no copy.
                    type_value: Some(event_type.clone()),
                    type_field: E::TYPE_FIELD,
                    refuse_type_field_again: !E::is_typed(&event_type),
                    live: map,
                    pending: Pending::Nothing,
                };
                return E::deserialize_as(&event_type, object);
            }
            let value = map.next_value()?;
            before.push(key, value);
        }
        // Never shown: the two-pass parse describes the failure.
        Err(de::Error::custom("no type field"))
    }
}

/// The entries before the type field, kept until the struct they belong to is known. Senders
/// put at most one there (Botdog's `id`, Breakcold legacy's `id_space`) or a few (Breakcold's
/// `eventId`, `timestamp`, `workspaceId`): the first is kept in place, without an allocation.
#[derive(Default)]
struct ReadAhead<'de> {
    first: Option<(Cow<'de, str>, serde_json::Value)>,
    rest: std::collections::VecDeque<(Cow<'de, str>, serde_json::Value)>,
}

impl<'de> ReadAhead<'de> {
    fn push(&mut self, key: Cow<'de, str>, value: serde_json::Value) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some((key, value));
        } else {
            self.rest.push_back((key, value));
        }
    }

    fn pop_front(&mut self) -> Option<(Cow<'de, str>, serde_json::Value)> {
        self.first.take().or_else(|| self.rest.pop_front())
    }
}

/// A top-level object whose entries up to and including the type field have been read: it
/// replays them (`before`, then the type field), then reads the rest from `live`.
///
/// A second copy of the type field is refused, by the struct of a typed variant (serde's derive
/// refuses duplicate fields, and each of those structs has the type field) or here for an
/// unknown type: a JSON value would keep the last copy silently, and which one the sender meant
/// cannot be known.
struct ResumedObject<'de, A> {
    before: ReadAhead<'de>,
    type_value: Option<Cow<'de, str>>,
    type_field: &'static str,
    /// Whether to look at every key for the type field: only for an unknown type, as the structs
    /// refuse it themselves and handing them the keys as they come is faster.
    refuse_type_field_again: bool,
    live: A,
    /// Where the value of the key last handed out is.
    pending: Pending<'de>,
}

enum Pending<'de> {
    Nothing,
    Before(serde_json::Value),
    TypeValue(Cow<'de, str>),
    Live,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for ResumedObject<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        // The entries read ahead come before the type field: once it is handed out, both are.
        if self.type_value.is_some() {
            if let Some((key, value)) = self.before.pop_front() {
                self.pending = Pending::Before(value);
                return seed.deserialize(StrValue::new(key)).map(Some);
            }
            if let Some(type_value) = self.type_value.take() {
                self.pending = Pending::TypeValue(type_value);
                return seed.deserialize(StrValue::new(Cow::Borrowed(self.type_field))).map(Some);
            }
        }
        self.pending = Pending::Live;
        if !self.refuse_type_field_again {
            return self.live.next_key_seed(seed);
        }
        let Some(CowStr(key)) = self.live.next_key()? else {
            return Ok(None);
        };
        if key == self.type_field {
            return Err(de::Error::custom("duplicate type field"));
        }
        seed.deserialize(StrValue::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Before(value) => seed.deserialize(value).map_err(de::Error::custom),
            Pending::TypeValue(text) => seed.deserialize(StrValue::new(text)),
            Pending::Live => self.live.next_value_seed(seed),
            Pending::Nothing => Err(de::Error::custom("value asked for before its key")),
        }
    }
}

impl<'de, A: MapAccess<'de>> de::Deserializer<'de> for ResumedObject<'de, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// A key or the type field's value, handed to its type as serde_json hands a string: borrowed
/// when it has no escapes, `Some` for an `Option`, the content of a newtype, a unit variant's
/// name for an enum.
struct StrValue<'de, E> {
    text: Cow<'de, str>,
    error: PhantomData<E>,
}

impl<'de, E> StrValue<'de, E> {
    fn new(text: Cow<'de, str>) -> Self {
        Self { text, error: PhantomData }
    }
}

impl<'de, E: de::Error> de::Deserializer<'de> for StrValue<'de, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.text {
            Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
            Cow::Owned(text) => visitor.visit_string(text),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.text {
            Cow::Borrowed(text) => BorrowedStrDeserializer::new(text).deserialize_enum(name, variants, visitor),
            Cow::Owned(text) => StringDeserializer::new(text).deserialize_enum(name, variants, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fmt::Debug;

    use super::*;
    use crate::error::PayloadError;
    use crate::testing::fixtures;

    /// One sender's typed event, as these tests drive it.
    struct Sender<E> {
        name: &'static str,
        parse: fn(&[u8]) -> Result<E, PayloadError>,
        two_passes: fn(&[u8]) -> Result<E, PayloadError>,
        /// A name of a type it knows.
        known: &'static str,
    }

    /// The one-pass parse gives the event the two-pass parse gives, or fails where it fails;
    /// and the public `parse` answers exactly as the two-pass parse (same event, same error).
    /// Returns whether the body was accepted.
    fn same_answer<E: TypedEvent + PartialEq + Debug>(sender: &Sender<E>, body: &[u8]) -> bool {
        let one = parse_in_one_pass::<E>(body);
        let two = (sender.two_passes)(body);
        let shown = String::from_utf8_lossy(body);
        match (&one, &two) {
            (Some(one), Ok(two)) => assert_eq!(one, two, "{}: {shown}", sender.name),
            (None, Err(_)) => {}
            _ => panic!("{}: one pass {one:?}, two passes {two:?}: {shown}", sender.name),
        }
        assert_eq!((sender.parse)(body), two, "{}: {shown}", sender.name);
        one.is_some()
    }

    /// `body` (a JSON object) with its entries in a new order: the type field moved to `at`.
    fn with_type_field_at(body: &str, type_field: &str, at: usize) -> String {
        let serde_json::Value::Object(object) = serde_json::from_str(body).unwrap() else { panic!("{body}") };
        let mut entries: Vec<_> = object.into_iter().collect();
        let from = entries.iter().position(|(key, _)| key == type_field).unwrap();
        let entry = entries.remove(from);
        entries.insert(at.min(entries.len()), entry);
        serde_json::to_string(&entries.into_iter().collect::<serde_json::Map<_, _>>()).unwrap()
    }

    /// `body` with `text` inserted before its closing brace (`body` has at least one entry).
    fn with_entry(body: &str, text: &str) -> String {
        let end = body.rfind('}').unwrap();
        format!("{}, {text}{}", &body[..end], &body[end..])
    }

    fn check_sender<E: TypedEvent + PartialEq + Debug>(sender: &Sender<E>) {
        let field = E::TYPE_FIELD;
        let all = fixtures(sender.name);
        assert!(!all.is_empty(), "{}", sender.name);
        for fixture in all {
            let body = fixture.body;
            assert!(same_answer(sender, body.as_bytes()), "{}", fixture.relative_path());
            // Wherever the type field sits: first, second, last (entries before it are read ahead).
            for at in [0, 1, 2, usize::MAX] {
                let moved = with_type_field_at(body, field, at);
                assert!(same_answer(sender, moved.as_bytes()), "{moved}");
            }
            let last = with_type_field_at(body, field, usize::MAX);
            // Unknown fields of every kind, before and after the type field, are ignored.
            let extra = r#""zz_new": {"a": [1, 2.5, null, true, "s\u00e9"]}, "zz_n": -3, "zz_s": "x\"y""#;
            assert!(same_answer(sender, with_entry(body, extra).as_bytes()));
            assert!(same_answer(sender, with_entry(&last, extra).as_bytes()));
            // A second copy of the type field is refused, whichever value it has and wherever the
            // first copy is; so are trailing bytes, a cut body, and a type field that is no string.
            for copy in [fixture.event_type, "SOMETHING_ELSE", sender.known] {
                let twice = with_entry(body, &format!(r#""{field}": "{copy}""#));
                assert!(!same_answer(sender, twice.as_bytes()), "{twice}");
                let first = with_type_field_at(body, field, 0);
                assert!(!same_answer(sender, with_entry(&first, &format!(r#""{field}": "{copy}""#)).as_bytes()));
            }
            for trailing in [" x", " {}", "}", ",", " \"\""] {
                assert!(!same_answer(sender, format!("{body}{trailing}").as_bytes()), "{trailing}");
            }
            assert!(same_answer(sender, format!(" {body} \n").as_bytes()), "whitespace around the object is JSON");
            for value in ["null", "3", "[]", "{}", "true"] {
                let typed = body.replacen(&format!(r#""{}""#, fixture.event_type), value, 1);
                assert!(!same_answer(sender, typed.as_bytes()), "{typed}");
            }
        }
        // Cut anywhere, or with any byte changed, the answer is the two-pass parse's.
        let body = with_type_field_at(all[0].body, field, 1);
        for end in 0..body.len() {
            assert!(!same_answer(sender, &body.as_bytes()[..end]));
        }
        for at in 0..body.len() {
            for byte in [b'"', b'{', b'}', b',', b':', b'\\', b'1', b' ', b'x', 0xff] {
                let mut changed = body.clone().into_bytes();
                changed[at] = byte;
                same_answer(sender, &changed);
            }
        }
        // Not an object, no type field, an unknown type (its JSON kept whole), escapes.
        for body in ["", "[]", "1", "\"x\"", "null", "{}", r#"{"a": 1}"#] {
            assert!(!same_answer(sender, body.as_bytes()), "{body}");
        }
        let unknown = format!(r#"{{"a": {{"b": [1]}}, "{field}": "NOT_YET_KNOWN", "z": null}}"#);
        assert!(same_answer(sender, unknown.as_bytes()));
        // A JSON value would keep the last copy of the type field: the one-pass parse refuses the
        // second itself.
        for copy in ["NOT_YET_KNOWN", "OTHER", sender.known] {
            let twice = with_entry(&unknown, &format!(r#""{field}": "{copy}""#));
            assert!(!same_answer(sender, twice.as_bytes()), "{twice}");
        }
        let escaped_key = all[0].body.replacen(
            &format!(r#""{field}""#),
            &format!(r#""\u00{:x}{}""#, field.as_bytes()[0], &field[1..]),
            1,
        );
        assert!(same_answer(sender, escaped_key.as_bytes()), "{escaped_key}");
        let name = all[0].event_type;
        let escaped_name = all[0].body.replacen(
            &format!(r#""{name}""#),
            &format!(r#""\u00{:x}{}""#, name.as_bytes()[0], &name[1..]),
            1,
        );
        assert!(same_answer(sender, escaped_name.as_bytes()), "{escaped_name}");
    }

    #[test]
    #[cfg(feature = "botdog")]
    fn botdog_one_pass_answers_as_two_passes() {
        use crate::providers::BotdogEvent;
        check_sender(&Sender {
            name: "botdog",
            parse: BotdogEvent::parse,
            two_passes: BotdogEvent::parse_in_two_passes,
            known: "LEAD_PROFILE_VISITED",
        });
    }

    #[test]
    #[cfg(feature = "pollybot")]
    fn pollybot_one_pass_answers_as_two_passes() {
        use crate::providers::PollybotEvent;
        check_sender(&Sender {
            name: "pollybot",
            parse: PollybotEvent::parse,
            two_passes: PollybotEvent::parse_in_two_passes,
            known: "LEAD_CREATED",
        });
    }

    #[test]
    #[cfg(feature = "breakcold")]
    fn breakcold_one_pass_answers_as_two_passes() {
        use crate::providers::BreakcoldEvent;
        check_sender(&Sender {
            name: "breakcold",
            parse: BreakcoldEvent::parse,
            two_passes: BreakcoldEvent::parse_in_two_passes,
            known: "note.deleted",
        });
    }

    #[test]
    #[cfg(feature = "breakcold-legacy")]
    fn breakcold_legacy_one_pass_answers_as_two_passes() {
        use crate::providers::BreakcoldLegacyEvent;
        check_sender(&Sender {
            name: "breakcold-legacy",
            parse: BreakcoldLegacyEvent::parse,
            two_passes: BreakcoldLegacyEvent::parse_in_two_passes,
            known: "tag.delete",
        });
    }
}
