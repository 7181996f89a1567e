//! The documented size limits of a policy, at the limit and one past it: [`MAX_ROLES`] roles,
//! [`MAX_RULES`] grants and denies (all roles together, grants and denies counted alike).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{MAX_ROLES, MAX_RULES, Policy, PolicyCompiler, PolicyError};

fn roles(count: usize) -> String {
    (0..count)
        .map(|i| format!("[roles.r{i}]\ngrants = [\"x:{i}:*\"]\n"))
        .collect()
}

/// One role with `grants` wildcard grants and `denies` wildcard denies, as JSON (wildcards are
/// not interned and JSON entries carry no line to locate, so compiling thousands of them stays
/// cheap).
fn rules(grants: usize, denies: usize) -> String {
    let list = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| format!("\"{prefix}{i}:*\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{{\"roles\": {{\"big\": {{\"grants\": [{}], \"denies\": [{}]}}}}}}",
        list("g", grants),
        list("d", denies)
    )
}

fn too_large(result: Result<Policy, PolicyError>) -> (&'static str, usize) {
    match result {
        Err(PolicyError::TooLarge { at, what, max }) => {
            assert_eq!(at.file.as_deref(), Some("big.toml"));
            (what, max)
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn max_roles_roles_compile_and_one_more_is_refused() {
    let compiler = PolicyCompiler::new().file("big.toml");
    let policy = compiler.toml(&roles(MAX_ROLES)).unwrap();
    assert_eq!(policy.role_names().count(), MAX_ROLES);
    assert_eq!(
        too_large(compiler.toml(&roles(MAX_ROLES + 1))),
        ("roles", MAX_ROLES)
    );
}

#[test]
fn max_rules_grants_and_denies_compile_and_one_more_is_refused() {
    let compiler = PolicyCompiler::new().file("big.toml");
    let half = MAX_RULES / 2;
    // Grants and denies add up: half of each is exactly the limit.
    let policy = compiler.json(&rules(half, half)).unwrap();
    assert_eq!(policy.rules().len(), MAX_RULES);
    assert_eq!(
        too_large(compiler.json(&rules(half + 1, half))),
        ("grants and denies", MAX_RULES)
    );
    // Grants alone count too.
    assert_eq!(
        too_large(compiler.json(&rules(MAX_RULES + 1, 0))),
        ("grants and denies", MAX_RULES)
    );
    assert_eq!(
        compiler.json(&rules(MAX_RULES, 0)).unwrap().rules().len(),
        MAX_RULES
    );
}
