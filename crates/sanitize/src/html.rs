//! Rich text: HTML a user may write (comments, descriptions, messages with formatting),
//! cleaned with an allowlist by the [`ammonia`] crate (feature `html`).
//!
//! Plain text needs no sanitizer: escape it where it is shown ([`crate::text::escape_html`]).
//! When users may format text with HTML, the HTML is parsed as a browser parses it
//! (`html5ever`, the WHATWG parsing algorithm) and only allowed tags, attributes and URL
//! schemes are written back out; everything else is dropped, whatever its spelling. That is
//! what a deny-list of `<script` and `onerror=` patterns cannot do.
//!
//! [`HtmlPolicy::new`] is ammonia's default allowlist (text formatting, lists, tables,
//! links, images; `lang` and `title` everywhere; no `style`, no `class`, no event handlers,
//! no `script`/`style` content, comments removed), URL schemes without `javascript:`,
//! `data:` or `vbscript:`, and `rel="noopener noreferrer"` on every link. Tags, attributes
//! and URL schemes are configurable within limits: what can run script or load a document
//! ([`FORBIDDEN_TAGS`], [`is_forbidden_attribute`], [`FORBIDDEN_SCHEMES`]) cannot be
//! allowed. With [`HtmlPolicy::url_policy`], every URL attribute is also checked by a
//! [`UrlPolicy`] (this crate's SSRF rules), for HTML that a server renders or fetches from
//! (PDF generation, link previews, e-mail image proxies).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use crate::text::TextError;
use crate::url::UrlPolicy;

/// Tags no [`HtmlPolicy`] allows: they run script (`script`, `svg`, `math`, plugins),
/// load or replace a document (`iframe`, `frame`, `object`, `embed`, `base`, `link`,
/// `meta`, `form`), or are parsed as raw text, where parser differentials give mutation XSS
/// (`style`, `noscript`, `template`, `xmp`, `textarea`, `title`, …).
pub const FORBIDDEN_TAGS: &[&str] = &[
    "applet",
    "base",
    "embed",
    "form",
    "frame",
    "frameset",
    "iframe",
    "link",
    "math",
    "meta",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "plaintext",
    "script",
    "style",
    "svg",
    "template",
    "textarea",
    "title",
    "xmp",
];

/// URL schemes no [`HtmlPolicy`] allows: they run script (`javascript:`, `vbscript:`), carry
/// a whole document (`data:`, `blob:`) or read local files (`file:`).
pub const FORBIDDEN_SCHEMES: &[&str] = &["blob", "data", "file", "javascript", "vbscript"];

/// Attributes whose value is a URL (or a list of them): with [`HtmlPolicy::url_policy`],
/// every one that is allowed is checked by the [`UrlPolicy`], on every tag.
const URL_ATTRIBUTES: &[&str] = &[
    "action",
    "background",
    "cite",
    "codebase",
    "data",
    "formaction",
    "href",
    "longdesc",
    "poster",
    "src",
];

/// The default input limit of [`HtmlPolicy::clean`], in bytes: 1 MiB.
pub const DEFAULT_MAX_HTML_BYTES: usize = 1 << 20;

/// Whether no [`HtmlPolicy`] allows the attribute `name` (lowercase): event handlers
/// (`on*`), `style` (CSS `url()` and `expression()`), `srcset`/`imagesrcset` and `ping`
/// (lists of URLs, which a single URL check would let through), `srcdoc` (a whole
/// document), `rel` (set by the policy on links).
pub fn is_forbidden_attribute(name: &str) -> bool {
    name.starts_with("on")
        || matches!(
            name,
            "style" | "srcset" | "imagesrcset" | "ping" | "srcdoc" | "rel"
        )
}

/// Why an [`HtmlPolicy`] setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HtmlPolicyError {
    /// A tag of [`FORBIDDEN_TAGS`].
    #[error("tag <{tag}> cannot be allowed")]
    ForbiddenTag {
        /// The tag, lowercase.
        tag: String,
    },
    /// An attribute [`is_forbidden_attribute`] refuses.
    #[error("attribute {attribute:?} cannot be allowed")]
    ForbiddenAttribute {
        /// The attribute, lowercase.
        attribute: String,
    },
    /// A URL scheme of [`FORBIDDEN_SCHEMES`].
    #[error("URL scheme {scheme:?} cannot be allowed")]
    ForbiddenScheme {
        /// The scheme, lowercase.
        scheme: String,
    },
    /// Not a tag, attribute or scheme name: tags and attributes are an ASCII letter then
    /// letters, digits and `-`; schemes an ASCII letter then letters, digits, `+`, `-`, `.`.
    #[error("invalid name {name:?}")]
    InvalidName {
        /// The name as given.
        name: String,
    },
}

/// HTML that went through an [`HtmlPolicy`]: only allowed tags, attributes and URLs, in
/// well-formed HTML (every element closed, attributes double-quoted, text escaped). Insert
/// it into a page as HTML, not escaped again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RichText(String);

impl RichText {
    /// The cleaned HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The cleaned HTML, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RichText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RichText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<RichText> for String {
    fn from(text: RichText) -> Self {
        text.0
    }
}

/// An allowlist for user HTML, cleaned by [`ammonia`] (see the [module docs](self)).
///
/// ```
/// use palisade_sanitize::html::HtmlPolicy;
/// use palisade_sanitize::url::UrlPolicy;
///
/// let policy = HtmlPolicy::new();
/// let clean = policy.clean(r#"<b>Hi</b><img src=x onerror=alert(1)><script>alert(2)</script>"#)?;
/// assert_eq!(clean.as_str(), r#"<b>Hi</b><img src="x">"#);
/// let link = policy.clean(r#"<a href="https://example.com/" onclick="steal()">x</a>"#)?;
/// assert_eq!(link.as_str(), r#"<a href="https://example.com/" rel="noopener noreferrer">x</a>"#);
///
/// // HTML a server renders: URLs also pass this crate's SSRF policy.
/// let server_side = HtmlPolicy::new().url_policy(UrlPolicy::new());
/// let clean = server_side.clean(r#"<img src="http://169.254.169.254/latest/meta-data/">"#)?;
/// assert_eq!(clean.as_str(), "<img>");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HtmlPolicy {
    tags: BTreeSet<String>,
    tag_attributes: BTreeMap<String, BTreeSet<String>>,
    generic_attributes: BTreeSet<String>,
    url_schemes: BTreeSet<String>,
    url_policy: Option<Arc<UrlPolicy>>,
    max_bytes: usize,
}

impl Default for HtmlPolicy {
    fn default() -> Self {
        Self::new()
    }
}

fn owned(set: HashSet<&str>) -> BTreeSet<String> {
    set.into_iter().map(str::to_owned).collect()
}

fn borrowed(set: &BTreeSet<String>) -> HashSet<&str> {
    set.iter().map(String::as_str).collect()
}

/// `name` lowercased if it is a tag or attribute name (`[A-Za-z][A-Za-z0-9-]*`).
fn element_name(name: &str) -> Result<String, HtmlPolicyError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(HtmlPolicyError::InvalidName { name: name.into() })
    }
}

fn tag_name(tag: &str) -> Result<String, HtmlPolicyError> {
    let tag = element_name(tag)?;
    if FORBIDDEN_TAGS.contains(&tag.as_str()) {
        return Err(HtmlPolicyError::ForbiddenTag { tag });
    }
    Ok(tag)
}

fn attribute_name(attribute: &str) -> Result<String, HtmlPolicyError> {
    let attribute = element_name(attribute)?;
    if is_forbidden_attribute(&attribute) {
        return Err(HtmlPolicyError::ForbiddenAttribute { attribute });
    }
    Ok(attribute)
}

impl HtmlPolicy {
    /// Ammonia's default allowlist (see the [module docs](self)), no [`UrlPolicy`], inputs
    /// up to [`DEFAULT_MAX_HTML_BYTES`].
    pub fn new() -> Self {
        let defaults = ammonia::Builder::default();
        let url_schemes = defaults
            .clone_url_schemes()
            .into_iter()
            .filter(|s| !FORBIDDEN_SCHEMES.contains(s))
            .map(str::to_owned)
            .collect();
        Self {
            tags: owned(defaults.clone_tags()),
            tag_attributes: defaults
                .clone_tag_attributes()
                .into_iter()
                .map(|(tag, attributes)| (tag.to_owned(), owned(attributes)))
                .collect(),
            generic_attributes: owned(defaults.clone_generic_attributes()),
            url_schemes,
            url_policy: None,
            max_bytes: DEFAULT_MAX_HTML_BYTES,
        }
    }

    /// Also allows `tags` (case-insensitive).
    ///
    /// # Errors
    ///
    /// [`HtmlPolicyError::ForbiddenTag`] for a tag of [`FORBIDDEN_TAGS`],
    /// [`HtmlPolicyError::InvalidName`] for a name that is not a tag name.
    pub fn allow_tags<I, S>(mut self, tags: I) -> Result<Self, HtmlPolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for tag in tags {
            let tag = tag_name(tag.as_ref())?;
            self.tags.insert(tag);
        }
        Ok(self)
    }

    /// No longer allows `tags` (case-insensitive): they are removed, their text kept.
    #[must_use]
    pub fn remove_tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for tag in tags {
            let tag = tag.as_ref().to_ascii_lowercase();
            self.tags.remove(&tag);
            self.tag_attributes.remove(&tag);
        }
        self
    }

    /// Also allows `attributes` on `tag` (case-insensitive); the tag itself must be allowed
    /// for them to appear.
    ///
    /// # Errors
    ///
    /// [`HtmlPolicyError::ForbiddenTag`], [`HtmlPolicyError::ForbiddenAttribute`] (an
    /// attribute [`is_forbidden_attribute`] refuses), [`HtmlPolicyError::InvalidName`].
    pub fn allow_attributes<I, S>(
        mut self,
        tag: &str,
        attributes: I,
    ) -> Result<Self, HtmlPolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let tag = tag_name(tag)?;
        let mut names = Vec::new();
        for attribute in attributes {
            names.push(attribute_name(attribute.as_ref())?);
        }
        self.tag_attributes.entry(tag).or_default().extend(names);
        Ok(self)
    }

    /// Also allows `attributes` on every allowed tag (case-insensitive).
    ///
    /// # Errors
    ///
    /// As [`allow_attributes`](Self::allow_attributes).
    pub fn allow_generic_attributes<I, S>(mut self, attributes: I) -> Result<Self, HtmlPolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for attribute in attributes {
            let attribute = attribute_name(attribute.as_ref())?;
            self.generic_attributes.insert(attribute);
        }
        Ok(self)
    }

    /// The URL schemes allowed in URL attributes, replacing the set (case-insensitive).
    /// Relative URLs are kept unless a [`url_policy`](Self::url_policy) is set.
    ///
    /// # Errors
    ///
    /// [`HtmlPolicyError::ForbiddenScheme`] for a scheme of [`FORBIDDEN_SCHEMES`],
    /// [`HtmlPolicyError::InvalidName`] for a name that is not a scheme.
    pub fn url_schemes<I, S>(mut self, schemes: I) -> Result<Self, HtmlPolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for scheme in schemes {
            let given = scheme.as_ref();
            let mut chars = given.chars();
            let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !ok {
                return Err(HtmlPolicyError::InvalidName { name: given.into() });
            }
            let scheme = given.to_ascii_lowercase();
            if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
                return Err(HtmlPolicyError::ForbiddenScheme { scheme });
            }
            set.insert(scheme);
        }
        self.url_schemes = set;
        Ok(self)
    }

    /// Checks every URL attribute (`href`, `src`, `cite`, `poster`, …) with `policy` as
    /// well: a URL it refuses is dropped (the attribute, not the element), one it accepts is
    /// written in the canonical form it checked. Relative URLs are dropped, as the policy
    /// cannot know what they resolve against. The URL must also have an allowed
    /// [scheme](Self::url_schemes).
    #[must_use]
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.url_policy = Some(Arc::new(policy));
        self
    }

    /// Inputs longer than `bytes` are refused (default [`DEFAULT_MAX_HTML_BYTES`]).
    #[must_use]
    pub const fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// `html` (a fragment, as the content of a `<div>`) cleaned: disallowed elements are
    /// removed with their content for `script` and `style` and without it (their text kept)
    /// for others; disallowed attributes and URLs are removed; comments are removed; links get
    /// `rel="noopener noreferrer"`. Never fails on malformed HTML: it is parsed as a browser
    /// would parse it.
    ///
    /// # Errors
    ///
    /// [`TextError::TooManyBytes`] when `html` is longer than the
    /// [limit](Self::max_bytes).
    pub fn clean(&self, html: &str) -> Result<RichText, TextError> {
        if html.len() > self.max_bytes {
            return Err(TextError::TooManyBytes {
                max: self.max_bytes,
            });
        }
        let tag_attributes: HashMap<&str, HashSet<&str>> = self
            .tag_attributes
            .iter()
            .map(|(tag, attributes)| (tag.as_str(), borrowed(attributes)))
            .collect();
        // The settings ammonia asserts on are kept consistent by construction: `script` and
        // `style` (its `clean_content_tags`) are never allowed tags nor keys of
        // `tag_attributes`, `rel` is never an allowed attribute (ammonia sets it on links),
        // no `allowed_classes` or `style` filtering is configured, and the attribute filter
        // is set once.
        let mut builder = ammonia::Builder::default();
        builder
            .tags(borrowed(&self.tags))
            .tag_attributes(tag_attributes)
            .generic_attributes(borrowed(&self.generic_attributes))
            .url_schemes(borrowed(&self.url_schemes));
        let policy = self.url_policy.as_ref().map(Arc::clone);
        builder.attribute_filter(move |_element, attribute, value| {
            if !URL_ATTRIBUTES.contains(&attribute) {
                return Some(Cow::Borrowed(value));
            }
            if hides_forbidden_scheme(value) {
                return None;
            }
            match &policy {
                Some(policy) => policy
                    .check(value)
                    .ok()
                    .map(|checked| Cow::Owned(checked.into_url().into())),
                None => Some(Cow::Borrowed(value)),
            }
        });
        Ok(RichText(builder.clean(html).to_string()))
    }
}

/// Whether a URL attribute's value (entities already decoded) reads as one of the
/// [`FORBIDDEN_SCHEMES`] once every whitespace and control character is removed. The URL
/// standard strips only ASCII spaces and C0 controls around a URL (and tabs and line breaks
/// within it), so `\u{a0}javascript:` is a relative URL to the URL parser that ammonia uses
/// and to today's browsers; it is dropped anyway, because older browsers stripped more, and a
/// sanitizer must not depend on which one reads the page. Found by the
/// `cleaned_markup_never_runs_script` property test.
fn hides_forbidden_scheme(value: &str) -> bool {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(16)
        .flat_map(char::to_lowercase)
        .collect();
    FORBIDDEN_SCHEMES.iter().any(|scheme| {
        squeezed
            .strip_prefix(scheme)
            .is_some_and(|rest| rest.starts_with(':'))
    })
}
