//! Accepted events, kept in memory with their phone numbers (found by [`crate::phones`])
//! encrypted, blind-indexed and masked.

use http::HeaderMap;
use palisade_pii::{BlindIndex, Context, Keyring, Masked, Normalizer};
use palisade_webhook::Provider;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::payload::transcode;
use crate::phones::{Found, scrub};

/// The encryption context's tenant, table and column for phone numbers.
const TENANT: &str = "demo";
const TABLE: &str = "events";
const COLUMN: &str = "phone";

/// One accepted webhook, as `GET /events` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    /// The event's index (0, 1, …), also the encryption context's row.
    pub index: u64,
    /// The route's name.
    pub route: String,
    /// The provider that signed it.
    pub provider: &'static str,
    /// The provider's event id, when the payload has an obvious one.
    pub event_id: Option<String>,
    /// When it was received, in Unix seconds.
    pub received_at: u64,
    /// The payload (JSON, or a form as a JSON object), every phone number replaced by its mask,
    /// kept as compact JSON text: one allocation to free when the event leaves the store, not
    /// one per string and map node (888 bytes against a `serde_json::Value`'s 5,938 in 69
    /// allocations, for a 1.2 kB Stripe event). Written as JSON, not as a string, by `GET
    /// /events`.
    #[serde(serialize_with = "json_text")]
    pub payload: Box<str>,
    /// The phone numbers found in it.
    pub phones: Vec<StoredPhone>,
}

/// Writes JSON text as the JSON it is (the payloads written by [`record`]; anything else,
/// which never happens, as `null`).
fn json_text<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => raw.serialize(serializer),
        Err(_) => serializer.serialize_unit(),
    }
}

/// A phone number of an event: never in clear.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPhone {
    /// Masked for display (`+1******0143`).
    pub masked: String,
    /// `Keyring::encrypt_to_text` under the context `demo/events/phone/<index>`.
    pub ciphertext: String,
    /// The blind index (hex) of the E.164 form, to find events by phone number.
    pub blind_index: Option<String>,
}

/// A verified delivery, before it is stored.
#[derive(Clone, Copy)]
pub(crate) struct Incoming<'a> {
    pub(crate) index: u64,
    pub(crate) route: &'a str,
    pub(crate) provider: Provider,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    pub(crate) received_at: u64,
}

/// Turns a verified body into a stored event: parses it, takes the event id, finds, encrypts
/// and masks the phone numbers.
pub(crate) fn record(
    keyring: &Keyring,
    phone_index: &BlindIndex,
    incoming: &Incoming<'_>,
) -> StoredEvent {
    let Incoming {
        index,
        route,
        provider,
        headers,
        body,
        received_at,
    } = *incoming;
    let mut found = Vec::new();
    let (payload, at) = scrubbed(body, event_id_pointers(provider), &mut found);
    let event_id = event_id(provider, headers, at);
    let row = index.to_string();
    let ctx = Context::new(TENANT, TABLE, COLUMN, &row);
    let phones = found
        .iter()
        .filter_map(|phone| {
            let ciphertext = match keyring.encrypt_to_text(&ctx, phone.e164().as_bytes()) {
                Ok(c) => c,
                Err(error) => {
                    // Dropped rather than stored in clear.
                    tracing::error!(%error, route, index, "could not encrypt a phone number");
                    return None;
                }
            };
            // No blind index for a number libphonenumber's metadata does not know (masked and
            // encrypted all the same, since it has the shape of one): the index's normalizer
            // validates against the numbering plan, so it could never be looked up. A valid
            // number was parsed once already: the index takes it as parsed.
            let blind_index = match phone {
                Found::Valid(number) => keyring
                    .blind_index_phone(phone_index, TENANT, number)
                    .ok()
                    .map(|v| v.to_hex()),
                Found::Shaped(_) => None,
            };
            Some(StoredPhone {
                masked: Masked::phone(phone.e164()).to_string(),
                ciphertext,
                blind_index,
            })
        })
        .collect();
    StoredEvent {
        index,
        route: route.to_owned(),
        provider: provider.as_str(),
        event_id,
        received_at,
        payload,
        phones,
    }
}

/// The blind index over phone numbers of this table.
pub(crate) fn phone_index() -> BlindIndex {
    BlindIndex::new(TABLE, COLUMN, Normalizer::Phone)
}

/// The payload scrubbed of phone numbers (every one found pushed to `found`), as compact JSON,
/// and the strings at `pointers` as read: JSON as JSON, a form as an object of strings
/// (repeated names as arrays), anything else as its length.
fn scrubbed(
    body: &[u8],
    pointers: &[&str],
    found: &mut Vec<Found>,
) -> (Box<str>, Vec<Option<String>>) {
    let before = found.len();
    match transcode(body, pointers, &mut |name, s| scrub(name, s, found)) {
        Ok(out) => return (out.json.into_boxed_str(), out.at),
        // Numbers found before the syntax error are not the payload's: it is read again below.
        Err(_) => found.truncate(before),
    }
    let is_form = !body.is_empty()
        && body
            .iter()
            .all(|b| b.is_ascii_graphic() && *b != b'{' && *b != b'[');
    let value = if is_form {
        let mut map = Map::new();
        for (name, value) in form_urlencoded::parse(body) {
            let value = Value::String(value.into_owned());
            match map.get_mut(name.as_ref()) {
                Some(Value::Array(values)) => values.push(value),
                Some(previous) => {
                    let first = previous.take();
                    *previous = Value::Array(vec![first, value]);
                }
                None => {
                    map.insert(name.into_owned(), value);
                }
            }
        }
        Value::Object(map)
    } else {
        serde_json::json!({ "unparsed_bytes": body.len() })
    };
    // JSON written by `serde_json` is read back whole.
    let text = serde_json::to_vec(&value).unwrap_or_default();
    match transcode(&text, pointers, &mut |name, s| scrub(name, s, found)) {
        Ok(out) => (out.json.into_boxed_str(), out.at),
        Err(_) => ("null".into(), vec![None; pointers.len()]),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The JSON pointers of the provider's event id in its payload (`/id` for Stripe), in order of
/// preference.
fn event_id_pointers(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Stripe => &["/id"],
        Provider::Twilio => &["/MessageSid", "/CallSid"],
        Provider::Meta => &["/entry/0/changes/0/value/messages/0/id"],
        Provider::Vapi => &["/message/call/id"],
        Provider::Slack => &["/trigger_id"],
        _ => &[],
    }
}

/// The provider's event id, where there is an obvious one: a header, or the first string
/// found at [`event_id_pointers`] (`at`).
fn event_id(provider: Provider, headers: &HeaderMap, at: Vec<Option<String>>) -> Option<String> {
    match provider {
        Provider::GitHub => header(headers, "x-github-delivery"),
        Provider::Standard => header(headers, "webhook-id").or_else(|| header(headers, "svix-id")),
        Provider::Shopify => header(headers, "x-shopify-webhook-id"),
        _ => at.into_iter().flatten().next(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A payload is kept as written (members in order, a repeated name as often as written):
    /// every copy is scrubbed.
    #[test]
    fn every_copy_of_a_repeated_name_is_scrubbed() {
        let text =
            br#"{"phone":"+12025550143","note":"call (415) 555-0123","phone":"+14155550142"}"#;
        let mut found = Vec::new();
        let (out, _) = scrubbed(text, &[], &mut found);
        assert_eq!(
            found.iter().map(Found::e164).collect::<Vec<_>>(),
            ["+12025550143", "+14155550123", "+14155550142"]
        );
        assert!(out.starts_with(r#"{"phone":"+1"#), "{out}");
        for digits in ["5550143", "5550123", "5550142"] {
            assert!(!out.contains(digits), "{out}");
        }
    }

    /// A form is scrubbed as an object of its fields (its event id found by pointer); a body
    /// that is neither JSON nor a form is kept as its length, and nothing read from it before
    /// the syntax error counts as found.
    #[test]
    fn forms_and_unreadable_bodies() {
        let mut found = Vec::new();
        let form = b"MessageSid=SM123&From=%2B14155550142&Body=hi";
        let (out, at) = scrubbed(form, event_id_pointers(Provider::Twilio), &mut found);
        assert_eq!(at, [Some("SM123".to_owned()), None]);
        assert_eq!(
            found.iter().map(Found::e164).collect::<Vec<_>>(),
            ["+14155550142"]
        );
        assert!(
            !out.contains("5550142") && out.contains(r#""MessageSid":"SM123""#),
            "{out}"
        );

        let mut found = Vec::new();
        let (out, at) = scrubbed(br#"{"phone":"+14155550142", oops"#, &["/id"], &mut found);
        assert_eq!(&*out, r#"{"unparsed_bytes":29}"#);
        assert_eq!(at, [None]);
        assert!(found.is_empty());
    }
}
