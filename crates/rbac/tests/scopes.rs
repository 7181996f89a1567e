//! Permissions, scopes and scope sets at their documented limits, and `covers` case by case
//! (equal scopes, middle and final wildcards, longer and shorter scopes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{MAX_LEN, MAX_SEGMENTS, Permission, Scope, ScopeError, ScopeSet};

fn s(text: &str) -> Scope {
    Scope::new(text).unwrap()
}
fn p(text: &str) -> Permission {
    Permission::new(text).unwrap()
}

#[test]
fn the_length_and_segment_limits_are_inclusive() {
    let longest = "a".repeat(MAX_LEN);
    assert_eq!(p(&longest).as_str(), longest);
    assert_eq!(
        Permission::new(&"a".repeat(MAX_LEN + 1)),
        Err(ScopeError::TooLong { max: MAX_LEN })
    );
    let most = vec!["a"; MAX_SEGMENTS].join(":");
    assert_eq!(p(&most).segments().count(), MAX_SEGMENTS);
    assert_eq!(s(&most).segments().count(), MAX_SEGMENTS);
    let too_many = vec!["a"; MAX_SEGMENTS + 1].join(":");
    assert_eq!(
        Scope::new(&too_many),
        Err(ScopeError::TooManySegments { max: MAX_SEGMENTS })
    );
}

#[test]
fn permissions_and_scopes_read_as_written() {
    let perm: Permission = "admin:users:delete".parse().unwrap();
    assert_eq!(perm.as_str(), "admin:users:delete");
    assert_eq!(perm.to_string(), "admin:users:delete");
    assert_eq!(
        perm.segments().collect::<Vec<_>>(),
        ["admin", "users", "delete"]
    );
    assert_eq!(
        "a:*".parse::<Permission>(),
        Err(ScopeError::WildcardInPermission { segment: 1 })
    );
    let scope: Scope = "admin:*:read".parse().unwrap();
    assert_eq!(scope.to_string(), "admin:*:read");
    assert_eq!(scope.segments().collect::<Vec<_>>(), ["admin", "*", "read"]);
    assert!(!scope.is_exact());
    assert!(s("admin:read").is_exact());
    let from: Scope = perm.clone().into();
    assert_eq!(from.as_str(), "admin:users:delete");
    assert!(from.is_exact());
    assert!(from.matches(&perm));
    assert_eq!(
        "a*".parse::<Scope>(),
        Err(ScopeError::PartialWildcard { segment: 0 })
    );
    assert_eq!(
        Scope::new("a:B"),
        Err(ScopeError::InvalidByte {
            segment: 1,
            byte: b'B'
        })
    );
}

#[test]
fn covers_case_by_case() {
    let cases = [
        ("a:b", "a:b", true),
        ("a:b", "a:b:c", false),
        ("a:b:c", "a:b", false),
        ("a:*", "a:*", true),
        ("a:*:c", "a:*:c", true),
        ("a:*", "a:*:c", true),
        ("*:b", "a:b", true),
        ("*:b", "a:*", false),
        ("*:b", "*:b", true),
        ("a:*:c", "a:b:*", false),
        ("*", "*", true),
        ("a", "*", false),
    ];
    for (mine, theirs, covers) in cases {
        assert_eq!(s(mine).covers(&s(theirs)), covers, "{mine} covers {theirs}");
    }
}

#[test]
fn scope_sets_keep_each_scope_once_in_order() {
    let set = ScopeSet::parse_list("calls:read,admin:*  calls:read\tbookings:*").unwrap();
    assert_eq!(set.len(), 3);
    assert!(!set.is_empty());
    assert_eq!(
        set.iter().map(Scope::as_str).collect::<Vec<_>>(),
        ["calls:read", "admin:*", "bookings:*"]
    );
    assert_eq!(set.to_string(), "calls:read admin:* bookings:*");
    assert_eq!(set.matching(&p("admin:x")), Some(&s("admin:*")));
    assert_eq!(set.matching(&p("calls:write")), None);
    assert!(set.covers(&s("admin:users:*")));
    assert!(!set.covers(&s("calls:*")));
    let mut built = ScopeSet::new();
    built.insert(s("x:y"));
    built.insert(s("x:y"));
    assert_eq!(built.len(), 1);
    assert_eq!(built.to_string(), "x:y");
    let collected: ScopeSet = [s("b:*"), s("a:b"), s("b:*")].into_iter().collect();
    assert_eq!(collected.to_string(), "b:* a:b");
    assert_eq!(ScopeSet::new().to_string(), "");
    assert!(ScopeSet::parse_list(" , ").unwrap().is_empty());
}
