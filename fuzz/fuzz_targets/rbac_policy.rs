//! `palisade_rbac` policy files (TOML) on arbitrary input: compiling and linting return `Ok`
//! or a located `Err`, never a panic. A policy that compiles lints without an error, and its
//! checks (bitset and matcher paths) agree for every permission it names.
//!
//! Input: the policy text (read as lossy UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_rbac::{Permission, Policy, PolicyCompiler, Problem, lint_toml};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The JSON form of a policy goes through the same compiler: no panic either.
    let _ = Policy::from_json(&text);
    let compiled = Policy::from_toml(&text);
    let linted = lint_toml(&text, Some("fuzz.toml"));
    let Ok(policy) = compiled else { return };
    let problems = linted.expect("a policy that compiles can be linted");
    assert!(
        !problems.iter().any(|p| matches!(p, Problem::Error(_))),
        "a policy that compiles has no error"
    );
    // Every literal permission the policy names, checked by every role alone, through the
    // interned bitsets and through a policy that does not intern it (the matcher).
    let permissions: Vec<Permission> = policy
        .rules()
        .iter()
        .filter_map(|r| Permission::new(r.scope().as_str()).ok())
        .chain(["a:b", "x:y:z"].iter().filter_map(|p| p.parse().ok()))
        .take(32)
        .collect();
    let roles: Vec<_> = policy.role_names().take(16).cloned().collect();
    for role in &roles {
        let set = policy.role_set([role]);
        for p in &permissions {
            let decision = policy.check_roles(&set, p);
            let _ = decision.explain(&policy).to_string();
            if policy.permission_id(p).is_some() {
                // The same policy with nothing interned but what the rules name literally.
                let again = PolicyCompiler::new().toml(&text).expect("compiles twice");
                let set2 = again.role_set([role]);
                assert_eq!(
                    decision.is_allowed(),
                    again.check_roles(&set2, p).is_allowed()
                );
            }
        }
    }
});
