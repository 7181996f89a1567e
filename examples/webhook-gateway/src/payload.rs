//! A delivery's payload rewritten as it is parsed: `serde_json` reads the body and each value
//! is written out as compact JSON the moment it is read, every string passed through a
//! rewrite that knows the member name it is under. No tree is built: a payload is read once
//! and written once, so a `serde_json::Value` (a copy of every string and name, objects in a
//! `BTreeMap`, freed when the event leaves the store) or any other tree is work thrown away.
//!
//! Parsing is `serde_json`'s: its grammar (RFC 8259) and its nesting limit of 128. Members are
//! written in the order of the text, a repeated name as often as it was written. The strings
//! at given JSON pointers are captured as read (before any rewrite), with
//! `serde_json::Value::pointer`'s reading of repeated names: the last one counts.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Pointers whose strings [`transcode`] captures; at most this many.
pub(crate) const MAX_POINTERS: usize = 8;

/// A rewrite of the strings of a payload: given the name of the member a string is under
/// (an array's items are under the array's name; a string at the top level under none) and
/// the string, the text to write instead, or `None` to keep it.
pub(crate) type Rewrite<'r> = dyn FnMut(Option<&str>, &str) -> Option<String> + 'r;

/// A payload written out by [`transcode`].
#[derive(Debug)]
pub(crate) struct Transcoded {
    /// The payload as compact JSON, its strings rewritten.
    pub(crate) json: String,
    /// For each pointer given, in order, the string at it as read (before any rewrite); `None`
    /// where nothing is there or what is there is not a string.
    pub(crate) at: Vec<Option<String>>,
}

/// Parses JSON `text` (RFC 8259) and writes it out as compact JSON, passing every string
/// value through `rewrite` and capturing the strings at `pointers` (RFC 6901: `/entry/0/id`;
/// at most [`MAX_POINTERS`], the others are never found).
///
/// # Errors
///
/// `serde_json`'s, for text that is not one JSON value (trailing characters, nesting deeper
/// than 128). `rewrite` may have been called for strings read before the error.
pub(crate) fn transcode(
    text: &[u8],
    pointers: &[&str],
    rewrite: &mut Rewrite<'_>,
) -> serde_json::Result<Transcoded> {
    let tokens: Vec<Option<Vec<Cow<'_, str>>>> = pointers
        .iter()
        .take(MAX_POINTERS)
        .map(|p| parse_pointer(p))
        .collect();
    let mut out = Out {
        json: Vec::with_capacity(text.len()),
        rewrite,
        pointers: &tokens,
        at: vec![None; tokens.len()],
    };
    // The empty pointer is the whole document; the others start on its path.
    let (mut on_path, mut whole) = (0u8, 0u8);
    for (i, t) in tokens.iter().enumerate() {
        match t.as_deref() {
            Some([]) => whole |= bit(i),
            Some(_) => on_path |= bit(i),
            None => {}
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    Node {
        out: &mut out,
        name: None,
        depth: 0,
        on_path,
        target: whole,
    }
    .deserialize(&mut de)?;
    de.end()?;
    let json = String::from_utf8(out.json)
        .map_err(|_| <serde_json::Error as de::Error>::custom("output is not UTF-8"))?;
    Ok(Transcoded { json, at: out.at })
}

/// A pointer's reference tokens (`~1` is `/`, `~0` is `~`); `""` has none; `None` for a
/// pointer that does not start with `/`, which points nowhere (`Value::pointer` answers
/// `None` for it too).
fn parse_pointer(pointer: &str) -> Option<Vec<Cow<'_, str>>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    let tokens = rest
        .split('/')
        .map(|token| {
            if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            }
        })
        .collect();
    Some(tokens)
}

/// An array index of a JSON pointer: digits, without a leading `+` or zero (RFC 6901 §4).
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

const fn bit(i: usize) -> u8 {
    if i < MAX_POINTERS { 1 << i } else { 0 }
}

/// The output and what is captured, shared by every node of one transcoding.
struct Out<'o, 'r, 'p> {
    /// Compact JSON (UTF-8: JSON text of `str`s).
    json: Vec<u8>,
    rewrite: &'o mut Rewrite<'r>,
    pointers: &'o [Option<Vec<Cow<'p, str>>>],
    at: Vec<Option<String>>,
}

impl Out<'_, '_, '_> {
    /// The pointers of `on_path` (those whose first `depth` tokens are the path to the parent)
    /// whose next token is this child (`name`, or `index` in an array): (still on the path,
    /// ending here).
    fn child(&self, on_path: u8, depth: usize, name: Option<&str>, index: usize) -> (u8, u8) {
        let (mut on, mut ends) = (0u8, 0u8);
        for (i, tokens) in self.pointers.iter().enumerate() {
            let Some(tokens) = tokens.as_ref().filter(|_| on_path & bit(i) != 0) else {
                continue;
            };
            let matches = tokens.get(depth).is_some_and(|token| match name {
                Some(name) => token == name,
                None => array_index(token) == Some(index),
            });
            if !matches {
                continue;
            }
            if tokens.len() == depth + 1 {
                ends |= bit(i);
            } else {
                on |= bit(i);
            }
        }
        (on, ends)
    }

    /// Sets what is captured for `pointers`: the string at them, or `None` when a member on
    /// the way to, or at, them is entered (a repeated name replaces what the first one held:
    /// the last one counts).
    fn set(&mut self, pointers: u8, value: Option<&str>) {
        for (i, at) in self.at.iter_mut().enumerate() {
            if pointers & bit(i) != 0 {
                *at = value.map(str::to_owned);
            }
        }
    }

    /// Writes a string (escaped as `serde_json` escapes) or a number (`serde_json`'s
    /// formatting of it). Writing either to a `Vec` cannot fail.
    fn write<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        let _ = serde_json::to_writer(&mut self.json, value);
    }
}

/// One value of the payload, read and written.
struct Node<'n, 'o, 'r, 'p> {
    out: &'n mut Out<'o, 'r, 'p>,
    /// The name of the member this value is under (an array passes its own down).
    name: Option<&'n str>,
    /// How deep this value is (0 for the document).
    depth: usize,
    /// The pointers whose first `depth` tokens are the path to this value.
    on_path: u8,
    /// The pointers that end at this value.
    target: u8,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.json.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out
            .json
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.out.write(&v);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.out.write(&v);
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // serde_json parses only finite numbers, which it writes back as it writes a `Value`'s.
        self.out.write(&v);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if self.target != 0 {
            self.out.set(self.target, Some(v));
        }
        match (self.out.rewrite)(self.name, v) {
            Some(rewritten) => self.out.write(rewritten.as_str()),
            None => self.out.write(v),
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.json.push(b'[');
        let mut index = 0;
        loop {
            let (on_path, target) = if self.on_path == 0 {
                (0, 0)
            } else {
                self.out.child(self.on_path, self.depth, None, index)
            };
            if index > 0 {
                self.out.json.push(b',');
            }
            let item = Node {
                out: &mut *self.out,
                name: self.name,
                depth: self.depth + 1,
                on_path,
                target,
            };
            if seq.next_element_seed(item)?.is_none() {
                if index > 0 {
                    // The separator written before the end was found.
                    self.out.json.pop();
                }
                break;
            }
            index += 1;
        }
        self.out.json.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.out.json.push(b'{');
        let mut first = true;
        while let Some(name) = map.next_key_seed(Name)? {
            if !first {
                self.out.json.push(b',');
            }
            first = false;
            self.out.write(name.as_ref());
            self.out.json.push(b':');
            let (on_path, target) = if self.on_path == 0 {
                (0, 0)
            } else {
                self.out.child(self.on_path, self.depth, Some(&name), 0)
            };
            if on_path | target != 0 {
                self.out.set(on_path | target, None);
            }
            map.next_value_seed(Node {
                out: &mut *self.out,
                name: Some(&name),
                depth: self.depth + 1,
                on_path,
                target,
            })?;
        }
        self.out.json.push(b'}');
        Ok(())
    }
}

/// A member name: borrowed from the text unless it has escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn keep(text: &[u8], pointers: &[&str]) -> serde_json::Result<Transcoded> {
        transcode(text, pointers, &mut |_, _| None)
    }

    #[test]
    fn writes_the_same_document_compactly() {
        for text in [
            r#"{"a":"plain","b":"esc\"aped \u00e9\n","c":[1,-2,3.5,1e300,true,null,{}],"d":{}}"#,
            "  [ 1 , [ ] , { \"x\" : [ [ \"y\" ] ] } ]  ",
            "\"top\"",
            "-0.0",
            "18446744073709551615",
            "-9223372036854775808",
            "[]",
        ] {
            let ours = keep(text.as_bytes(), &[]).unwrap().json;
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, serde_json::to_string(&theirs).unwrap(), "{text}");
        }
    }

    #[test]
    fn keeps_member_order_and_repeated_names() {
        let text = br#"{"z":1,"a":{"k":"v","k":"w"},"z":2}"#;
        assert_eq!(
            keep(text, &[]).unwrap().json,
            r#"{"z":1,"a":{"k":"v","k":"w"},"z":2}"#
        );
    }

    #[test]
    fn rewrites_strings_with_the_name_they_are_under() {
        let text = br#"{"phone":"a","list":["b",{"to":"c"}],"n":"d","e":"keep"}"#;
        let mut seen = Vec::new();
        let out = transcode(text, &[], &mut |name, s| {
            seen.push((name.map(str::to_owned), s.to_owned()));
            (s != "keep").then(|| format!("<{s}>"))
        })
        .unwrap();
        assert_eq!(
            out.json,
            r#"{"phone":"<a>","list":["<b>",{"to":"<c>"}],"n":"<d>","e":"keep"}"#
        );
        let names: Vec<_> = seen.iter().map(|(n, _)| n.as_deref()).collect();
        assert_eq!(
            names,
            [
                Some("phone"),
                Some("list"),
                Some("to"),
                Some("n"),
                Some("e")
            ]
        );
        let top = transcode(b"\"x\"", &[], &mut |name, _| {
            assert_eq!(name, None);
            None
        });
        assert_eq!(top.unwrap().json, "\"x\"");
    }

    /// Captured strings are `serde_json::Value::pointer`'s, repeated names included (the last
    /// one counts, however deep the pointer goes through it).
    #[test]
    fn pointers_read_as_serde_json_does() {
        let pointers = [
            "/id",
            "/entry/0/changes/0/value/id",
            "/entry/00/changes/0/value/id",
            "/entry/1",
            "/nope",
            "/a~1b",
            "/t~0u",
            "/n",
            "/dup/x",
            "/arr/2/s",
            "",
            "id",
        ];
        for text in [
            r#"{"id":"first","entry":[{"changes":[{"value":{"id":"x"}}]}],"id":"last","a/b":"s","t~u":"tilde","n":5}"#,
            r#"{"dup":{"x":"1"},"dup":{"y":"2"},"arr":[0,1,{"s":"third"}]}"#,
            r#"{"dup":{"x":"1"},"dup":{"x":"2","x":"3"},"entry":[{"changes":[{"value":{"id":"a"}},{"value":{"id":"b"}}]}]}"#,
            r#"{"dup":{"x":"1"},"dup":7}"#,
            r#""whole""#,
            r#"["a","b"]"#,
        ] {
            let ours = keep(text.as_bytes(), &pointers[..MAX_POINTERS]).unwrap().at;
            let more = keep(text.as_bytes(), &pointers[MAX_POINTERS..]).unwrap().at;
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            for (pointer, ours) in pointers.iter().zip(ours.iter().chain(&more)) {
                assert_eq!(
                    ours.as_deref(),
                    theirs.pointer(pointer).and_then(serde_json::Value::as_str),
                    "{pointer} in {text}"
                );
            }
        }
    }

    #[test]
    fn captures_before_rewriting() {
        let out = transcode(br#"{"id":"+12025550143"}"#, &["/id"], &mut |_, _| {
            Some("masked".to_owned())
        })
        .unwrap();
        assert_eq!(out.json, r#"{"id":"masked"}"#);
        assert_eq!(out.at, [Some("+12025550143".to_owned())]);
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let deep_ok = "[".repeat(100) + &"]".repeat(100);
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\":1}x",
            "\"\\ud800\"",
            "nul",
            "{\"a\" 1}",
            "[1 2]",
            deep.as_str(),
            deep_ok.as_str(),
        ] {
            assert_eq!(
                keep(text.as_bytes(), &[]).is_ok(),
                serde_json::from_str::<serde_json::Value>(text).is_ok(),
                "{text}"
            );
        }
    }
}
