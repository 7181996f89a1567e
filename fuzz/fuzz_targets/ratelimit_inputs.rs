//! The limiter's parsers of outside input, on arbitrary bytes: a reputation list
//! (`StaticReputation::parse`, read as lossy UTF-8), a stored rate-limit key
//! (`Key::from_encoded`, as a remote store reads one back), and a stored idempotency key
//! (`IdempotencyKey::parse`). Each returns `Ok`/`Some` or an error, never panics; a decoded
//! key encodes back to the same bytes; an accepted idempotency key is 1 to 255 visible ASCII
//! characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_ratelimit::{Key, StaticReputation};
use palisade_replay::IdempotencyKey;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = StaticReputation::parse(&text);
    if let Some(key) = Key::from_encoded(data) {
        assert_eq!(key.encoded(), data);
        assert_eq!(key.fingerprint().len(), 16);
    }
    if let Ok(key) = IdempotencyKey::parse(&text) {
        let s = key.as_str();
        assert!(!s.is_empty() && s.len() <= 255);
        assert!(s.bytes().all(|b| b.is_ascii_graphic()));
    }
});
