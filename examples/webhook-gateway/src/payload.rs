//! A delivery's payload as a JSON tree that borrows its strings from the body: what the phone
//! scrub walks and rewrites before the event is stored as compact JSON text.
//!
//! `serde_json::Value` copies every string and key into its own allocation and keeps objects in
//! a `BTreeMap`; a payload is walked once and written out once, so here a string stays a slice
//! of the body (unless it has escapes, or a phone number in it is replaced) and an object is its
//! members in order. Parsing is still `serde_json`'s (its grammar and its nesting limit of
//! 128); only the tree is ours.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// A JSON value whose strings borrow from the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in the order of the text; a repeated name is kept as often as it was written
    /// (every copy is scrubbed and written out; [`Json::pointer`] reads the last, as
    /// `serde_json::Value` keeps the last).
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses JSON text (RFC 8259), borrowing every string without escapes from `text`.
    pub(crate) fn parse(text: &'a [u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(text)
    }

    /// The value at a JSON pointer (RFC 6901) of plain names and array indexes (`/entry/0/id`),
    /// as `serde_json::Value::pointer`.
    pub(crate) fn pointer(&self, pointer: &str) -> Option<&Json<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut at = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            at = match at {
                Json::Object(members) => members
                    .iter()
                    .rev()
                    .find(|(name, _)| *name == token)
                    .map(|(_, v)| v)?,
                Json::Array(items) => items.get(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

/// An array index of a JSON pointer: digits, without a leading `+` or zero (RFC 6901 §4).
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

impl From<serde_json::Value> for Json<'static> {
    fn from(value: serde_json::Value) -> Self {
        use serde_json::Value as V;
        match value {
            V::Null => Json::Null,
            V::Bool(b) => Json::Bool(b),
            V::Number(n) => Json::Number(n),
            V::String(s) => Json::String(Cow::Owned(s)),
            V::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            V::Object(map) => Json::Object(
                map.into_iter()
                    .map(|(name, value)| (Cow::Owned(name), Json::from(value)))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json parses only finite numbers, so this is always `Some`.
        Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        // A member name is read by this same visitor: a JSON name is a string, borrowed from
        // the text unless it has escapes (`Cow`'s own `Deserialize` would always copy it).
        while let Some(name) = map.next_key::<Json<'de>>()? {
            let Json::String(name) = name else {
                return Err(de::Error::custom("a member name that is not a string"));
            };
            members.push((name, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (name, value) in members {
                    map.serialize_entry(name.as_ref(), value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn borrows_plain_strings_and_copies_escaped_ones() {
        let text = br#"{"a":"plain","b":"esc\"aped","c":[1,-2,3.5,true,null,{}]}"#;
        let json = Json::parse(text).unwrap();
        let Json::Object(members) = &json else {
            panic!("{json:?}")
        };
        assert!(matches!(
            members[0],
            (Cow::Borrowed("a"), Json::String(Cow::Borrowed("plain")))
        ));
        assert!(matches!(&members[1].1, Json::String(Cow::Owned(s)) if s == "esc\"aped"));
        // Written out, it is the same document as serde_json's own reading.
        let ours: serde_json::Value = serde_json::to_value(&json).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn pointer_reads_as_serde_json_does() {
        let text =
            br#"{"id":"first","entry":[{"changes":[{"value":{"id":"x"}}]}],"id":"last","a/b":"s"}"#;
        let json = Json::parse(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(text).unwrap();
        for pointer in [
            "/id",
            "/entry/0/changes/0/value/id",
            "/entry/00/changes/0/value/id",
            "/entry/1",
            "/nope",
            "/a~1b",
            "",
            "id",
        ] {
            assert_eq!(
                json.pointer(pointer).and_then(Json::as_str),
                theirs.pointer(pointer).and_then(serde_json::Value::as_str),
                "{pointer}"
            );
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\":1}x",
            "\"\\ud800\"",
            "nul",
            deep.as_str(),
        ] {
            assert_eq!(
                Json::parse(text.as_bytes()).is_ok(),
                serde_json::from_str::<serde_json::Value>(text).is_ok(),
                "{text}"
            );
        }
    }
}
