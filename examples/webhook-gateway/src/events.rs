//! Accepted events, kept in memory with their phone numbers encrypted, blind-indexed and
//! masked.

use http::HeaderMap;
use palisade_pii::{BlindIndex, Context, Keyring, Masked, Normalizer};
use palisade_webhook::Provider;
use serde::Serialize;
use serde_json::{Map, Value};

/// The encryption context's tenant, table and column for phone numbers.
const TENANT: &str = "demo";
const TABLE: &str = "events";
const COLUMN: &str = "phone";

/// Object keys whose digits-only values are phone numbers (WhatsApp sends `wa_id`,
/// `display_phone_number` and `from` without the `+`).
const PHONE_KEYS: [&str; 9] = [
    "wa_id",
    "display_phone_number",
    "from",
    "to",
    "phone",
    "phone_number",
    "phonenumber",
    "number",
    "msisdn",
];

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
    /// The payload (JSON, or a form as a JSON object), every phone number replaced by its mask.
    pub payload: Value,
    /// The phone numbers found in it.
    pub phones: Vec<StoredPhone>,
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
    let mut payload = parse(body);
    let event_id = event_id(provider, headers, &payload);
    let mut found = Vec::new();
    scrub(&mut payload, None, &mut found);
    let row = index.to_string();
    let ctx = Context::new(TENANT, TABLE, COLUMN, &row);
    let phones = found
        .iter()
        .filter_map(|phone| {
            let ciphertext = match keyring.encrypt_to_text(&ctx, phone.as_bytes()) {
                Ok(c) => c,
                Err(error) => {
                    // Dropped rather than stored in clear.
                    tracing::error!(%error, route, index, "could not encrypt a phone number");
                    return None;
                }
            };
            let blind_index = keyring
                .blind_index(phone_index, TENANT, phone)
                .ok()
                .map(|v| v.to_hex());
            Some(StoredPhone {
                masked: Masked::phone(phone).to_string(),
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

/// JSON as JSON, a form as an object of strings (repeated names as arrays), anything else as
/// its length.
fn parse(body: &[u8]) -> Value {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return value;
    }
    let is_form = !body.is_empty()
        && body
            .iter()
            .all(|b| b.is_ascii_graphic() && *b != b'{' && *b != b'[');
    if is_form {
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
        return Value::Object(map);
    }
    serde_json::json!({ "unparsed_bytes": body.len() })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn string_at(payload: &Value, pointer: &str) -> Option<String> {
    payload
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The provider's event id, where there is an obvious one.
fn event_id(provider: Provider, headers: &HeaderMap, payload: &Value) -> Option<String> {
    match provider {
        Provider::Stripe => string_at(payload, "/id"),
        Provider::GitHub => header(headers, "x-github-delivery"),
        Provider::Standard => header(headers, "webhook-id").or_else(|| header(headers, "svix-id")),
        Provider::Twilio => {
            string_at(payload, "/MessageSid").or_else(|| string_at(payload, "/CallSid"))
        }
        Provider::Shopify => header(headers, "x-shopify-webhook-id"),
        Provider::Meta => string_at(payload, "/entry/0/changes/0/value/messages/0/id"),
        Provider::Vapi => string_at(payload, "/message/call/id"),
        Provider::Slack => string_at(payload, "/trigger_id"),
        _ => None,
    }
}

/// Replaces every phone number in `value` by its mask, collecting the numbers (E.164) in
/// `found`.
fn scrub(value: &mut Value, key: Option<&str>, found: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(phone) = key.and_then(|k| keyed_phone(k, s)) {
                *s = Masked::phone(&phone).to_string();
                found.push(phone);
            } else if let Some(replaced) = replace_e164(s, found) {
                *s = replaced;
            }
        }
        Value::Array(items) => {
            for item in items {
                scrub(item, key, found);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                scrub(v, Some(k), found);
            }
        }
        _ => {}
    }
}

/// A phone number given without `+` (or with formatting) under a phone-like key.
fn keyed_phone(key: &str, value: &str) -> Option<String> {
    let key = key.to_ascii_lowercase();
    if !PHONE_KEYS.contains(&key.as_str()) {
        return None;
    }
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let formatting = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    (formatting && (8..=15).contains(&digits.len()) && !digits.starts_with('0'))
        .then(|| format!("+{digits}"))
}

/// Replaces every E.164-looking token (`+` and 8 to 15 digits, not inside a longer number) of
/// `s` by its mask; `None` when there is none.
fn replace_e164(s: &str, found: &mut Vec<String>) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut replaced = false;
    let mut previous: Option<char> = None;
    while let Some(pos) = rest.find('+') {
        let (before, from_plus) = rest.split_at(pos);
        out.push_str(before);
        previous = before.chars().last().or(previous);
        let after = from_plus.get(1..).unwrap_or_default();
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let standalone = !previous.is_some_and(|c| c.is_ascii_alphanumeric());
        let first_ok = after.chars().next().is_some_and(|c| c != '0');
        if standalone && first_ok && (8..=15).contains(&digits) {
            let number = after.get(..digits).unwrap_or_default();
            let phone = format!("+{number}");
            out.push_str(&Masked::phone(&phone).to_string());
            found.push(phone);
            replaced = true;
            rest = after.get(digits..).unwrap_or_default();
            previous = number.chars().last();
        } else {
            out.push('+');
            previous = Some('+');
            rest = after;
        }
    }
    out.push_str(rest);
    replaced.then_some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn finds_phones_in_text_and_keys() {
        let mut found = Vec::new();
        let out = replace_e164("whatsapp:+12025550143 and +14155550142.", &mut found).unwrap();
        assert_eq!(found, ["+12025550143", "+14155550142"]);
        assert!(
            !out.contains("5550143") && !out.contains("5550142"),
            "{out}"
        );
        assert!(replace_e164("2024-01-01T00:00:00+00:00 a+12025550143", &mut found).is_none());
        assert_eq!(
            keyed_phone("wa_id", "16505551234").as_deref(),
            Some("+16505551234")
        );
        assert_eq!(keyed_phone("id", "16505551234"), None);
        assert_eq!(keyed_phone("from", "client:alice"), None);
    }
}
