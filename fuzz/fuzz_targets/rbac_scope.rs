//! `palisade_rbac` scopes and permissions on arbitrary input: `Scope::new`,
//! `Permission::new` and `ScopeSet::parse_list` return `Ok` or `Err`, never a panic; what
//! parses prints back to itself; a permission is a scope that matches exactly itself; a
//! scope covers itself and matches what its own wildcard-free spelling names.
//!
//! Input: two strings separated by the first 0xff byte: a scope (or scope list) and a
//! permission (each read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_rbac::{Permission, Scope, ScopeSet};

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let scope = Scope::new(&a);
    let permission = Permission::new(&b);
    let list = ScopeSet::parse_list(&a);
    if let Ok(scope) = &scope {
        assert_eq!(scope.as_str(), a);
        assert!(scope.covers(scope));
        assert_eq!(Scope::new(&scope.to_string()).as_ref(), Ok(scope));
    }
    if let Ok(p) = &permission {
        assert_eq!(p.as_str(), b);
        let own: Scope = p.clone().into();
        assert!(own.matches(p) && own.is_exact());
        if let Ok(scope) = &scope {
            let matched = scope.matches(p);
            if scope.is_exact() {
                assert_eq!(matched, scope.as_str() == p.as_str());
            }
            if matched {
                // A scope that matches a permission covers that permission's exact scope.
                assert!(scope.covers(&own));
            }
        }
        if let Ok(list) = &list {
            assert_eq!(list.allows(p), list.iter().any(|s| s.matches(p)));
        }
    }
});
