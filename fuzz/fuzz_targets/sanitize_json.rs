//! `palisade_sanitize::json::JsonLimits::parse` on arbitrary bytes: it returns `Ok` or
//! `Err`, never panics; an accepted document is within the limits (checking it again
//! passes, and it has no `$` or dotted key).
//!
//! Input: the first byte sets the depth limit (0-15) and the string limit (0-15 characters,
//! high nibble); the rest is the JSON document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sanitize::json::JsonLimits;
use serde_json::Value;

fn keys_ok(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().all(keys_ok),
        Value::Object(m) => m
            .iter()
            .all(|(k, x)| !k.starts_with('$') && !k.contains('.') && keys_ok(x)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, doc)) = data.split_first() else {
        return;
    };
    let limits = JsonLimits {
        max_depth: usize::from(knobs & 0x0f),
        max_string_chars: usize::from(knobs >> 4),
        max_keys: 64,
        max_values: 256,
        ..JsonLimits::for_document_store(true)
    };
    if let Ok(v) = limits.parse(doc) {
        assert!(limits.check(&v).is_ok());
        assert!(keys_ok(&v));
    }
});
