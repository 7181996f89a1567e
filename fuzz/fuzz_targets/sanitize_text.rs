//! `palisade_sanitize`'s text and rich-text cleaners on arbitrary input: none panics, and each
//! output has the property it is for:
//! - `escape_html`: no `<`, `>`, `"` or `'` left, and un-escaping gives the input back;
//! - `log_line`: no line break, control character or bidi control (`is_bidi_control`: the
//!   embeddings, overrides and isolates; the implicit marks LRM, RLM and ALM are kept, as
//!   documented) left (CWE-117);
//! - `TextCleaner::clean` (NFC; single-line NFKC): cleaning again changes nothing, and the
//!   single-line form has no line break;
//! - `truncate_chars` / `truncate_bytes`: a prefix within the limit, on a character boundary;
//! - `HtmlPolicy::clean` (ammonia's allowlist, with and without the SSRF `UrlPolicy` on URL
//!   attributes): cleaning the output again gives the same output (what the cleaner wrote
//!   parses back to what it meant, the property whose failure is mutation XSS).
//!
//! Input: a limit byte (0–255, for the truncations), then the text (lossy UTF-8).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_sanitize::html::HtmlPolicy;
use palisade_sanitize::text::{
    Form, TextCleaner, escape_html, is_bidi_control, log_line, truncate_bytes, truncate_chars,
};
use palisade_sanitize::url::UrlPolicy;

static HTML: LazyLock<HtmlPolicy> = LazyLock::new(HtmlPolicy::new);
static HTML_SSRF: LazyLock<HtmlPolicy> =
    LazyLock::new(|| HtmlPolicy::new().url_policy(UrlPolicy::new()));

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let limit = usize::from(limit);

    let escaped = escape_html(&text);
    assert!(!escaped.contains(['<', '>', '"', '\'']));
    let back = escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    assert_eq!(back, text);

    let line = log_line(&text);
    assert!(
        !line
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_control(c)),
        "{line:?}"
    );

    for cleaner in [
        TextCleaner::new(),
        TextCleaner::new().single_line().with_form(Form::Nfkc),
    ] {
        let once = cleaner.clean(&text);
        assert_eq!(cleaner.clean(&once), once, "cleaning is idempotent");
    }
    let single = TextCleaner::new().single_line().clean(&text);
    assert!(!single.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']));

    let chars = truncate_chars(&text, limit);
    assert!(text.starts_with(chars) && chars.chars().count() <= limit);
    let bytes = truncate_bytes(&text, limit);
    assert!(text.starts_with(bytes) && bytes.len() <= limit);

    for policy in [&*HTML, &*HTML_SSRF] {
        let Ok(clean) = policy.clean(&text) else {
            continue;
        };
        let again = policy
            .clean(clean.as_str())
            .expect("the output is no longer than the input");
        assert_eq!(again.as_str(), clean.as_str(), "cleaning is idempotent");
    }
});
