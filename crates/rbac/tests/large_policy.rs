//! A policy past one machine word: 140 roles (three words of role bits), 140 literal
//! permissions plus 80 known ones (four words of permission bits), inheritance across word
//! boundaries, wildcards. Every compiled decision and explanation is compared with a direct
//! reading of the file (closure walk, denies first, the lowest held role and the first rule
//! in file order), for single roles and for sets of roles whose bits lie in different words.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_rbac::{
    Assignments, Effect, Explanation, Permission, Policy, PolicyCompiler, RoleName, Scope, TenantId,
};

const ROLES: usize = 140;
const KNOWN: usize = 80;

struct Def {
    inherits: Vec<usize>,
    grants: Vec<String>,
    denies: Vec<String>,
}

fn name(i: usize) -> String {
    format!("r{i:03}")
}

fn defs() -> Vec<Def> {
    (0..ROLES)
        .map(|i| {
            let mut inherits = Vec::new();
            if i % 10 != 0 {
                inherits.push(i - 1);
            }
            // Inheritance from another word of role bits.
            if i >= 70 && i % 5 == 0 {
                inherits.push(i - 70);
            }
            let mut grants = vec![format!("p:{i:03}")];
            if i % 7 == 3 {
                grants.push(format!("q:{}:*", i % 3));
            }
            if i == 131 {
                grants.push("q:*".to_owned());
            }
            let mut denies = Vec::new();
            if i % 10 == 9 {
                denies.push(format!("p:{:03}", i - 5));
            }
            if i % 13 == 12 {
                denies.push(format!("q:{}:x", i % 3));
                denies.push(format!("p:{:03}", (i * 7) % ROLES));
            }
            if i == 99 {
                denies.push("q:1:*".to_owned());
            }
            Def {
                inherits,
                grants,
                denies,
            }
        })
        .collect()
}

fn toml(defs: &[Def]) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::new();
    for (i, d) in defs.iter().enumerate() {
        let inherits: Vec<String> = d.inherits.iter().map(|&r| name(r)).collect();
        text.push_str(&format!(
            "[roles.{}]\ninherits = [{}]\ngrants = [{}]\ndenies = [{}]\n",
            name(i),
            list(&inherits),
            list(&d.grants),
            list(&d.denies)
        ));
    }
    text
}

fn closure(defs: &[Def], role: usize) -> Vec<usize> {
    let mut seen = vec![role];
    let mut todo = vec![role];
    while let Some(r) = todo.pop() {
        for &next in &defs[r].inherits {
            if !seen.contains(&next) {
                seen.push(next);
                todo.push(next);
            }
        }
    }
    seen.sort_unstable();
    seen
}

/// The rules in file order: role by role (name order = id order here), grants then denies.
fn rules(defs: &[Def]) -> Vec<(usize, Effect, Scope)> {
    let mut out = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        for g in &d.grants {
            out.push((i, Effect::Grant, Scope::new(g).unwrap()));
        }
        for g in &d.denies {
            out.push((i, Effect::Deny, Scope::new(g).unwrap()));
        }
    }
    out
}

/// The file read directly: for each role and each permission, the first rule of its closure
/// (in file order) that denies it and the first that grants it.
struct Model {
    rules: Vec<(usize, Effect, Scope)>,
    perms: Vec<Permission>,
    first: Vec<Vec<[Option<usize>; 2]>>,
}

impl Model {
    fn new(defs: &[Def], perms: &[Permission]) -> Self {
        let rules = rules(defs);
        let first = (0..defs.len())
            .map(|role| {
                let closure = closure(defs, role);
                perms
                    .iter()
                    .map(|perm| {
                        [Effect::Deny, Effect::Grant].map(|effect| {
                            rules.iter().position(|(r, e, s)| {
                                *e == effect && closure.contains(r) && s.matches(perm)
                            })
                        })
                    })
                    .collect()
            })
            .collect();
        Self {
            rules,
            perms: perms.to_vec(),
            first,
        }
    }

    /// The expected explanation: denies first; the lowest held role whose closure has a
    /// matching rule, and that closure's first matching rule in file order.
    fn expected(&self, held: &[usize], permission: &Permission) -> Explanation {
        let p = self
            .perms
            .iter()
            .position(|x| x == permission)
            .expect("a permission of the model");
        let mut held = held.to_vec();
        held.sort_unstable();
        held.dedup();
        for (slot, effect) in [Effect::Deny, Effect::Grant].into_iter().enumerate() {
            for &h in &held {
                if let Some(index) = self.first[h][p][slot] {
                    let (role, _, scope) = &self.rules[index];
                    let held = RoleName::new(name(h)).unwrap();
                    let role = RoleName::new(name(*role)).unwrap();
                    let scope = scope.clone();
                    return match effect {
                        Effect::Deny => Explanation::Denied { held, role, scope },
                        Effect::Grant => Explanation::Granted { held, role, scope },
                    };
                }
            }
        }
        Explanation::NoGrant
    }
}

fn permissions() -> Vec<Permission> {
    let mut out: Vec<Permission> = (0..ROLES)
        .map(|i| Permission::new(&format!("p:{i:03}")).unwrap())
        .collect();
    for k in 0..KNOWN {
        out.push(Permission::new(&format!("q:{}:k{k}", k % 3)).unwrap());
    }
    for extra in ["q:1:x", "q:0:x", "q:2:zz", "q:9", "p:999", "z:z"] {
        out.push(Permission::new(extra).unwrap());
    }
    out
}

fn known() -> Vec<Permission> {
    (0..KNOWN)
        .map(|k| Permission::new(&format!("q:{}:k{k}", k % 3)).unwrap())
        .collect()
}

fn held_sets() -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = (0..ROLES).map(|i| vec![i]).collect();
    for i in (0..ROLES).step_by(5) {
        sets.push(vec![i, (i * 37 + 11) % ROLES]);
        sets.push(vec![(i * 53 + 5) % ROLES, i, (i + 64) % ROLES]);
    }
    sets.push(vec![]);
    sets
}

fn check_all(policy: &Policy, defs: &[Def]) {
    let perms = permissions();
    let model = Model::new(defs, &perms);
    let mut allowed = 0;
    let mut denied = 0;
    for held in held_sets() {
        let names: Vec<RoleName> = held
            .iter()
            .map(|&h| RoleName::new(name(h)).unwrap())
            .collect();
        let set = policy.role_set(&names);
        let mut distinct = held.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(set.len(), distinct.len(), "{held:?}");
        assert_eq!(set.is_empty(), held.is_empty(), "{held:?}");
        for perm in &perms {
            let want = model.expected(&held, perm);
            let got = policy.check_roles(&set, perm);
            assert_eq!(got.explain(policy), want, "roles {held:?}, `{perm}`");
            assert_eq!(
                got.is_allowed(),
                matches!(want, Explanation::Granted { .. }),
                "roles {held:?}, `{perm}`"
            );
            match want {
                Explanation::Granted { .. } => allowed += 1,
                Explanation::Denied { .. } => denied += 1,
                _ => {}
            }
            if let Some(id) = policy.permission_id(perm) {
                let by_id = policy.check_roles_id(&set, id);
                assert_eq!(by_id, got, "roles {held:?}, `{perm}` by id");
            }
        }
    }
    // The comparison is not vacuous: each kind of answer occurs many times.
    assert!(allowed > 1000, "{allowed}");
    assert!(denied > 100, "{denied}");
}

#[test]
fn a_policy_of_three_role_words_decides_as_written() {
    let defs = defs();
    let policy = Policy::from_toml(&toml(&defs)).unwrap();
    assert_eq!(policy.role_names().count(), ROLES);
    for i in 0..ROLES {
        let literal = Permission::new(&format!("p:{i:03}")).unwrap();
        assert!(policy.permission_id(&literal).is_some(), "{literal}");
    }
    check_all(&policy, &defs);
}

#[test]
fn known_permissions_past_the_first_words_decide_as_the_matcher() {
    let defs = defs();
    let policy = PolicyCompiler::new()
        .known_permissions(known())
        .toml(&toml(&defs))
        .unwrap();
    for perm in known() {
        assert!(policy.permission_id(&perm).is_some(), "{perm}");
    }
    check_all(&policy, &defs);
    // Without them, the same permissions are not interned: the first test checks that the
    // matcher gives the same answers.
    let plain = Policy::from_toml(&toml(&defs)).unwrap();
    for perm in known() {
        assert!(plain.permission_id(&perm).is_none(), "{perm}");
    }
}

#[test]
fn members_in_and_out_of_their_tenant() {
    let defs = defs();
    let policy = Policy::from_toml(&toml(&defs)).unwrap();
    let home = TenantId::new("home").unwrap();
    let away = TenantId::new("away").unwrap();
    let held = [129usize, 3, 70];
    let assignments = Assignments {
        tenant_roles: held
            .iter()
            .map(|&h| RoleName::new(name(h)).unwrap())
            .collect(),
        global_roles: Vec::new(),
    };
    let member = policy.member(&home, &assignments);
    let model = Model::new(&defs, &permissions());
    assert_eq!(member.tenant(), &home);
    for perm in permissions() {
        let want = model.expected(&held, &perm);
        let d = policy.check(&home, &member, &perm);
        assert_eq!(d.explain(&policy), want, "`{perm}`");
        if let Some(id) = policy.permission_id(&perm) {
            assert_eq!(policy.check_id(&home, &member, id), d, "`{perm}`");
            let other = policy.check_id(&away, &member, id);
            assert_eq!(other.explain(&policy), Explanation::NotInTenant);
        }
        let other = policy.check(&away, &member, &perm);
        assert!(!other.is_allowed());
        assert_eq!(other.explain(&policy), Explanation::NotInTenant);
    }
}

#[test]
fn a_global_role_in_a_later_word_joins_the_tenant_roles() {
    // 100 roles, r099 global: its bit lies in the second word, the tenant role's in the first.
    let mut text = String::new();
    for i in 0..100 {
        let global = if i == 99 { "global = true\n" } else { "" };
        text.push_str(&format!(
            "[roles.{}]\n{global}grants = [\"p:{i:03}\"]\n",
            name(i)
        ));
    }
    let policy = Policy::from_toml(&text).unwrap();
    let home = TenantId::new("home").unwrap();
    let away = TenantId::new("away").unwrap();
    let assignments = Assignments {
        tenant_roles: vec![RoleName::new(name(0)).unwrap()],
        global_roles: vec![RoleName::new(name(99)).unwrap()],
    };
    let member = policy.member(&home, &assignments);
    let perm = |i: usize| Permission::new(&format!("p:{i:03}")).unwrap();
    let granted = |i: usize| Explanation::Granted {
        held: RoleName::new(name(i)).unwrap(),
        role: RoleName::new(name(i)).unwrap(),
        scope: Scope::new(&format!("p:{i:03}")).unwrap(),
    };
    // At home: both roles count.
    assert_eq!(
        policy.check(&home, &member, &perm(0)).explain(&policy),
        granted(0)
    );
    assert_eq!(
        policy.check(&home, &member, &perm(99)).explain(&policy),
        granted(99)
    );
    assert!(!policy.check(&home, &member, &perm(50)).is_allowed());
    // Elsewhere: only the global role.
    assert_eq!(
        policy.check(&away, &member, &perm(99)).explain(&policy),
        granted(99)
    );
    assert_eq!(
        policy.check(&away, &member, &perm(0)).explain(&policy),
        Explanation::NoGrant
    );
    // A global role assigned as a tenant role, or a tenant role as a global one, counts for
    // nothing.
    let swapped = Assignments {
        tenant_roles: vec![RoleName::new(name(99)).unwrap()],
        global_roles: vec![RoleName::new(name(0)).unwrap()],
    };
    let member = policy.member(&home, &swapped);
    for i in [0, 99] {
        assert!(!policy.check(&home, &member, &perm(i)).is_allowed(), "{i}");
    }
}
