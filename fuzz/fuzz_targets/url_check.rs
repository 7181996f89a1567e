//! `UrlPolicy::check` on arbitrary input: it returns `Ok` or `Err`, never panics; an accepted
//! URL's host is never an address `check_ip` refuses, and checking its canonical form again
//! gives the same answer. The same text as an allowlist host pattern (`HostPattern::parse`,
//! through `allow_host`) is accepted or refused, never a panic; an accepted pattern's policy
//! checks a URL built from it without panicking either.
//!
//! Input: the URL (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sanitize::ip::check_ip;
use palisade_sanitize::url::UrlPolicy;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let policy = UrlPolicy::new();
    let allowlist = UrlPolicy::new()
        .allow_host("*.example.com")
        .expect("valid pattern")
        .allow_any_port();
    for p in [&policy, &allowlist] {
        let Ok(checked) = p.check(&text) else {
            continue;
        };
        if let Some(ip) = checked.ip() {
            assert!(check_ip(ip).is_ok(), "{text:?} passed with {ip}");
        }
        let again = p
            .check(checked.url().as_str())
            .expect("canonical form passes");
        assert_eq!(again.ip(), checked.ip());
        assert_eq!(again.port(), checked.port());
    }
    if let Ok(custom) = UrlPolicy::new().allow_host(&text) {
        let host = text.trim_start_matches("*.");
        let _ = custom.check(&format!("https://{host}/path"));
        let _ = custom.check(&format!("https://sub.{host}/"));
    }
});
