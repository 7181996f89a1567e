//! Free text from users: length limits, Unicode normalization, removal of control characters
//! and bidirectional overrides (Trojan Source), log-line neutralization, HTML escaping.
//!
//! Nothing here looks for "dangerous words": text is data. It is made well-formed (bounded,
//! normalized, without invisible controls) and then encoded for where it goes (HTML text,
//! a log line). SQL needs no cleaning: parameterized queries carry it as a value.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// More UTF-8 bytes than allowed.
    #[error("text longer than {max} bytes")]
    TooManyBytes {
        /// The limit, in bytes.
        max: usize,
    },
    /// More characters (Unicode scalar values) than allowed.
    #[error("text longer than {max} characters")]
    TooManyChars {
        /// The limit, in characters.
        max: usize,
    },
}

/// Checks `text` against a limit in UTF-8 bytes (storage, wire) and one in characters
/// (Unicode scalar values: what a "1000 characters" field means).
///
/// # Errors
///
/// [`TextError::TooManyBytes`] or [`TextError::TooManyChars`].
pub fn check_length(text: &str, max_bytes: usize, max_chars: usize) -> Result<(), TextError> {
    if text.len() > max_bytes {
        return Err(TextError::TooManyBytes { max: max_bytes });
    }
    // A character is at least one byte: no need to count when the bytes fit.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(TextError::TooManyChars { max: max_chars });
    }
    Ok(())
}

/// The longest prefix of `text` of at most `max_chars` characters.
pub fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character
/// boundary (never half a UTF-8 sequence).
pub fn truncate_bytes(text: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// Whether `c` is a bidirectional embedding, override or isolate control: U+202A–U+202E
/// (LRE, RLE, PDF, LRO, RLO) and U+2066–U+2069 (LRI, RLI, FSI, PDI), the characters of the
/// Trojan Source attack (CVE-2021-42574), which make text display in an order other than
/// the one it is read (by a compiler, a reviewer's diff, a filter). The implicit marks
/// (LRM U+200E, RLM U+200F, ALM U+061C) are not included: they do not reorder runs, and
/// right-to-left text legitimately uses them.
pub const fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The Unicode normalization form applied by a [`TextCleaner`] (UAX #15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Form {
    /// None: the characters as given.
    None,
    /// NFC, canonical composition: `e` + U+0301 becomes `é`; what the text looks like is
    /// unchanged. The default.
    Nfc,
    /// NFKC, compatibility composition: also folds look-alike compatibility characters
    /// (full-width `Ａ` to `A`, `ﬁ` to `fi`, superscripts to digits). For identifiers and
    /// user names, where two spellings must not look the same; it changes meaning in
    /// typeset text.
    Nfkc,
}

/// Cleans free text: removes control characters (general category `Cc`, C0 and C1, and
/// DEL) and bidi controls ([`is_bidi_control`]), then applies a normalization [`Form`].
///
/// Tabs and line breaks (`\t`, `\n`, `\r\n`) are kept by default (a message body);
/// [`single_line`](Self::single_line) turns every line break (`\r`, `\n`, U+0085, U+2028,
/// U+2029) and tab into a space (a name, a subject). The result contains no control
/// character other than those kept, no bidi control, and cleaning it again changes nothing.
///
/// ```
/// use palisade_sanitize::text::{Form, TextCleaner};
///
/// let cleaner = TextCleaner::new();
/// // Trojan Source: an RLO makes `"user // check"` display reversed; it is removed.
/// assert_eq!(cleaner.clean("access\u{202E} // check\u{2066}"), "access // check");
/// // NFC: e + combining acute accent becomes one character.
/// assert_eq!(cleaner.clean("Cafe\u{301}\u{0}"), "Café");
/// let name = TextCleaner::new().single_line().with_form(Form::Nfkc);
/// assert_eq!(name.clean("Ａdmin\r\nSet-Cookie: x"), "Admin  Set-Cookie: x");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TextCleaner {
    form: Form,
    single_line: bool,
}

impl Default for TextCleaner {
    fn default() -> Self {
        Self::new()
    }
}

/// Line separators other than `\n`/`\r`: NEL (U+0085, also `Cc`), LINE SEPARATOR and
/// PARAGRAPH SEPARATOR.
const fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

impl TextCleaner {
    /// NFC, keeping tabs and line breaks.
    pub const fn new() -> Self {
        Self {
            form: Form::Nfc,
            single_line: false,
        }
    }

    /// With normalization form `form`.
    #[must_use]
    pub const fn with_form(mut self, form: Form) -> Self {
        self.form = form;
        self
    }

    /// Line breaks and tabs become spaces.
    #[must_use]
    pub const fn single_line(mut self) -> Self {
        self.single_line = true;
        self
    }

    fn map(&self, c: char) -> Option<char> {
        if is_bidi_control(c) {
            return None;
        }
        if self.single_line && (is_line_break(c) || c == '\t') {
            return Some(' ');
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            return None;
        }
        if matches!(c, '\u{2028}' | '\u{2029}') {
            return Some('\n');
        }
        Some(c)
    }

    /// The cleaned text.
    pub fn clean(&self, text: &str) -> String {
        // Removal before normalization: normalizing cannot create a control character, so
        // the result stays clean and a second pass is the identity.
        let filtered = text.chars().filter_map(|c| self.map(c));
        let mut out = match self.form {
            Form::None => filtered.collect::<String>(),
            Form::Nfc => filtered.nfc().collect(),
            Form::Nfkc => filtered.nfkc().collect(),
        };
        // NFKC can map a compatibility character to a space or a control-free sequence
        // only; re-filter anyway so the guarantee does not rest on the Unicode tables.
        if out.chars().any(|c| self.map(c) != Some(c)) {
            out = out.chars().filter_map(|c| self.map(c)).collect();
        }
        out
    }
}

/// `text` made safe for one log line (CWE-117, log injection): `\r` and `\n` become the two
/// characters `\r` and `\n`, other control characters, line separators and bidi controls
/// `\u{…}`, so a user value can neither start a forged log line nor hide text. Borrowed when
/// nothing needed escaping. Backslashes are not escaped: the output is for people to read,
/// not to be decoded.
///
/// ```
/// use palisade_sanitize::text::log_line;
/// assert_eq!(log_line("bob\r\n2026-01-01 INFO admin logged in"), "bob\\r\\n2026-01-01 INFO admin logged in");
/// assert_eq!(log_line("plain"), "plain");
/// ```
pub fn log_line(text: &str) -> Cow<'_, str> {
    let needs = |c: char| c.is_control() || is_line_break(c) || is_bidi_control(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` escaped for an HTML text node or a quoted attribute value: `&` `<` `>` `"` `'`
/// become `&amp;` `&lt;` `&gt;` `&quot;` `&#x27;` (the OWASP XSS prevention cheat sheet's
/// rule for HTML contexts). Not for unquoted attributes, URLs, JavaScript or CSS contexts,
/// which need their own encoders. Borrowed when nothing needed escaping.
///
/// ```
/// use palisade_sanitize::text::escape_html;
/// assert_eq!(escape_html("O'Brien <b>&</b>"), "O&#x27;Brien &lt;b&gt;&amp;&lt;/b&gt;");
/// ```
pub fn escape_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
