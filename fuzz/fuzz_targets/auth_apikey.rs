//! The API-key parser of `palisade-auth` (`ApiKey::parse`) on arbitrary input: `Ok` or
//! `Err`, never a panic; a parsed key prints back to exactly the input; `KeyId::new` and
//! `ApiKeyPrefix::new` on the same bytes never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_auth::{ApiKey, ApiKeyPrefix, ExposeSecret, KeyId};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = ApiKey::parse(&text) {
        assert_eq!(key.to_secret_string().expose_secret(), text.as_ref());
        assert!(ApiKeyPrefix::new(key.prefix()).is_ok());
    }
    let _ = KeyId::new(&text);
    let _ = ApiKeyPrefix::new(&text);
});
