//! One-pass parsing of an event enum that is dispatched on a top-level type field.
//!
//! [`peek_type_field`](super::peek_type_field) and a second parse read the start of the body
//! twice, and stop the first parse with a serde error, whose message serde_json formats and
//! allocates and whose line and column it computes: under callgrind that was 3,350 instructions
//! per 1 KiB Botdog delivery, beside 7,300 for serde_json into the struct alone.
//!
//! Every sender puts its type field near the start, after a few short strings or numbers at
//! most: [`type_name_ahead`] reads those bytes without serde, and [`parse_straight!`]
//! deserializes the body straight into the struct the name gives, as a hand-written handler
//! would (callgrind, `benches/typed_instructions.rs`, Botdog 1 KiB: 8,080 instructions beside
//! 7,665 for serde_json into the struct alone in the same binary). Otherwise (a nested value or
//! an escape before the type field, or a type this SDK does not know) [`parse_in_one_pass`]
//! keeps the entries before the type field as JSON values, then deserializes the event's struct
//! from those entries, the type field, and the rest of the object straight from the bytes
//! (8,730 instructions for the same delivery: handing every entry through [`ResumedObject`]
//! costs more than the read-ahead itself).
//!
//! Both say only whether they succeeded: on any failure the caller parses again the two-pass
//! way, whose errors name the JSON path. What decides success is the same in all three
//! (serde_json's `Value` deserializer follows its byte deserializer, and the unit tests run
//! every fixture and every refusal through each), so a body gets the same event or the same
//! error whichever pass decides. The one exception only makes the one-pass parse give way: a
//! value it reads ahead is built as a JSON value, which refuses invalid UTF-8 and nesting past
//! serde_json's recursion limit that the two-pass parse skips unread; then the two-pass parse
//! answers, as after any one-pass failure.

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

/// Parses `body` into `E` in one pass ([`parse_in_one_pass`]), and when that fails, again with
/// `describe_failure` (the sender's two-pass parse, which tracks the JSON path) to say where.
/// What every typed sender's `parse` does after [`parse_straight!`].
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

/// The straight path of a typed sender's `parse`: when [`type_name_ahead`] finds the type field
/// and it names a typed variant, returns from the enclosing function with `body` deserialized
/// straight into that variant's struct, as a hand-written handler would, or with
/// `describe_failure(body)` (the two-pass parse) when the body is not that struct; see
/// [`type_name_ahead`] for why this answers as the two-pass parse. Otherwise does nothing, and
/// `parse` goes on to [`parse_typed`].
///
/// A macro, written out in each sender's `parse`, rather than a function: through a function
/// returning an `Option` of the event (or a trait method), the ~370-byte event was copied twice
/// more on its way out (under callgrind, 150 instructions of a 1 KiB Botdog parse's 8,230).
///
/// `$event`: the event enum; then, per typed variant, its names (any of which chooses it), the
/// variant and its struct: `["NAME", "ALIAS"] => Self::Variant(Struct)`.
macro_rules! parse_straight {
    ($event:ty, $body:expr, $describe_failure:expr, { $( [$($name:expr),+] => $variant:path [$struct:ty] ),* $(,)? }) => {
        if let Some(value) = $crate::event::type_name_ahead::<$event>($body) {
            let mut deserializer = serde_json::Deserializer::from_slice($body);
            $(
                if $($crate::event::string_is(value, $name))||+ {
                    return match <$struct as serde::Deserialize>::deserialize(&mut deserializer) {
                        // Trailing bytes after the object make it not JSON, whatever a lenient
                        // reader would take.
                        Ok(event) if deserializer.end().is_ok() => Ok($variant(event)),
                        _ => $describe_failure($body),
                    };
                }
            )*
        }
    };
}
pub(crate) use parse_straight;

/// How many entries before the type field [`type_name_ahead`] looks through: the senders put at
/// most three there.
const ENTRIES_AHEAD: usize = 8;

/// The top-level type field's string value, as the bytes after its opening quote (the name, its
/// closing quote and the rest of the body: [`string_is`] says whether it names a type, with no
/// scan for where it ends), when the object starts with a few plain entries up to it: keys and strings without escapes, numbers, `true`,
/// `false`, `null`. Every sender puts its type field there (Pollybot first, Botdog after `id`,
/// Breakcold after three strings), so the body can be parsed straight into the struct it names,
/// without the read-ahead and replay of [`parse_in_one_pass`].
///
/// `None` for anything else (an escape, a nested value or more than [`ENTRIES_AHEAD`] entries
/// before the type field, a type value that is not a string, no object): then the one-pass
/// parse decides.
///
/// It reads every valid JSON object it answers for as serde_json does, and checks no more than
/// that needs (not a number's digits, a string's UTF-8 or control characters). So when the
/// struct it leads to parses, the body is one JSON object (serde_json says so), whose only type
/// field (serde's derive refuses a second copy, escaped or not) is the one read here: the
/// two-pass parse's peek reads the same name, and the event is the one it gives. A body that
/// is not JSON fails that parse, and is described by the two-pass parse as any failure is.
pub(crate) fn type_name_ahead<E: TypedEvent>(body: &[u8]) -> Option<&[u8]> {
    let mut rest = skip_whitespace(body).strip_prefix(b"{")?;
    for _ in 0..ENTRIES_AHEAD {
        rest = skip_whitespace(rest).strip_prefix(b"\"")?;
        // The type field's key is compared in place: no scan for where it ends.
        let (key_is_field, after_key) = match rest.strip_prefix(E::TYPE_FIELD.as_bytes()) {
            Some([b'"', after @ ..]) => (true, after),
            _ => (false, plain_string(rest)?.1),
        };
        rest = skip_whitespace(skip_whitespace(after_key).strip_prefix(b":")?);
        if key_is_field {
            return rest.strip_prefix(b"\"");
        }
        rest = skip_whitespace(skip_scalar(rest)?).strip_prefix(b",")?;
    }
    None
}

/// Whether the JSON string whose opening quote is just before `value` is `name`, a type name
/// without quotes or backslashes: then its bytes are the text, and it ends at the quote after
/// them.
pub(crate) fn string_is(value: &[u8], name: &str) -> bool {
    matches!(value.strip_prefix(name.as_bytes()), Some([b'"', ..]))
}

/// `bytes` from the first that is not JSON whitespace.
fn skip_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\n' | b'\r' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// The content of a string whose opening quote is just before `rest`, and what follows its
/// closing quote; `None` when it has an escape (its text is not its bytes) or no end.
fn plain_string(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = quote_or_backslash(rest)?;
    match rest.split_at(end) {
        (text, [b'"', after @ ..]) => Some((text, after)),
        _ => None,
    }
}

/// The position of the first `"` or `\\` in `bytes`, eight bytes at a time: strings before the
/// type field are ids and timestamps of 20 to 40 bytes.
fn quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether each byte of `word` is zero, as its high bit: exact up to the first zero byte
    // (a borrow only marks bytes above it), which is the one looked for.
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let found = zero_bytes(word ^ (ONES * u64::from(b'"'))) | zero_bytes(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&byte| byte == b'"' || byte == b'\\').map(|at| offset + at)
}

/// What follows the scalar value `rest` starts with: a plain string, or a number or literal,
/// which runs to the next delimiter. `None` for an object, an array or a string with escapes.
/// (Inlined: called once per entry before the type field, it cost a call and a return each.)
#[inline(always)]
fn skip_scalar(rest: &[u8]) -> Option<&[u8]> {
    match rest.first()? {
        b'"' => Some(plain_string(&rest[1..])?.1),
        b'{' | b'[' | b',' | b'}' => None,
        _ => {
            let end = rest.iter().position(|byte| matches!(byte, b',' | b'}' | b' ' | b'\n' | b'\r' | b'\t'));
            Some(&rest[end.unwrap_or(rest.len())..])
        }
    }
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
        /// Every name of a type it knows (its `KNOWN_EVENT_TYPES`).
        known_types: &'static [&'static str],
    }

    /// The one-pass parse gives the event the two-pass parse gives, or fails where it fails; and
    /// the public `parse` answers exactly as the two-pass parse (same event, same error). Returns
    /// whether the body was accepted.
    fn same_answer<E: TypedEvent + PartialEq + Debug>(sender: &Sender<E>, body: &[u8]) -> bool {
        let one = parse_in_one_pass::<E>(body);
        let two = public_answer(sender, body);
        let shown = String::from_utf8_lossy(body);
        match (&one, &two) {
            (Some(one), Ok(two)) => assert_eq!(one, two, "{}: {shown}", sender.name),
            (None, Err(_)) => {}
            _ => panic!("{}: one pass {one:?}, two passes {two:?}: {shown}", sender.name),
        }
        one.is_some()
    }

    /// The public `parse` (straight into a struct where `goes_straight`, else the one-pass parse,
    /// each falling back to the two-pass parse) answers exactly as the two-pass parse. Returns the
    /// two-pass parse's answer.
    fn public_answer<E: TypedEvent + PartialEq + Debug>(sender: &Sender<E>, body: &[u8]) -> Result<E, PayloadError> {
        let two = (sender.two_passes)(body);
        assert_eq!((sender.parse)(body), two, "{}: {}", sender.name, String::from_utf8_lossy(body));
        two
    }

    /// Whether the public `parse` takes the straight path for `body` (`parse_straight!`).
    fn goes_straight<E: TypedEvent>(sender: &Sender<E>, body: &[u8]) -> bool {
        type_name_ahead::<E>(body).is_some_and(|value| sender.known_types.iter().any(|name| string_is(value, name)))
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
            // Each sender's own layout (and the type field first) goes the straight way; with the
            // type field last, it does when every entry before it is a plain scalar.
            assert!(goes_straight(sender, body.as_bytes()), "{}", fixture.relative_path());
            assert!(goes_straight(sender, with_type_field_at(body, field, 0).as_bytes()));
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
        assert!(!goes_straight(sender, escaped_key.as_bytes()) && !goes_straight(sender, escaped_name.as_bytes()));

        // Before the type field: scalars of every kind go straight; an escape or a nested value
        // leaves the body to the one-pass parse; either way the answer is the two-pass parse's.
        let first = with_type_field_at(all[0].body, field, 0);
        let before = |entries: &str| format!("{{{entries}, {}", &first[1..]);
        for (entries, straight) in [
            (r#""a": 1, "b": -2.5e3, "c": true, "d": false, "e": null, "f": "", "g": "0123456789abcdef""#, true),
            (" \"a\"\n:\t\"x\" \r", true),
            (r#""a": "x\"y""#, false),
            (r#""a\u0062": 1"#, false),
            (r#""a": [1]"#, false),
            (r#""a": {"b": 1}"#, false),
            (&format!(r#""a": {{"{field}": "{}"}}"#, sender.known), false),
        ] {
            let body = before(entries);
            assert!(same_answer(sender, body.as_bytes()), "{body}");
            assert_eq!(goes_straight(sender, body.as_bytes()), straight, "{body}");
        }
        // Invalid UTF-8 before the type field or in its value, a control character in a string,
        // a broken number: whatever path is taken, the two-pass parse's answer. (The one-pass
        // parse refuses invalid UTF-8 in a value it reads ahead, as a JSON value holds text,
        // where the two-pass parse skips it unread; `parse` then answers by the two-pass parse,
        // as after any one-pass failure, so only the public answer is compared here.)
        for entries in [&b"\"a\": \"\xff\""[..], b"\"\xff\": 1", b"\"a\": \"\x01\"", b"\"a\": 1x"] {
            let body = [b"{", entries, b", ", &first.as_bytes()[1..]].concat();
            let _ = public_answer(sender, &body);
            let body = [&first.as_bytes()[..first.len() - 1], b", ", entries, b"}"].concat();
            same_answer(sender, &body);
        }
        assert!(public_answer(sender, &[b"{\"", field.as_bytes(), b"\": \"\xff\"}"].concat()).is_err());
        // More entries before the type field than are looked through: the one-pass parse.
        let many = (0..ENTRIES_AHEAD).map(|n| format!(r#""n{n}": {n}"#)).collect::<Vec<_>>().join(", ");
        assert!(same_answer(sender, before(&many).as_bytes()));
        assert!(!goes_straight(sender, before(&many).as_bytes()));
        // Deep nesting in a new field is skipped as any new field (serde_json skips an ignored
        // value without recursing): after the type field, on the straight path; before it, by
        // the two-pass parse after the one-pass read-ahead (a JSON value, built recursively)
        // refused it past serde_json's recursion limit. Neither overflows the stack.
        for depth in [100, 100_000] {
            let nested = with_entry(&first, &format!(r#""zz": {}{}"#, "[".repeat(depth), "]".repeat(depth)));
            assert!(same_answer(sender, nested.as_bytes()), "{depth}");
            assert!(goes_straight(sender, nested.as_bytes()));
            let nested = format!(r#"{{"zz": {}{}, {}"#, "[".repeat(depth), "]".repeat(depth), &first[1..]);
            assert!(public_answer(sender, nested.as_bytes()).is_ok(), "{depth}");
            let unclosed = with_entry(&first, &format!(r#""zz": {}"#, "[".repeat(depth)));
            assert!(!same_answer(sender, unclosed.as_bytes()), "{depth}");
        }
        random_edits_answer_as_two_passes(sender);
    }

    /// Strings of every length before the type field, so that the quote that ends them falls on
    /// every byte of the eight-byte words `quote_or_backslash` reads, and a backslash too; type
    /// names of every length, escaped or not.
    #[test]
    #[cfg(feature = "botdog")]
    fn the_type_name_is_found_after_strings_of_any_length() {
        use crate::providers::BotdogEvent;
        fn name_ahead(body: &str) -> Option<&[u8]> {
            type_name_ahead::<BotdogEvent>(body.as_bytes())
        }
        for len in 0..40 {
            let text = "x".repeat(len);
            let name = format!("LEAD_PROFILE_VISITED{text}");
            let body = format!(r#"{{"id":"{text}","eventType":"{name}"}}"#);
            let found = name_ahead(&body).unwrap();
            assert!(string_is(found, &name), "{body}");
            assert!(!string_is(found, &name[..name.len() - 1]) && !string_is(found, &format!("{name}x")));
            for at in 0..len {
                let mut escaped = text.clone();
                escaped.replace_range(at..=at, "\\");
                let body = format!(r#"{{"id":"{escaped}","eventType":"LEAD_PROFILE_VISITED"}}"#);
                assert_eq!(name_ahead(&body), None, "{body}");
                // An escape in the name: found, but it names no type (the one-pass parse reads it).
                let body = format!(r#"{{"eventType":"LEAD_PROFILE_VISITED{escaped}"}}"#);
                assert!(!string_is(name_ahead(&body).unwrap(), "LEAD_PROFILE_VISITED"), "{body}");
            }
            // Cut inside the string before the type field: no end, no name.
            let body = format!(r#"{{"id":"{text}","eventType":"LEAD_{text}"#);
            let value_starts = body.rfind('"').unwrap() + 1;
            for end in 0..value_starts {
                assert_eq!(name_ahead(&body[..end]), None, "{}", &body[..end]);
            }
        }
        for body in ["", "{", "[]", "{}", r#"{"eventType"}"#, r#"{"eventType":}"#, r#"{"eventType":3}"#] {
            assert_eq!(name_ahead(body), None, "{body}");
        }
        assert!(string_is(name_ahead(r#"{"eventTypeX":"A","eventType":"B"}"#).unwrap(), "B"));
        assert!(string_is(name_ahead(r#"{"eventTyp":"A","eventType":"B"}"#).unwrap(), "B"));
        assert!(!string_is(name_ahead(r#"{"eventType":"B"#).unwrap(), "B"), "no closing quote");
    }

    /// Fixture bodies (the type field first or second, where the straight parse reads it) with
    /// up to four random edits, each inserting a fragment that shifts what the scan before the
    /// type field sees (quotes, escapes, brackets, delimiters, invalid UTF-8): `parse` answers
    /// as the two-pass parse, whichever path it takes.
    fn random_edits_answer_as_two_passes<E: TypedEvent + PartialEq + Debug>(sender: &Sender<E>) {
        use proptest::prelude::*;
        use proptest::sample::Index;
        use proptest::test_runner::{Config, TestRunner};
        const FRAGMENTS: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"\\\"",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b" ",
            b"\"a\":1,",
            b"\"x\":\"y\",",
            b"\xff",
            b"\x01",
            b"1e5",
            b"null",
            b"\"\"",
            b"\\u0065",
        ];
        let bodies: Vec<String> = fixtures(sender.name)
            .iter()
            .flat_map(|fixture| [0, 1].map(|at| with_type_field_at(fixture.body, E::TYPE_FIELD, at)))
            .collect();
        let edits = prop::collection::vec((any::<Index>(), any::<Index>()), 0..4);
        let mut runner = TestRunner::new(Config { cases: 2_000, failure_persistence: None, ..Config::default() });
        runner
            .run(&(any::<Index>(), edits), |(which, edits)| {
                let mut body = which.get(&bodies).clone().into_bytes();
                for (at, fragment) in edits {
                    // Mostly near the start, where the type field is looked for.
                    let at = at.index(body.len().min(96) + 1);
                    body.splice(at..at, fragment.get(FRAGMENTS).iter().copied());
                }
                let _ = public_answer(sender, &body);
                Ok(())
            })
            .unwrap();
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
            known_types: BotdogEvent::KNOWN_EVENT_TYPES,
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
            known_types: PollybotEvent::KNOWN_EVENT_TYPES,
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
            known_types: BreakcoldEvent::KNOWN_EVENT_TYPES,
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
            known_types: BreakcoldLegacyEvent::KNOWN_EVENT_TYPES,
        });
    }
}
