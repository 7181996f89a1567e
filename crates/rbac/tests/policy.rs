//! The issue's policy file, compiled and checked: inheritance, deny wins at any depth,
//! wildcards over permissions the compiler never saw, tenants and global roles, located
//! errors, explanations, JSON, lint, hot reload.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_rbac::{
    Assignments, Explanation, Location, Policy, PolicyCompiler, PolicyError, Principal, Problem,
    Refusal, RoleName, ScopeSet, SharedPolicy, SubjectId, TenantId, lint_toml,
};
use palisade_telemetry::testing::CapturedEvents;

const ISSUE_POLICY: &str = r#"[roles.admin]
inherits = ["agent"]
grants = ["admin:*"]

[roles.agent]
inherits = ["customer"]
grants = ["bookings:read", "bookings:write", "calls:*"]
denies = ["bookings:delete"]

[roles.customer]
grants = ["bookings:read"]
"#;

fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}
fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

fn allowed(policy: &Policy, roles: &[&str], permission: &str) -> bool {
    let roles: Vec<RoleName> = roles.iter().map(|r| role(r)).collect();
    let set = policy.role_set(&roles);
    policy
        .check_roles(&set, &permission.parse().unwrap())
        .is_allowed()
}

#[test]
fn the_issue_policy_decides_as_written() {
    let p = Policy::from_toml(ISSUE_POLICY).unwrap();
    assert!(allowed(&p, &["customer"], "bookings:read"));
    assert!(!allowed(&p, &["customer"], "bookings:write"));
    assert!(allowed(&p, &["agent"], "bookings:write"));
    assert!(allowed(&p, &["agent"], "calls:read"));
    assert!(allowed(&p, &["agent"], "calls:recordings:delete"));
    assert!(!allowed(&p, &["agent"], "admin:read"));
    assert!(allowed(&p, &["admin"], "admin:users:delete"));
    assert!(allowed(&p, &["admin"], "bookings:read"));
    // Not by string prefix.
    assert!(!allowed(&p, &["admin"], "administrator:read"));
    assert!(!allowed(&p, &["admin"], "admin"));
    // Deny wins at any depth: admin inherits agent's deny, even with another role granting.
    assert!(!allowed(&p, &["agent"], "bookings:delete"));
    assert!(!allowed(&p, &["admin"], "bookings:delete"));
    assert!(!allowed(&p, &[], "bookings:read"));
    assert!(!allowed(&p, &["nobody"], "bookings:read"));
}

#[test]
fn a_deny_wins_over_a_grant_of_another_role() {
    let p = Policy::from_toml(
        r#"
[roles.a]
grants = ["*"]
[roles.b]
denies = ["calls:*:delete"]
"#,
    )
    .unwrap();
    assert!(allowed(&p, &["a"], "calls:x:delete"));
    assert!(!allowed(&p, &["a", "b"], "calls:x:delete"));
    assert!(allowed(&p, &["a", "b"], "calls:x:read"));
}

#[test]
fn decisions_explain_themselves() {
    let p = Policy::from_toml(ISSUE_POLICY).unwrap();
    let set = p.role_set(&[role("admin")]);
    let why = |perm: &str| {
        p.check_roles(&set, &perm.parse().unwrap())
            .explain(&p)
            .to_string()
    };
    assert_eq!(
        why("bookings:delete"),
        "role agent denies `bookings:delete` (inherited by role admin)"
    );
    assert_eq!(
        why("calls:read"),
        "role agent grants `calls:*` (inherited by role admin)"
    );
    assert_eq!(why("admin:x:y"), "role admin grants `admin:*`");
    assert_eq!(why("billing:read"), "no role grants it");
    match p
        .check_roles(&set, &"bookings:read".parse().unwrap())
        .explain(&p)
    {
        Explanation::Granted { held, role, scope } => {
            assert_eq!(held.as_str(), "admin");
            assert!(role.as_str() == "agent" || role.as_str() == "customer");
            assert_eq!(scope.as_str(), "bookings:read");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tenants_and_global_roles() {
    let p = Policy::from_toml(&format!(
        "{ISSUE_POLICY}\n[roles.operator]\nglobal = true\ngrants = [\"*\"]\ndenies = [\"admin:billing:*\"]\n"
    ))
    .unwrap();
    let (a, b) = (tenant("a"), tenant("b"));
    let agent_in_a = p.member(
        &a,
        &Assignments {
            tenant_roles: vec![role("agent")],
            global_roles: vec![],
        },
    );
    let read = "calls:read".parse().unwrap();
    assert!(p.check(&a, &agent_in_a, &read).is_allowed());
    let refused = p.check(&b, &agent_in_a, &read);
    assert!(!refused.is_allowed());
    assert_eq!(refused.explain(&p), Explanation::NotInTenant);

    // A global role counts in every tenant; a tenant role given globally does not.
    let operator = p.member(
        &a,
        &Assignments {
            tenant_roles: vec![],
            global_roles: vec![role("operator"), role("admin")],
        },
    );
    assert!(p.check(&b, &operator, &read).is_allowed());
    assert!(p.check(&a, &operator, &read).is_allowed());
    assert!(
        !p.check(&b, &operator, &"admin:billing:refund".parse().unwrap())
            .is_allowed()
    );
    // A global role assigned in a tenant is ignored (a tenant cannot make an operator).
    let fake = p.member(
        &a,
        &Assignments {
            tenant_roles: vec![role("operator")],
            global_roles: vec![],
        },
    );
    assert_eq!(
        p.check(&a, &fake, &"billing:read".parse().unwrap())
            .explain(&p),
        Explanation::NoGrant
    );
    assert!(!p.check(&b, &fake, &read).is_allowed());
}

#[test]
fn principals_with_roles_scopes_or_both() {
    let p = Policy::from_toml(ISSUE_POLICY).unwrap();
    let a = tenant("a");
    let user = Principal::new(a.clone(), SubjectId::new("u1").unwrap()).with_roles([role("agent")]);
    let perm = |s: &str| s.parse().unwrap();
    assert!(p.authorize(&a, &user, &perm("calls:read")).is_allowed());
    let other = p.authorize(&tenant("b"), &user, &perm("calls:read"));
    assert_eq!(other.refusal(), Some(Refusal::Forbidden));
    assert_eq!(other.explanation(), &Explanation::NotInTenant);
    // Scopes narrow the roles.
    let narrowed = user
        .clone()
        .with_scopes(ScopeSet::parse_list("calls:read").unwrap());
    assert!(p.authorize(&a, &narrowed, &perm("calls:read")).is_allowed());
    assert_eq!(
        p.authorize(&a, &narrowed, &perm("bookings:read"))
            .explanation(),
        &Explanation::ScopeNarrowed
    );
    // An API client: scopes only, its own tenant only.
    let client = Principal::new(a.clone(), SubjectId::new("key_1").unwrap())
        .with_scopes(ScopeSet::parse_list("admin:*").unwrap());
    assert!(p.authorize(&a, &client, &perm("admin:read")).is_allowed());
    assert!(
        !p.authorize(&a, &client, &perm("administrator:read"))
            .is_allowed()
    );
    assert!(
        !p.authorize(&tenant("b"), &client, &perm("admin:read"))
            .is_allowed()
    );
}

#[test]
fn errors_are_located() {
    let compile = |text: &str| {
        PolicyCompiler::new()
            .file("policy.toml")
            .toml(text)
            .unwrap_err()
    };
    let e = compile("[roles.a]\ngrants = [\"ok\"]\n\n[roles.b]\ngrants = [\"x\", \"admin*\"]\n");
    assert_eq!(
        e.location(),
        Some(&Location {
            file: Some("policy.toml".into()),
            line: Some(5),
            role: Some("b".into()),
        })
    );
    assert!(
        e.to_string()
            .starts_with("policy.toml:5: role b: grants[1] `admin*`"),
        "{e}"
    );
    let e = compile("[roles.a]\ninherits = [\"ghost\"]\n");
    assert!(matches!(e, PolicyError::UnknownRole { ref unknown, .. } if unknown == "ghost"));
    assert_eq!(
        e.to_string(),
        "policy.toml:2: role a: inherits unknown role `ghost`"
    );
    let e = compile(
        "[roles.a]\ninherits = [\"b\"]\n[roles.b]\ninherits = [\"c\"]\n[roles.c]\ninherits = [\"a\"]\n",
    );
    assert_eq!(
        e.to_string(),
        "policy.toml:1: role a: inheritance cycle a -> b -> c -> a"
    );
    let e = compile("[roles.a]\ninherits = [\"a\"]\n");
    assert!(e.to_string().ends_with("inheritance cycle a -> a"), "{e}");
    // Syntax: a typo in a key is refused (a misspelt `denies` must not silently allow).
    let e = compile("[roles.a]\n\ndeny = [\"x\"]\n");
    assert!(matches!(e, PolicyError::Syntax { .. }), "{e:?}");
    assert!(e.to_string().starts_with("policy.toml:3:"), "{e}");
    let e = compile("[roles.a\n");
    assert!(e.to_string().starts_with("policy.toml:1:"), "{e}");
    let e = compile("[roles.Admin]\n");
    assert!(matches!(e, PolicyError::InvalidRoleName { .. }), "{e:?}");
}

#[test]
fn json_compiles_to_the_same_decisions() {
    let json = r#"{"roles": {
        "admin": {"inherits": ["agent"], "grants": ["admin:*"]},
        "agent": {"inherits": ["customer"], "grants": ["bookings:read", "bookings:write", "calls:*"], "denies": ["bookings:delete"]},
        "customer": {"grants": ["bookings:read"]}
    }}"#;
    let from_json = Policy::from_json(json).unwrap();
    let from_toml = Policy::from_toml(ISSUE_POLICY).unwrap();
    for roles in [&["admin"][..], &["agent"], &["customer"]] {
        for perm in [
            "bookings:read",
            "bookings:write",
            "bookings:delete",
            "calls:x",
            "admin:y:z",
        ] {
            assert_eq!(
                allowed(&from_json, roles, perm),
                allowed(&from_toml, roles, perm),
                "{roles:?} {perm}"
            );
        }
    }
    let e = PolicyCompiler::new()
        .file("p.json")
        .json("{\"roles\": {\"a\": {\"grants\": [\"x\"]}},\n \"extra\": 1}")
        .unwrap_err();
    assert!(e.to_string().starts_with("p.json:2:"), "{e}");
}

#[test]
fn known_permissions_are_interned_and_agree_with_the_matcher() {
    let plain = Policy::from_toml(ISSUE_POLICY).unwrap();
    let interned = PolicyCompiler::new()
        .known_permissions(["admin:users:delete".parse().unwrap()])
        .toml(ISSUE_POLICY)
        .unwrap();
    let perm = "admin:users:delete".parse().unwrap();
    assert!(plain.permission_id(&perm).is_none());
    let id = interned.permission_id(&perm).unwrap();
    let admin = interned.member(
        &tenant("t"),
        &Assignments {
            tenant_roles: vec![role("admin")],
            global_roles: vec![],
        },
    );
    assert!(interned.check_id(&tenant("t"), &admin, id).is_allowed());
    assert!(allowed(&plain, &["admin"], "admin:users:delete"));
    // An id or role set of another policy allows nothing.
    let other_set = plain.role_set(&[role("admin")]);
    let d = interned.check_roles(&other_set, &perm);
    assert!(!d.is_allowed());
    assert_eq!(d.explain(&interned), Explanation::OtherPolicy);
}

#[test]
fn lint_reports_every_problem() {
    let text = "[roles.a]\ninherits = [\"ghost\", \"b\"]\ngrants = [\"calls:*\"]\ndenies = [\"calls:*\", \"calls:delete\"]\n[roles.b]\ninherits = [\"a\"]\n[roles.c]\ninherits = [\"d\"]\ndenies = [\"x:y\"]\n[roles.d]\ndenies = [\"x:*\", \"x:*\"]\n";
    let problems = lint_toml(text, Some("p.toml")).unwrap();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "p.toml:2: role a: inherits unknown role `ghost`",
            "p.toml:1: role a: inheritance cycle a -> b -> a",
            "p.toml:4: role a: deny `calls:delete` is unreachable: another deny of the role or of a role it inherits covers it",
            "p.toml:9: role c: deny `x:y` is unreachable: another deny of the role or of a role it inherits covers it",
            "p.toml:11: role d: deny `x:*` is unreachable: another deny of the role or of a role it inherits covers it",
        ]
    );
    assert!(matches!(problems[2], Problem::UnreachableDeny { .. }));
    assert_eq!(problems.len(), 5);
    assert!(lint_toml(ISSUE_POLICY, None).unwrap().is_empty());
}

#[test]
fn hot_reload_swaps_whole_policies_and_keeps_the_old_on_error() {
    let dir = std::env::temp_dir().join(format!("palisade-rbac-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(&path, ISSUE_POLICY).unwrap();
    let shared = SharedPolicy::new(Policy::load(&path).unwrap());
    let before = shared.current();
    std::fs::write(&path, "[roles.customer]\ngrants = [\"bookings:*\"]\n").unwrap();
    shared.reload(&PolicyCompiler::new(), &path).unwrap();
    assert!(allowed(&shared.current(), &["customer"], "bookings:write"));
    // The policy a check started with is unchanged.
    assert!(!allowed(&before, &["customer"], "bookings:write"));
    std::fs::write(&path, "[roles.customer]\ngrants = [\"bookings*\"]\n").unwrap();
    let e = shared.reload(&PolicyCompiler::new(), &path).unwrap_err();
    assert!(
        e.to_string().contains("policy.toml:2: role customer"),
        "{e}"
    );
    assert!(allowed(&shared.current(), &["customer"], "bookings:write"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refusals_emit_authz_denied_and_allows_do_not() {
    let p = Policy::from_toml(ISSUE_POLICY).unwrap();
    let a = tenant("acme");
    let user =
        Principal::new(a.clone(), SubjectId::new("u-7").unwrap()).with_roles([role("agent")]);
    let log = CapturedEvents::during(|| {
        assert!(
            p.authorize(&a, &user, &"calls:read".parse().unwrap())
                .is_allowed()
        );
        assert!(
            !p.authorize(&a, &user, &"bookings:delete".parse().unwrap())
                .is_allowed()
        );
    });
    let seen = log.lines();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(log.count(palisade_telemetry::AUTHZ_DENIED), 1);
    let fields = &seen[0];
    assert!(fields.starts_with(" INFO palisade_rbac:"), "{fields}");
    for want in [
        "event=\"authz.denied\"",
        "tenant=acme",
        "subject=u-7",
        "permission=bookings:delete",
        "status=403",
        "reason=role agent denies `bookings:delete`",
    ] {
        assert!(fields.contains(want), "{want} in {fields}");
    }
}
