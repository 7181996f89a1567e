//! Rich text (feature `html`): XSS vectors of the OWASP XSS Filter Evasion Cheat Sheet
//! (<https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html>) and
//! mutation-XSS cases, cleaned to a pinned output; names left alone; the policy's settings
//! refused where they would allow script; the `UrlPolicy` option; a proptest that no cleaned
//! markup can run script.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_sanitize::html::{FORBIDDEN_TAGS, HtmlPolicy, HtmlPolicyError};
use palisade_sanitize::text::TextError;
use palisade_sanitize::url::UrlPolicy;
use proptest::prelude::*;

fn clean(html: &str) -> String {
    HtmlPolicy::new().clean(html).unwrap().into_string()
}

/// (input, cleaned output). Inputs from the OWASP XSS Filter Evasion Cheat Sheet unless noted.
const VECTORS: &[(&str, &str)] = &[
    // Basic XSS test without filter evasion; external script.
    (
        "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
        "",
    ),
    ("<script>alert('XSS')</script>after", "after"),
    // Image XSS using the JavaScript directive, case-insensitive, no quotes.
    ("<IMG SRC=\"javascript:alert('XSS');\">", "<img>"),
    ("<IMG SRC=JaVaScRiPt:alert('XSS')>", "<img>"),
    // HTML entities: decimal, decimal with padding, hex without semicolons.
    (
        "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
        "<img>",
    ),
    (
        "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
        "<img>",
    ),
    (
        "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
        "<img>",
    ),
    // Embedded tab, encoded tab, encoded newline, spaces and meta characters before the
    // scheme.
    ("<IMG SRC=\"jav\tascript:alert('XSS');\">", "<img>"),
    ("<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">", "<img>"),
    ("<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">", "<img>"),
    ("<IMG SRC=\" &#14;  javascript:alert('XSS');\">", "<img>"),
    (
        "<a href=\"java&Tab;script&colon;alert(1)\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    // Event handlers, on allowed and on removed tags.
    ("<img src=x onerror=alert(1)>", "<img src=\"x\">"),
    (
        "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
        "<img src=\"/\">",
    ),
    ("<BODY ONLOAD=alert('XSS')>", ""),
    ("<b onmouseover=alert('XSS')>hi</b>", "<b>hi</b>"),
    // SVG.
    ("<svg onload=alert(1)>", ""),
    ("<svg/onload=alert('XSS')>", ""),
    ("<SVG><script>alert(1)</script></SVG>text", "text"),
    // Style: expressions, url(javascript:), STYLE tags.
    (
        "<DIV STYLE=\"width: expression(alert('XSS'));\">x</DIV>",
        "<div>x</div>",
    ),
    (
        "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
        "<div>x</div>",
    ),
    (
        "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
        "<ul><li>XSS<br></li></ul>",
    ),
    // Extraneous open brackets, half-open and unclosed tags.
    ("<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>", "&lt;"),
    (
        "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
        "<img>\"\\&gt;",
    ),
    ("<b><i>unclosed", "<b><i>unclosed</i></b>"),
    ("<p>a<p>b", "<p>a</p><p>b</p>"),
    // Frames and data: URLs.
    ("<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>", ""),
    (
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<a rel=\"noopener noreferrer\">x</a>",
    ),
    // Mutation XSS (DOMPurify bypasses, 2019-2020): namespace confusion and raw-text
    // elements; what is left is text or a clean element.
    (
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "",
    ),
    (
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "&lt;p title=\"<img src=\"x\">\"&gt;",
    ),
    // A `<` in an attribute value is escaped.
    (
        "<a href=\"https://example.com/\" title=\"<script>\">x</a>",
        "<a href=\"https://example.com/\" title=\"&lt;script&gt;\" rel=\"noopener noreferrer\">x</a>",
    ),
    // Comments are removed (conditional comments ran script in old IE).
    (
        "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->ok",
        "ok",
    ),
];

#[test]
fn owasp_xss_vectors_are_cleaned_to_the_pinned_output() {
    for (input, expected) in VECTORS {
        assert_eq!(clean(input), *expected, "input: {input}");
    }
}

#[test]
fn names_and_plain_text_are_left_alone() {
    for text in [
        "O'Brien",
        "D'Angelo & sons",
        "please select a slot; drop me a line -- 1=1",
    ] {
        assert_eq!(clean(text), text.replace('&', "&amp;"));
    }
    assert_eq!(clean("O'Brien"), "O'Brien");
    assert_eq!(clean("<p>O'Brien</p>"), "<p>O'Brien</p>");
    assert_eq!(clean("1 < 2"), "1 &lt; 2");
}

#[test]
fn links_get_noopener_noreferrer() {
    assert_eq!(
        clean("<a href=\"https://example.com/\" target=\"_blank\" rel=\"opener\">x</a>"),
        "<a href=\"https://example.com/\" rel=\"noopener noreferrer\">x</a>"
    );
}

#[test]
fn url_policy_drops_internal_urls_and_canonicalizes_the_rest() {
    let policy = HtmlPolicy::new().url_policy(UrlPolicy::new());
    let c = |s: &str| policy.clean(s).unwrap().into_string();
    assert_eq!(c("<img src=\"http://169.254.169.254/\">"), "<img>");
    assert_eq!(
        c("<img src=\"http://169.254.169.254/latest/meta-data/\" alt=\"a\">"),
        "<img alt=\"a\">"
    );
    // 127.0.0.1 in decimal, hex and IPv4-mapped IPv6; internal names.
    assert_eq!(
        c("<a href=\"http://2130706433/\">a</a>"),
        "<a rel=\"noopener noreferrer\">a</a>"
    );
    assert_eq!(c("<img src=\"http://0x7f.1/x.png\">"), "<img>");
    assert_eq!(
        c("<blockquote cite=\"http://[::ffff:127.0.0.1]/\">q</blockquote>"),
        "<blockquote>q</blockquote>"
    );
    assert_eq!(c("<img src=\"http://localhost./x.png\">"), "<img>");
    // Relative URLs: the policy cannot know what they resolve against.
    assert_eq!(c("<img src=\"/x.png\">"), "<img>");
    // Public URLs pass, in the canonical form that was checked.
    assert_eq!(
        c("<a href=\"HTTPS://Example.COM/a b\">a</a>"),
        "<a href=\"https://example.com/a%20b\" rel=\"noopener noreferrer\">a</a>"
    );
    assert_eq!(
        c("<img src=\"https://cdn.example.com/x.png\">"),
        "<img src=\"https://cdn.example.com/x.png\">"
    );
    // Other attributes are not URLs.
    assert_eq!(
        c("<b title=\"http://127.0.0.1/\">b</b>"),
        "<b title=\"http://127.0.0.1/\">b</b>"
    );

    // Without the option, ammonia alone keeps them (it checks schemes, not hosts).
    assert_eq!(
        clean("<img src=\"http://169.254.169.254/\">"),
        "<img src=\"http://169.254.169.254/\">"
    );
}

#[test]
fn url_policy_with_an_allowlist() {
    let policy = HtmlPolicy::new().url_policy(
        UrlPolicy::new()
            .schemes(["https"])
            .allow_host("*.example.com")
            .unwrap(),
    );
    let c = |s: &str| policy.clean(s).unwrap().into_string();
    assert_eq!(
        c("<img src=\"https://img.example.com/a.png\">"),
        "<img src=\"https://img.example.com/a.png\">"
    );
    assert_eq!(
        c("<img src=\"https://example.com.evil.test/a.png\">"),
        "<img>"
    );
    assert_eq!(c("<img src=\"http://img.example.com/a.png\">"), "<img>");
}

#[test]
fn policy_settings_that_would_allow_script_are_refused() {
    for tag in [
        "script", "STYLE", "svg", "iframe", "object", "noscript", "math", "base",
    ] {
        let err = HtmlPolicy::new().allow_tags([tag]).unwrap_err();
        assert_eq!(
            err,
            HtmlPolicyError::ForbiddenTag {
                tag: tag.to_ascii_lowercase()
            }
        );
    }
    assert!(FORBIDDEN_TAGS.contains(&"script"));
    for attribute in [
        "onclick", "OnError", "style", "srcset", "ping", "srcdoc", "rel",
    ] {
        let err = HtmlPolicy::new()
            .allow_attributes("img", [attribute])
            .unwrap_err();
        assert_eq!(
            err,
            HtmlPolicyError::ForbiddenAttribute {
                attribute: attribute.to_ascii_lowercase()
            }
        );
        assert!(
            HtmlPolicy::new()
                .allow_generic_attributes([attribute])
                .is_err()
        );
    }
    assert_eq!(
        HtmlPolicy::new()
            .allow_attributes("script", ["src"])
            .unwrap_err(),
        HtmlPolicyError::ForbiddenTag {
            tag: "script".into()
        }
    );
    for scheme in ["javascript", "JavaScript", "vbscript", "data", "file"] {
        assert_eq!(
            HtmlPolicy::new()
                .url_schemes(["https", scheme])
                .unwrap_err(),
            HtmlPolicyError::ForbiddenScheme {
                scheme: scheme.to_ascii_lowercase()
            }
        );
    }
    for name in ["", "a b", "1a", "x\"y", "on click"] {
        assert!(matches!(
            HtmlPolicy::new().allow_tags([name]),
            Err(HtmlPolicyError::InvalidName { .. })
        ));
    }
    assert!(matches!(
        HtmlPolicy::new().url_schemes(["java script"]),
        Err(HtmlPolicyError::InvalidName { .. })
    ));
}

#[test]
fn allowed_tags_attributes_and_schemes_are_configurable() {
    let policy = HtmlPolicy::new()
        .remove_tags(["IMG"])
        .allow_tags(["section"])
        .unwrap()
        .allow_attributes("span", ["Class"])
        .unwrap()
        .allow_generic_attributes(["dir"])
        .unwrap()
        .url_schemes(["https"])
        .unwrap();
    let c = |s: &str| policy.clean(s).unwrap().into_string();
    assert_eq!(c("<img src=\"https://a.example/x.png\">pic"), "pic");
    assert_eq!(
        c("<section dir=\"rtl\">s</section>"),
        "<section dir=\"rtl\">s</section>"
    );
    assert_eq!(
        c("<span class=\"k\">x</span>"),
        "<span class=\"k\">x</span>"
    );
    assert_eq!(
        c("<a href=\"http://a.example/\">h</a>"),
        "<a rel=\"noopener noreferrer\">h</a>"
    );
    assert_eq!(
        c("<a href=\"https://a.example/\">h</a>"),
        "<a href=\"https://a.example/\" rel=\"noopener noreferrer\">h</a>"
    );
    // Allowing `class` generically (ammonia asserts when combined with its class filter,
    // which this wrapper never sets) cleans without panicking.
    let generic = HtmlPolicy::new()
        .allow_generic_attributes(["class"])
        .unwrap();
    assert_eq!(
        generic.clean("<b class=\"x\">b</b>").unwrap().as_str(),
        "<b class=\"x\">b</b>"
    );
}

#[test]
fn input_over_the_limit_is_refused() {
    let policy = HtmlPolicy::new().max_bytes(8);
    assert_eq!(policy.clean("<b>x</b>").unwrap().as_str(), "<b>x</b>");
    assert_eq!(
        policy.clean("<b>xy</b>"),
        Err(TextError::TooManyBytes { max: 8 })
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = "<div>".repeat(5_000) + "x";
    let out = clean(&deep);
    assert!(out.contains('x'));
    assert!(!out.contains('<') || out.starts_with("<div>"));
}

/// One tag of cleaned output: name and (name, decoded value) attributes. Cleaned output is
/// html5ever's serialization: `<` and `>` only delimit tags (text and attribute values have
/// them escaped), attribute values are double-quoted with `"` escaped.
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("a tag is closed") + start;
        let inner = &rest[start + 1..end];
        rest = &rest[end + 1..];
        let inner = inner.strip_prefix('/').unwrap_or(inner);
        let (name, mut attrs) = inner.split_once(' ').unwrap_or((inner, ""));
        let mut attributes = Vec::new();
        while !attrs.is_empty() {
            let (attr_name, after) = attrs.split_once("=\"").expect("attributes are quoted");
            let (value, after) = after.split_once('"').expect("attribute values are closed");
            attributes.push((attr_name.trim().to_owned(), decode_entities(value)));
            attrs = after.trim_start();
        }
        out.push(Tag {
            name: name.to_owned(),
            attributes,
        });
    }
    out
}

#[test]
fn the_test_tokenizer_reads_cleaned_output() {
    let out = clean("<a href=\"https://e.example/?a=1&amp;b=&quot;\" title='x\"<y>'>t</a><br>");
    let tags = tags(&out);
    assert_eq!(tags.len(), 3, "{out}");
    assert_eq!(tags[0].name, "a");
    assert_eq!(
        tags[0].attributes,
        [
            ("href".to_owned(), "https://e.example/?a=1&b=\"".to_owned()),
            ("title".to_owned(), "x\"<y>".to_owned()),
            ("rel".to_owned(), "noopener noreferrer".to_owned()),
        ]
    );
    assert_eq!((tags[1].name.as_str(), tags[2].name.as_str()), ("a", "br"));
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "<script>", "</script>", "<SCRIPT SRC=//x>", "<img", "<IMG", " src=", " SRC=", " href=",
            "<a", "<svg", "<math>", "<mtext>", "<style>", "</style>", "<noscript>", "</noscript>",
            "<iframe", "<table>", "<mglyph>", "<!--", "-->", "<![CDATA[", "]]>", "<p", "<b",
            "</b>", ">", "/>", "<", "\"", "'", "=", " ", "\t", "\n", "/", "javascript:",
            "JaVaScRiPt:", "java&Tab;script&colon;", "jav&#x09;ascript:", "&#106;&#97;&#118;",
            "&#x6A", "vbscript:", "data:text/html,", " onerror=", " ONLOAD=", " onmouseover=",
            "/onload=", "alert(1)", " style=", "expression(", "url(", "<body", "<template>",
            "<title>", "<textarea>", "<xmp>", "<select>", "<option>", "&", "&amp;", "&lt;",
        ]).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Cleaned markup never contains `<script`, an `on*` attribute, a `style` attribute, a
    /// forbidden tag, or a URL attribute whose value (entities decoded, whitespace and
    /// control characters removed, as browsers do) starts with a script or `data:` scheme
    /// (a scheme is only ever at the start: `<![CDATA[javascript:…` is a relative URL). Text
    /// content may say "javascript:" or "onclick=": it is escaped text, not markup.
    #[test]
    fn cleaned_markup_never_runs_script(parts in prop::collection::vec(fragment(), 0..24)) {
        let input = parts.concat();
        let out = clean(&input);
        prop_assert!(!out.to_ascii_lowercase().contains("<script"), "{input:?} -> {out:?}");
        for tag in tags(&out) {
            prop_assert!(!FORBIDDEN_TAGS.contains(&tag.name.as_str()), "{input:?} -> {out:?}");
            for (name, value) in &tag.attributes {
                let name = name.to_ascii_lowercase();
                prop_assert!(!name.starts_with("on") && name != "style", "{input:?} -> {out:?}");
                if matches!(name.as_str(), "href" | "src" | "cite" | "action" | "poster") {
                    let squeezed: String = value
                        .chars()
                        .filter(|c| !c.is_whitespace() && !c.is_control())
                        .collect::<String>()
                        .to_ascii_lowercase();
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        prop_assert!(!squeezed.starts_with(scheme), "{input:?} -> {out:?}");
                    }
                }
            }
        }
    }

    /// Arbitrary text never panics, with or without a URL policy.
    #[test]
    fn arbitrary_input_never_panics(input in "\\PC{0,64}") {
        prop_assert!(HtmlPolicy::new().clean(&input).is_ok());
        prop_assert!(HtmlPolicy::new().url_policy(UrlPolicy::new()).clean(&input).is_ok());
    }
}

/// The cleaned HTML is the same through every accessor and conversion.
#[test]
fn rich_text_reads_the_same_every_way() {
    let text = HtmlPolicy::new()
        .clean("<b>bold</b><script>x</script>")
        .unwrap();
    assert_eq!(text.as_str(), "<b>bold</b>");
    assert_eq!(text.to_string(), "<b>bold</b>");
    assert_eq!(AsRef::<str>::as_ref(&text), "<b>bold</b>");
    assert_eq!(String::from(text.clone()), "<b>bold</b>");
    assert_eq!(text.into_string(), "<b>bold</b>");
}

/// A URL that becomes a script URL once Unicode whitespace is removed is dropped, with and
/// without a URL policy (the first input is the property test's counterexample); one that
/// only looks like a scheme further in, or a relative path starting like one, is kept.
#[test]
fn urls_hiding_a_scheme_behind_unicode_whitespace_are_dropped() {
    let with_policy = HtmlPolicy::new().url_policy(UrlPolicy::new());
    for input in [
        "<img src=\u{a0}javascript:<script>",
        "<a href=\"\u{2003}JavaScript:alert(1)\">x</a>",
        "<a href=\"&nbsp;data:text/html,x\">x</a>",
    ] {
        let out = clean(input);
        assert!(
            !out.contains("src=") && !out.contains("href="),
            "{input:?} -> {out:?}"
        );
        let out = with_policy.clean(input).unwrap().into_string();
        assert!(
            !out.contains("src=") && !out.contains("href="),
            "{input:?} -> {out:?}"
        );
    }
    assert_eq!(
        clean("<a href=\"data-sheet.pdf\">x</a>"),
        "<a href=\"data-sheet.pdf\" rel=\"noopener noreferrer\">x</a>"
    );
}
