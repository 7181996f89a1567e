//! The one syntax of permissions and scopes, and its segment-wise matcher.
//!
//! A permission is one action: segments separated by `:`, each one or more of
//! `[a-z0-9_.-]` (`bookings:read`, `admin:users:delete`). A scope — what a role grants or
//! denies, or what an API client holds — has the same syntax and may also use `*` as a whole
//! segment: in the middle it matches exactly one segment, as the last segment one or more
//! remaining segments. `*` is never part of a segment (`admin*` is refused), so `admin:*`
//! can never match `administrator:read`, the bug of matching scopes by string prefix.

use std::fmt;
use std::str::FromStr;

/// The longest permission or scope accepted, in bytes.
pub const MAX_LEN: usize = 256;
/// The most segments a permission or scope may have.
pub const MAX_SEGMENTS: usize = 16;

const WILDCARD: &str = "*";

/// Why a permission or scope string was refused. Positions are 0-based segment indexes; the
/// input itself is not repeated (it may come from a token a client sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The string is empty.
    #[error("empty permission or scope")]
    Empty,
    /// The string is longer than [`MAX_LEN`] bytes.
    #[error("permission or scope longer than {max} bytes")]
    TooLong {
        /// [`MAX_LEN`].
        max: usize,
    },
    /// The string has more than [`MAX_SEGMENTS`] segments.
    #[error("permission or scope with more than {max} segments")]
    TooManySegments {
        /// [`MAX_SEGMENTS`].
        max: usize,
    },
    /// Two `:` in a row, or a `:` at the start or the end.
    #[error("segment {segment} is empty")]
    EmptySegment {
        /// The empty segment's index.
        segment: usize,
    },
    /// `*` next to other characters in one segment (`admin*`): a wildcard is a whole segment.
    #[error("segment {segment}: `*` must be a whole segment")]
    PartialWildcard {
        /// The segment's index.
        segment: usize,
    },
    /// A byte outside `[a-z0-9_.-]` (upper case included: names are lower case).
    #[error("segment {segment}: byte {byte:#04x} is not one of [a-z0-9_.-]")]
    InvalidByte {
        /// The segment's index.
        segment: usize,
        /// The refused byte.
        byte: u8,
    },
    /// `*` in a permission: a permission names one action; wildcards belong to scopes.
    #[error("segment {segment}: a permission names one action, `*` belongs to scopes")]
    WildcardInPermission {
        /// The segment's index.
        segment: usize,
    },
}

/// Whether `b` may appear in a segment name.
pub(crate) fn is_name_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-')
}

fn validate(text: &str, wildcards: bool) -> Result<(), ScopeError> {
    if text.is_empty() {
        return Err(ScopeError::Empty);
    }
    if text.len() > MAX_LEN {
        return Err(ScopeError::TooLong { max: MAX_LEN });
    }
    for (segment, part) in text.split(':').enumerate() {
        if segment >= MAX_SEGMENTS {
            return Err(ScopeError::TooManySegments { max: MAX_SEGMENTS });
        }
        if part.is_empty() {
            return Err(ScopeError::EmptySegment { segment });
        }
        if part == WILDCARD {
            if !wildcards {
                return Err(ScopeError::WildcardInPermission { segment });
            }
            continue;
        }
        for &byte in part.as_bytes() {
            if byte == b'*' {
                return Err(if wildcards {
                    ScopeError::PartialWildcard { segment }
                } else {
                    ScopeError::WildcardInPermission { segment }
                });
            }
            if !is_name_byte(byte) {
                return Err(ScopeError::InvalidByte { segment, byte });
            }
        }
    }
    Ok(())
}

/// One action a caller asks to perform, such as `bookings:read` or `admin:users:delete`:
/// segments of `[a-z0-9_.-]` separated by `:`, no wildcard. Parse with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission(Box<str>);

impl Permission {
    /// Parses a permission. Errors: every [`ScopeError`] variant except `PartialWildcard`
    /// (any `*` is [`ScopeError::WildcardInPermission`]).
    pub fn new(text: &str) -> Result<Self, ScopeError> {
        validate(text, false)?;
        Ok(Self(text.into()))
    }

    /// The permission as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split(':')
    }
}

impl FromStr for Permission {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pattern over permissions: what a role grants or denies, or what an API client holds.
/// The permission syntax plus `*` as a whole segment (one segment in the middle, one or more
/// as the last segment). `*` alone matches every permission. Parse with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Box<str>);

impl Scope {
    /// Parses a scope. Errors: [`ScopeError`] (`admin*` is
    /// [`ScopeError::PartialWildcard`]).
    pub fn new(text: &str) -> Result<Self, ScopeError> {
        validate(text, true)?;
        Ok(Self(text.into()))
    }

    /// The scope as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its segments, in order (`*` included as a segment).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split(':')
    }

    /// Whether the scope contains no wildcard (it then matches exactly one permission).
    pub fn is_exact(&self) -> bool {
        !self.segments().any(|s| s == WILDCARD)
    }

    /// Whether this scope matches `permission`, segment by segment: a literal segment equals
    /// the permission's segment, a middle `*` matches any one segment, a final `*` matches
    /// one or more remaining segments.
    pub fn matches(&self, permission: &Permission) -> bool {
        let mut pattern = self.segments().peekable();
        let mut actual = permission.segments();
        loop {
            match (pattern.next(), actual.next()) {
                (None, None) => return true,
                (Some(WILDCARD), Some(_)) => {
                    if pattern.peek().is_none() {
                        return true;
                    }
                }
                (Some(want), Some(got)) => {
                    if want != got {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }

    /// Whether every permission `other` matches is also matched by `self` (`admin:*` covers
    /// `admin:users:*` and `admin:read`; `admin:*:read` does not cover `admin:*`). Used to
    /// refuse handing out more than one holds and to find denies that can never apply.
    pub fn covers(&self, other: &Scope) -> bool {
        let mine: Vec<&str> = self.segments().collect();
        let theirs: Vec<&str> = other.segments().collect();
        for (i, want) in mine.iter().enumerate() {
            let last_mine = i + 1 == mine.len();
            let Some(got) = theirs.get(i) else {
                return false;
            };
            if *want == WILDCARD && last_mine {
                return true;
            }
            let last_theirs = i + 1 == theirs.len();
            if *got == WILDCARD && last_theirs {
                // `other` matches one or more segments here; only a final `*` covers that.
                return false;
            }
            if *want != WILDCARD && want != got {
                return false;
            }
        }
        mine.len() == theirs.len()
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Permission> for Scope {
    fn from(permission: Permission) -> Self {
        Self(permission.0)
    }
}

/// The scopes an API client (or a token) holds. A permission is allowed when any scope
/// matches it; an empty set allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// An empty set: allows nothing.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Parses a list of scopes separated by ASCII whitespace (the OAuth 2.0 `scope`
    /// parameter, RFC 6749 §3.3) or commas. Duplicates are kept once. Errors: the first
    /// scope's [`ScopeError`]. An empty or blank list is an empty set.
    pub fn parse_list(list: &str) -> Result<Self, ScopeError> {
        list.split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|s| !s.is_empty())
            .map(Scope::new)
            .collect()
    }

    /// Adds a scope (kept once).
    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    /// Whether any scope of the set matches `permission`.
    pub fn allows(&self, permission: &Permission) -> bool {
        self.matching(permission).is_some()
    }

    /// The first scope that matches `permission` (for explaining a decision).
    pub fn matching(&self, permission: &Permission) -> Option<&Scope> {
        self.0.iter().find(|s| s.matches(permission))
    }

    /// Whether every permission `scope` matches is allowed by one scope of this set.
    pub fn covers(&self, scope: &Scope) -> bool {
        self.0.iter().any(|s| s.covers(scope))
    }

    /// The scopes, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// How many scopes the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty (it then allows nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = Self::new();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

impl fmt::Display for ScopeSet {
    /// Space-separated, as the OAuth 2.0 `scope` parameter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Permission {
        Permission::new(s).unwrap()
    }
    fn s(s: &str) -> Scope {
        Scope::new(s).unwrap()
    }

    #[test]
    fn final_wildcard_matches_one_or_more_segments() {
        let admin = s("admin:*");
        assert!(admin.matches(&p("admin:read")));
        assert!(admin.matches(&p("admin:users:delete")));
        assert!(!admin.matches(&p("admin")));
        assert!(!admin.matches(&p("administrator:read")));
        assert!(!admin.matches(&p("adm:read")));
        assert!(s("*").matches(&p("anything:at:all")));
    }

    #[test]
    fn middle_wildcard_matches_exactly_one_segment() {
        let any_read = s("*:read");
        assert!(any_read.matches(&p("calls:read")));
        assert!(!any_read.matches(&p("calls:write")));
        assert!(!any_read.matches(&p("admin:users:read")));
        assert!(!any_read.matches(&p("read")));
        assert!(s("a:*:c").matches(&p("a:b:c")));
        assert!(!s("a:*:c").matches(&p("a:b:b:c")));
    }

    #[test]
    fn syntax_errors_say_where() {
        assert_eq!(Scope::new(""), Err(ScopeError::Empty));
        assert_eq!(
            Scope::new("admin*"),
            Err(ScopeError::PartialWildcard { segment: 0 })
        );
        assert_eq!(
            Scope::new("a::b"),
            Err(ScopeError::EmptySegment { segment: 1 })
        );
        assert_eq!(
            Scope::new("a:"),
            Err(ScopeError::EmptySegment { segment: 1 })
        );
        assert_eq!(
            Scope::new("Admin:read"),
            Err(ScopeError::InvalidByte {
                segment: 0,
                byte: b'A'
            })
        );
        assert_eq!(
            Permission::new("admin:*"),
            Err(ScopeError::WildcardInPermission { segment: 1 })
        );
        assert_eq!(
            Scope::new(&"a".repeat(MAX_LEN + 1)),
            Err(ScopeError::TooLong { max: MAX_LEN })
        );
        assert_eq!(
            Scope::new(&["a"; MAX_SEGMENTS + 1].join(":")),
            Err(ScopeError::TooManySegments { max: MAX_SEGMENTS })
        );
    }

    #[test]
    fn scope_sets_parse_oauth_lists() {
        let set = ScopeSet::parse_list(" calls:read  admin:*,calls:read ").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.to_string(), "calls:read admin:*");
        assert!(set.allows(&p("admin:users:delete")));
        assert!(!set.allows(&p("calls:write")));
        assert!(ScopeSet::parse_list("").unwrap().is_empty());
        assert!(ScopeSet::parse_list("ok bad*").is_err());
    }

    #[test]
    fn covers() {
        assert!(s("admin:*").covers(&s("admin:users:*")));
        assert!(s("admin:*").covers(&s("admin:read")));
        assert!(s("*").covers(&s("admin:*")));
        assert!(!s("admin:*:read").covers(&s("admin:*")));
        assert!(!s("admin:read").covers(&s("admin:*")));
        assert!(!s("admin:*").covers(&s("admin")));
        assert!(s("a:*:c").covers(&s("a:b:c")));
        assert!(!s("a:b:c").covers(&s("a:*:c")));
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[a-c]{1,2}",
            1 => Just("*".to_string()),
        ]
    }
    fn scope_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(segment(), 1..5).prop_map(|v| v.join(":"))
    }
    fn permission_text() -> impl Strategy<Value = String> {
        proptest::collection::vec("[a-c]{1,2}", 1..6).prop_map(|v| v.join(":"))
    }

    /// A naive reference: the scope as a regular expression over the permission's segments.
    fn reference(scope: &str, permission: &str) -> bool {
        fn go(pat: &[&str], got: &[&str]) -> bool {
            match (pat.split_first(), got.split_first()) {
                (None, None) => true,
                (Some((&"*", [])), _) => !got.is_empty(),
                (Some((&"*", rest)), Some((_, more))) => go(rest, more),
                (Some((want, rest)), Some((g, more))) => want == g && go(rest, more),
                _ => false,
            }
        }
        let pat: Vec<&str> = scope.split(':').collect();
        let got: Vec<&str> = permission.split(':').collect();
        go(&pat, &got)
    }

    proptest! {
        #[test]
        fn matcher_agrees_with_the_reference(scope in scope_text(), perm in permission_text()) {
            prop_assert_eq!(s(&scope).matches(&p(&perm)), reference(&scope, &perm));
        }

        #[test]
        fn covers_implies_matches(a in scope_text(), b in scope_text(), perm in permission_text()) {
            let (a, b, perm) = (s(&a), s(&b), p(&perm));
            if a.covers(&b) && b.matches(&perm) {
                prop_assert!(a.matches(&perm));
            }
        }

        #[test]
        fn a_prefix_never_matches_a_longer_segment(name in "[a-z]{1,8}", extra in "[a-z]{1,8}") {
            let scope = s(&format!("{name}:*"));
            let longer = p(&format!("{name}{extra}:read"));
            prop_assert!(!scope.matches(&longer));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = Scope::new(&text);
            let _ = Permission::new(&text);
        }
    }
}
