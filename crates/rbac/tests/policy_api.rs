//! What a compiled policy tells about itself: its roles by name and id, which are global, its
//! rules in file order with their role, effect, scope and line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{Effect, Policy, RoleName};

const POLICY: &str = r#"[roles.operator]
global = true
grants = ["calls:read"]

[roles.agent]
inherits = ["customer"]
grants = ["bookings:write", "calls:*"]
denies = ["bookings:delete"]

[roles.customer]
grants = ["bookings:read"]
"#;

#[test]
fn roles_are_named_in_name_order_and_global_ones_are_marked() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let names: Vec<&str> = policy.role_names().map(RoleName::as_str).collect();
    assert_eq!(names, ["agent", "customer", "operator"]);
    let ids: Vec<_> = names.iter().map(|n| policy.role_id(n).unwrap()).collect();
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    assert_ne!(ids[0], ids[2]);
    assert_eq!(policy.role_id("ghost"), None);
    assert!(policy.is_global("operator"));
    assert!(!policy.is_global("agent"));
    assert!(!policy.is_global("ghost"));
}

#[test]
fn rules_come_in_file_order_with_their_lines() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let rules: Vec<(&str, Effect, &str, Option<usize>)> = policy
        .rules()
        .iter()
        .map(|r| (r.role().as_str(), r.effect(), r.scope().as_str(), r.line()))
        .collect();
    assert_eq!(
        rules,
        [
            ("agent", Effect::Grant, "bookings:write", Some(7)),
            ("agent", Effect::Grant, "calls:*", Some(7)),
            ("agent", Effect::Deny, "bookings:delete", Some(8)),
            ("customer", Effect::Grant, "bookings:read", Some(11)),
            ("operator", Effect::Grant, "calls:read", Some(3)),
        ]
    );
}
