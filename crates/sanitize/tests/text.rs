//! Text: limits, Trojan Source, NFC/NFKC, log lines, HTML escaping; cleaning is idempotent
//! and leaves no control or bidi character.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_sanitize::text::{
    Form, TextCleaner, TextError, check_length, escape_html, is_bidi_control, log_line,
    truncate_bytes, truncate_chars,
};
use proptest::prelude::*;

#[test]
fn limits_in_bytes_and_characters() {
    let s = "éé"; // 2 characters, 4 bytes
    assert_eq!(check_length(s, 4, 2), Ok(()));
    // Limits are inclusive: exactly the limit passes, one more is refused.
    assert_eq!(check_length("abcd", 4, 4), Ok(()));
    assert_eq!(
        check_length("abcde", 5, 4),
        Err(TextError::TooManyChars { max: 4 })
    );
    assert_eq!(
        check_length(s, 3, 2),
        Err(TextError::TooManyBytes { max: 3 })
    );
    assert_eq!(
        check_length(s, 4, 1),
        Err(TextError::TooManyChars { max: 1 })
    );
    assert_eq!(truncate_chars("héllo", 2), "hé");
    assert_eq!(truncate_chars("hé", 5), "hé");
    assert_eq!(truncate_bytes("hé", 2), "h");
    assert_eq!(truncate_bytes("hé", 3), "hé");
    assert_eq!(truncate_bytes("", 3), "");
}

/// The Trojan Source paper's (CVE-2021-42574) characters: every one is removed.
#[test]
fn trojan_source_controls_are_removed() {
    let all = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}',
    ];
    for c in all {
        assert!(is_bidi_control(c));
        assert_eq!(TextCleaner::new().clean(&format!("a{c}b")), "ab");
    }
    // The paper's "commenting-out" example: reads as a comment, compiles as code.
    let src = "/*\u{202E} } \u{2066}if (isAdmin)\u{2069} \u{2066} begin admins only */";
    let clean = TextCleaner::new().clean(src);
    assert!(!clean.chars().any(is_bidi_control));
    // Right-to-left marks used by Arabic and Hebrew text are kept.
    assert_eq!(TextCleaner::new().clean("א\u{200F}1"), "א\u{200F}1");
}

#[test]
fn controls_normalization_and_lines() {
    let c = TextCleaner::new();
    assert_eq!(c.clean("a\u{0}b\u{7}c\u{1b}[31md\u{7f}\u{9b}"), "abc[31md");
    assert_eq!(c.clean("l1\r\nl2\tx\u{2028}y"), "l1\r\nl2\tx\ny");
    assert_eq!(c.clean("Cafe\u{301}"), "Caf\u{e9}");
    assert_eq!(c.with_form(Form::None).clean("Cafe\u{301}"), "Cafe\u{301}");
    assert_eq!(c.with_form(Form::Nfkc).clean("ｆｉｌｅ ﬁ ²"), "file fi 2");
    assert_eq!(
        c.single_line().clean("a\r\nb\u{85}c\u{2029}d\te"),
        "a  b c d e"
    );
}

#[test]
fn log_lines_cannot_be_forged() {
    let forged = "bob\r\n2026-12-04T00:00:00Z INFO user=admin login ok";
    let line = log_line(forged);
    assert!(!line.contains(['\r', '\n']));
    assert_eq!(
        line,
        "bob\\r\\n2026-12-04T00:00:00Z INFO user=admin login ok"
    );
    assert_eq!(
        log_line("a\u{1b}[2Jb\u{2028}\u{202E}"),
        "a\\u{1b}[2Jb\\u{2028}\\u{202e}"
    );
    assert!(matches!(log_line("plain é"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn html_escaping_for_text_contexts() {
    assert_eq!(
        escape_html(r#"<script>alert("x")</script> & O'Brien"#),
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; O&#x27;Brien"
    );
    assert!(matches!(
        escape_html("plain"),
        std::borrow::Cow::Borrowed(_)
    ));
}

fn forms() -> impl Strategy<Value = TextCleaner> {
    (
        prop::sample::select(vec![Form::None, Form::Nfc, Form::Nfkc]),
        any::<bool>(),
    )
        .prop_map(|(f, single)| {
            let c = TextCleaner::new().with_form(f);
            if single { c.single_line() } else { c }
        })
}

/// Text rich in what cleaning handles: controls, bidi, combining marks, compatibility forms.
fn messy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '\u{0}', '\r', '\n', '\t', '\u{85}', '\u{2028}', '\u{202E}', '\u{2066}', '\u{301}',
                '\u{327}', 'e', 'ﬁ', 'Ａ', '\u{1b}', '\u{7f}', '\u{9b}', 'ᄀ', '\u{1161}',
            ]),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn cleaning_is_idempotent_and_leaves_no_control(s in messy(), cleaner in forms()) {
        let once = cleaner.clean(&s);
        prop_assert_eq!(cleaner.clean(&once), once.clone());
        for c in once.chars() {
            prop_assert!(!is_bidi_control(c), "{c:?}");
            prop_assert!(!c.is_control() || matches!(c, '\t' | '\n' | '\r'), "{c:?}");
        }
    }

    #[test]
    fn single_line_has_no_line_break(s in messy()) {
        let once = TextCleaner::new().single_line().clean(&s);
        let breaks = ['\r', '\n', '\u{85}', '\u{2028}', '\u{2029}', '\t'];
        prop_assert!(!once.contains(breaks), "line break left");
    }

    #[test]
    fn log_line_is_one_line_and_idempotent(s in messy()) {
        let once = log_line(&s).into_owned();
        let bad = |c: char| c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}');
        prop_assert!(!once.chars().any(bad), "control left");
        prop_assert_eq!(log_line(&once), once.as_str());
    }

    #[test]
    fn truncation_respects_limits(s in "\\PC{0,50}", n in 0usize..60) {
        prop_assert!(truncate_chars(&s, n).chars().count() <= n);
        prop_assert!(truncate_bytes(&s, n).len() <= n);
        prop_assert!(s.starts_with(truncate_bytes(&s, n)));
    }
}
