//! The JSONL event parser of `palisade-audit` (`Event::from_json_line`) on arbitrary input:
//! `Ok` or `Err`, never a panic; an event that parses prints back to a line that parses to
//! the same event, with the same canonical encoding; verifying it never panics.
//!
//! Input: one line (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::{ChainKey, ChainKeys, Event, Head, SecretBox, verify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(event) = Event::from_json_line(&text) else {
        return;
    };
    let line = event.to_json_line();
    let again = Event::from_json_line(&line).expect("a printed event parses");
    assert_eq!(again, event);
    assert_eq!(again.canonical(), event.canonical());
    let keys = ChainKeys::new(ChainKey::new(1, SecretBox::new(Box::new([1; 32]))).expect("key"));
    let _ = verify(&keys, &event.tenant, Head::GENESIS, [&event]);
});
