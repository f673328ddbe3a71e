//! Typed events: the [`Event`] trait every provider's event type implements, and the JSON
//! parsing they share.
//!
//! Dispatch on the event-type field reads the body once ([`dispatch`]): the entries before the
//! type field are kept, then the rest of the object is deserialized straight into the right
//! struct. serde's internally tagged enums would buffer the whole object into an intermediate
//! tree first (measured +43 % parse time for the same events). A body that fails is parsed
//! again, the type field first ([`peek_type_field`]), then the whole body into that type while
//! tracking the JSON path, to say where it failed.

#[cfg(any(feature = "botdog", feature = "pollybot", feature = "breakcold", feature = "breakcold-legacy"))]
mod dispatch;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};

#[cfg(any(feature = "botdog", feature = "pollybot", feature = "breakcold", feature = "breakcold-legacy"))]
pub(crate) use self::dispatch::{TypedEvent, parse_straight, parse_typed, string_is, type_name_ahead};
use crate::error::PayloadError;

/// An event a provider's deliveries carry.
pub trait Event: fmt::Debug + Send + Sync + 'static {
    /// The sender's name for this event's type, e.g. `LEAD_PROFILE_VISITED` or `record.created`.
    /// For an event type this SDK does not know, the name as sent.
    fn event_type(&self) -> &str;
}

impl Event for serde_json::Value {
    /// The first of the top-level string fields `type`, `event`, `eventType`, or `""`.
    fn event_type(&self) -> &str {
        ["type", "event", "eventType"]
            .iter()
            .find_map(|field| self.get(field).and_then(serde_json::Value::as_str))
            .unwrap_or("")
    }
}

/// Parses `body` into `T`, naming the JSON path that failed.
///
/// # Errors
///
/// A [`PayloadError`] whose message is built from `T`'s schema (field names, expected types),
/// never from the values in `body`.
pub(crate) fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    // One plain pass on the success path; the path tracking (which wraps every value the
    // deserializer visits) runs only to describe a failure, on a second pass over the same bytes.
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(_) => from_json_tracking_path(body),
    }
}

/// [`from_json`]'s error path: the same parse, tracking the JSON path to name where it failed.
fn from_json_tracking_path<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| payload_error(error.path().to_string(), error.inner()))?;
    deserializer.end().map_err(|error| payload_error(".".to_owned(), &error))?;
    Ok(value)
}

/// Reads the top-level string field `field` of a JSON object, skipping every other value.
///
/// Returns `Ok(None)` when the object has no such field.
///
/// # Errors
///
/// When the body is not a JSON object, or the field is not a string (`null` included).
pub(crate) fn peek_str_field<'a>(body: &'a [u8], field: &str) -> Result<Option<Cow<'a, str>>, PayloadError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let to_error = |error: serde_json::Error| {
        let path = if error.is_data() { field.to_owned() } else { ".".to_owned() };
        payload_error(path, &error)
    };
    let found =
        de::Deserializer::deserialize_map(&mut deserializer, PeekField { field, stop_at: None }).map_err(to_error)?;
    // Trailing bytes after the object make it not JSON, whatever a lenient reader would take.
    deserializer.end().map_err(to_error)?;
    Ok(found)
}

/// Reads the top-level string field `field` of a JSON object, stopping at the field: the type
/// field of a typed event, read to choose the type the body is then parsed into when the
/// one-pass parse ([`parse_typed`]) failed and the failure is to be described. What it
/// leaves unread is checked by that parse, which refuses a second copy of the field (serde's
/// derive refuses duplicate fields) and trailing bytes; an unknown type's body goes through
/// [`UnknownEvent::parse_checked`], which reads it all.
///
/// # Errors
///
/// As [`peek_str_field`], for what comes before the field.
#[cfg(any(feature = "botdog", feature = "pollybot", feature = "breakcold", feature = "breakcold-legacy"))]
pub(crate) fn peek_type_field<'a>(body: &'a [u8], field: &str) -> Result<Option<Cow<'a, str>>, PayloadError> {
    let found = std::cell::Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let peek = PeekField { field, stop_at: Some(&found) };
    match de::Deserializer::deserialize_map(&mut deserializer, peek) {
        Ok(none) => {
            deserializer.end().map_err(|error| payload_error(".".to_owned(), &error))?;
            Ok(none)
        }
        // The visitor stops the parse with an error once the field is read: it is the only error
        // after which `found` holds a value.
        Err(error) => match found.take() {
            Some(value) => Ok(Some(value)),
            None => {
                let path = if error.is_data() { field.to_owned() } else { ".".to_owned() };
                Err(payload_error(path, &error))
            }
        },
    }
}

struct PeekField<'f, 'de> {
    field: &'f str,
    /// Where to put the field's value and stop, instead of reading the whole object.
    stop_at: Option<&'f std::cell::Cell<Option<Cow<'de, str>>>>,
}

impl<'de> Visitor<'de> for PeekField<'_, 'de> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == self.field {
                // Two copies of the field: which one the sender meant cannot be known (serde's
                // derive refuses duplicates too). `null` is not a string either.
                if found.is_some() {
                    return Err(de::Error::custom(format_args!("duplicate field `{}`", self.field)));
                }
                let value = map.next_value::<CowStr<'de>>()?.0;
                if let Some(stop_at) = self.stop_at {
                    stop_at.set(Some(value));
                    return Err(de::Error::custom("stopped at the field"));
                }
                found = Some(value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A string that borrows from the input when it has no escapes.
struct CowStr<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CowStrVisitor;
        impl<'de> Visitor<'de> for CowStrVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(CowStrVisitor)
    }
}

/// Builds a [`PayloadError`] whose text cannot contain body bytes.
///
/// serde_json's data errors quote the offending value (`invalid type: string "…", expected u64`,
/// `unknown variant `…``); only the schema side of the message (after `expected`) and
/// `missing field` names (which come from our structs) are kept.
fn payload_error(path: String, error: &serde_json::Error) -> PayloadError {
    // A syntax error makes the whole body unusable, wherever it was found.
    let path = if error.is_syntax() || error.is_eof() { "$".to_owned() } else { sanitize_path(&path) };
    let text = error.to_string();
    // serde_json appends " at line L column C"; drop it, then rebuild from safe parts.
    let text = text.split(" at line ").next().unwrap_or("");
    let message = if error.is_syntax() || error.is_eof() {
        format!("body is not valid JSON (line {}, column {})", error.line(), error.column())
    } else if let Some(field) = text.strip_prefix("missing field ") {
        format!("missing field {field} at `{path}`")
    } else if let Some((_, expected)) = text.split_once(", expected ") {
        let kind = if text.starts_with("invalid type") { "invalid type" } else { "invalid value" };
        format!("{kind} at `{path}`, expected {expected}")
    } else {
        format!("value at `{path}` does not match its type")
    };
    PayloadError::new(path, message)
}

/// Keeps a path short and printable: map keys in a path come from the body, so each segment is
/// cut at 64 characters and anything but `[A-Za-z0-9_.\[\]-]` becomes `?`.
fn sanitize_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        return "$".to_owned();
    }
    path.split('.')
        .map(|segment| {
            segment
                .chars()
                .take(64)
                .map(|c| if c.is_ascii_alphanumeric() || "_-[]".contains(c) { c } else { '?' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        data: Inner,
    }

    #[test]
    fn peek_reads_one_field_and_skips_the_rest() {
        let body = br#"{"a": [1, {"b": 2}], "eventType": "X_Y", "z": null}"#;
        assert_eq!(peek_str_field(body, "eventType").unwrap().as_deref(), Some("X_Y"));
        assert_eq!(peek_str_field(body, "missing").unwrap(), None);
        assert!(peek_str_field(b"[1]", "eventType").is_err());
        assert!(peek_str_field(b"{\"eventType\": 3}", "eventType").is_err());
        assert!(peek_str_field(b"{\"eventType\": \"a\"", "eventType").is_err());
        assert!(peek_str_field(b"{\"eventType\": \"a\"} trailing", "eventType").is_err());
        assert!(peek_str_field(b"{\"eventType\": \"a\", \"eventType\": \"b\"}", "eventType").is_err());
        assert!(peek_str_field(b"{\"eventType\": null}", "eventType").is_err());
    }

    #[test]
    fn errors_name_the_path_but_never_the_value() {
        let secret_value = "leaky-value-123";
        let body = format!(r#"{{"name": "n", "data": {{"count": "{secret_value}"}}}}"#);
        let error = from_json::<Outer>(body.as_bytes()).unwrap_err();
        assert_eq!(error.path(), "data.count");
        assert!(error.message().contains("invalid type at `data.count`, expected u32"), "{error}");
        assert!(!error.message().contains(secret_value));

        let error = from_json::<Outer>(br#"{"name": "n", "data": {}}"#).unwrap_err();
        assert_eq!(error.path(), "data");
        assert_eq!(error.message(), "missing field `count` at `data`");

        let error = from_json::<Outer>(b"{\"name\": ").unwrap_err();
        assert_eq!(error.path(), "$");
        assert!(error.message().starts_with("body is not valid JSON"));

        let error = from_json::<Outer>(br#"{"name": "n", "data": {"count": 1}} trailing"#).unwrap_err();
        assert_eq!(error.path(), "$");
    }

    #[test]
    fn value_event_type_reads_common_fields() {
        let value: serde_json::Value = serde_json::json!({"type": "call.completed"});
        assert_eq!(value.event_type(), "call.completed");
        assert_eq!(serde_json::json!({"x": 1}).event_type(), "");
    }
}

/// An event whose type this SDK does not know (yet): acknowledged, and handed to the handler with
/// its type name and its JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnknownEvent {
    /// The event type as the sender named it.
    pub event_type: String,
    /// The whole body as JSON.
    pub raw: serde_json::Value,
}

impl UnknownEvent {
    /// Parses `body` as JSON and keeps it under the type name `event_type`.
    ///
    /// # Errors
    ///
    /// When `body` is not JSON.
    pub fn parse(event_type: impl Into<String>, body: &[u8]) -> Result<Self, PayloadError> {
        Ok(Self { event_type: event_type.into(), raw: from_json(body)? })
    }

    /// [`UnknownEvent::parse`] of a body whose type field was read by [`peek_type_field`]:
    /// checks what that left unread, refusing a second copy of `type_field` (a JSON value keeps
    /// the last copy of a key silently; which one the sender meant cannot be known).
    #[cfg(any(feature = "botdog", feature = "pollybot", feature = "breakcold", feature = "breakcold-legacy"))]
    pub(crate) fn parse_checked(event_type: &str, type_field: &str, body: &[u8]) -> Result<Self, PayloadError> {
        peek_str_field(body, type_field)?;
        Self::parse(event_type, body)
    }

    /// The unknown-event side of [`TypedEvent::deserialize_as`]: the whole object as JSON.
    #[cfg(any(feature = "botdog", feature = "pollybot", feature = "breakcold", feature = "breakcold-legacy"))]
    pub(crate) fn deserialize_as<'de, D: de::Deserializer<'de>>(event_type: &str, object: D) -> Result<Self, D::Error> {
        Ok(Self { event_type: event_type.to_owned(), raw: de::Deserialize::deserialize(object)? })
    }
}
