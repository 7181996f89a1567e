//! `palisade_sanitize::path::safe_join` on arbitrary input: it returns `Ok` or `Err`, never
//! panics, and an accepted path is the base followed by normal components only.
//!
//! Input: the user path, read as lossy UTF-8.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use palisade_sanitize::path::safe_join;

fuzz_target!(|data: &[u8]| {
    let user = String::from_utf8_lossy(data);
    let base = Path::new("/srv/uploads");
    if let Ok(joined) = safe_join(base, &user) {
        let rest = joined.strip_prefix(base).expect("under the base");
        assert!(rest.components().next().is_some());
        assert!(rest.components().all(|c| matches!(c, Component::Normal(_))));
    }
});
