//! Properties of compiled policies, on generated policies and permissions: they agree with a
//! naive evaluator (with and without the permissions interned), a deny wins, adding a grant
//! never removes an allow, and no check in another tenant is allowed without a global role.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use palisade_rbac::{
    Assignments, Permission, Policy, PolicyCompiler, PolicySource, RoleName, RoleSource, Scope,
    TenantId,
};
use proptest::prelude::*;

const ROLES: usize = 6;

fn role_name(i: usize) -> String {
    format!("r{i}")
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[ab]{1,2}", 1 => Just("*".to_owned())]
}
fn scope() -> impl Strategy<Value = String> {
    proptest::collection::vec(segment(), 1..4).prop_map(|v| v.join(":"))
}
fn permission() -> impl Strategy<Value = String> {
    proptest::collection::vec("[ab]{1,2}", 1..5).prop_map(|v| v.join(":"))
}

/// A role: inherits (only roles of a higher index: a DAG), grants, denies, global or not.
fn role(index: usize) -> impl Strategy<Value = RoleSource> {
    let later: Vec<String> = (index + 1..ROLES).map(role_name).collect();
    (
        proptest::sample::subsequence(later.clone(), 0..=later.len().min(2)),
        proptest::collection::vec(scope(), 0..4),
        proptest::collection::vec(scope(), 0..2),
        proptest::bool::weighted(0.15),
    )
        .prop_map(|(inherits, grants, denies, global)| RoleSource {
            global,
            inherits,
            grants,
            denies,
        })
}

fn policy_source() -> impl Strategy<Value = PolicySource> {
    (0..ROLES)
        .map(role)
        .collect::<Vec<_>>()
        .prop_map(|roles| PolicySource {
            roles: roles
                .into_iter()
                .enumerate()
                .map(|(i, r)| (role_name(i), r))
                .collect::<BTreeMap<_, _>>(),
        })
}

fn held() -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence((0..ROLES).collect::<Vec<_>>(), 0..=3)
}

/// The naive evaluator: walk each held role's inheritance, any matching deny refuses, else
/// any matching grant allows.
fn reference(source: &PolicySource, held: &[usize], permission: &str) -> bool {
    let perm = Permission::new(permission).unwrap();
    fn closure(source: &PolicySource, name: &str, out: &mut Vec<String>) {
        if out.iter().any(|n| n == name) {
            return;
        }
        out.push(name.to_owned());
        for parent in &source.roles[name].inherits {
            closure(source, parent, out);
        }
    }
    let mut roles = Vec::new();
    for &h in held {
        closure(source, &role_name(h), &mut roles);
    }
    let matches = |list: &Vec<String>| list.iter().any(|s| Scope::new(s).unwrap().matches(&perm));
    if roles.iter().any(|r| matches(&source.roles[r].denies)) {
        return false;
    }
    roles.iter().any(|r| matches(&source.roles[r].grants))
}

fn compiled_allows(policy: &Policy, held: &[usize], permission: &str) -> bool {
    let names: Vec<RoleName> = held
        .iter()
        .map(|&h| RoleName::new(role_name(h)).unwrap())
        .collect();
    let set = policy.role_set(&names);
    policy
        .check_roles(&set, &permission.parse().unwrap())
        .is_allowed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compiled_agrees_with_the_reference(
        source in policy_source(),
        held in held(),
        perms in proptest::collection::vec(permission(), 1..6),
    ) {
        let plain = PolicyCompiler::new().source(&source).unwrap();
        // The same policy with the permissions interned: bit operations instead of the matcher.
        let interned = PolicyCompiler::new()
            .known_permissions(perms.iter().map(|p| p.parse().unwrap()))
            .source(&source)
            .unwrap();
        for p in &perms {
            let want = reference(&source, &held, p);
            prop_assert_eq!(compiled_allows(&plain, &held, p), want, "matcher path, {}", p);
            prop_assert_eq!(compiled_allows(&interned, &held, p), want, "bitset path, {}", p);
            let explained = interned
                .check_roles(&interned.role_set(&held.iter().map(|&h| RoleName::new(role_name(h)).unwrap()).collect::<Vec<_>>()), &p.parse().unwrap())
                .explain(&interned);
            // The explanation names a rule that matches, of the right kind.
            match explained {
                palisade_rbac::Explanation::Granted { scope, .. } => {
                    prop_assert!(want);
                    prop_assert!(scope.matches(&p.parse().unwrap()));
                }
                palisade_rbac::Explanation::Denied { scope, .. } => {
                    prop_assert!(!want);
                    prop_assert!(scope.matches(&p.parse().unwrap()));
                }
                _ => prop_assert!(!want),
            }
        }
    }

    #[test]
    fn a_deny_wins(
        mut source in policy_source(),
        held in held().prop_filter("a role", |h| !h.is_empty()),
        p in permission(),
        which in 0usize..3,
        grant_too in any::<bool>(),
    ) {
        // Deny `p` in a role some held role inherits from (or holds), grant it anywhere.
        let denier = held[which % held.len()];
        source.roles.get_mut(&role_name(denier)).unwrap().denies.push(p.clone());
        if grant_too {
            source.roles.get_mut(&role_name(held[0])).unwrap().grants.push("*".into());
        }
        let policy = PolicyCompiler::new().source(&source).unwrap();
        prop_assert!(!compiled_allows(&policy, &held, &p));
    }

    #[test]
    fn adding_a_grant_never_removes_an_allow(
        source in policy_source(),
        held in held(),
        grant in scope(),
        to in 0..ROLES,
        perms in proptest::collection::vec(permission(), 1..6),
    ) {
        let before = PolicyCompiler::new().source(&source).unwrap();
        let mut more = source.clone();
        more.roles.get_mut(&role_name(to)).unwrap().grants.push(grant);
        let after = PolicyCompiler::new().source(&more).unwrap();
        for p in &perms {
            if compiled_allows(&before, &held, p) {
                prop_assert!(compiled_allows(&after, &held, p), "{}", p);
            }
        }
    }

    #[test]
    fn no_cross_tenant_allow_without_a_global_role(
        source in policy_source(),
        tenant_roles in held(),
        global_roles in held(),
        p in permission(),
    ) {
        let policy = PolicyCompiler::new().source(&source).unwrap();
        let names = |h: &[usize]| h.iter().map(|&i| RoleName::new(role_name(i)).unwrap()).collect::<Vec<_>>();
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        let member = policy.member(&a, &Assignments {
            tenant_roles: names(&tenant_roles),
            global_roles: names(&global_roles),
        });
        let in_b = policy.check(&b, &member, &p.parse().unwrap()).is_allowed();
        let holds_global = global_roles.iter().any(|&g| source.roles[&role_name(g)].global);
        if !holds_global {
            prop_assert!(!in_b, "allowed in another tenant without a global role");
        }
        // In another tenant, exactly the global roles decide.
        let globals: Vec<usize> = global_roles
            .iter()
            .copied()
            .filter(|&g| source.roles[&role_name(g)].global)
            .collect();
        prop_assert_eq!(in_b, reference(&source, &globals, &p));
        // A subject with no assignment at all is refused everywhere.
        let nobody = policy.member(&a, &Assignments::default());
        prop_assert!(!policy.check(&a, &nobody, &p.parse().unwrap()).is_allowed());
    }
}
