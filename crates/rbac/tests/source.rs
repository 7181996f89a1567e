//! Policy text at the size limit: exactly [`MAX_POLICY_BYTES`] bytes are read, one more is
//! `TooLarge` (located in the named file), in TOML and JSON; `PolicySource::from_toml`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{MAX_POLICY_BYTES, PolicyCompiler, PolicyError, PolicySource};

const TOML: &str = "[roles.customer]\ngrants = [\"bookings:read\"]\n";
const JSON: &str = r#"{"roles": {"customer": {"grants": ["bookings:read"]}}}"#;

/// `text` padded to `len` bytes: a TOML comment, or JSON whitespace.
fn padded(text: &str, len: usize, toml: bool) -> String {
    let mut out = text.to_owned();
    if toml {
        out.push('#');
    }
    out.push_str(&" ".repeat(len - out.len()));
    assert_eq!(out.len(), len);
    out
}

fn refused_as_too_large(result: Result<palisade_rbac::Policy, PolicyError>) {
    match result {
        Err(PolicyError::TooLarge { at, what, max }) => {
            assert_eq!((what, max), ("bytes", MAX_POLICY_BYTES));
            assert_eq!(at.file.as_deref(), Some("big"));
        }
        other => panic!("expected TooLarge, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn exactly_max_policy_bytes_are_read_and_one_more_is_refused() {
    let compiler = PolicyCompiler::new().file("big");
    let read = "bookings:read".parse().unwrap();
    for toml in [true, false] {
        let (text, compile): (&str, fn(&PolicyCompiler, &str) -> _) = if toml {
            (TOML, PolicyCompiler::toml)
        } else {
            (JSON, PolicyCompiler::json)
        };
        let policy = compile(&compiler, &padded(text, MAX_POLICY_BYTES, toml)).unwrap();
        let set = policy.role_set(&["customer".parse().unwrap()]);
        assert!(policy.check_roles(&set, &read).is_allowed());
        refused_as_too_large(compile(
            &compiler,
            &padded(text, MAX_POLICY_BYTES + 1, toml),
        ));
    }
}

#[test]
fn a_source_read_from_toml_compiles_to_the_same_decisions() {
    let source = PolicySource::from_toml(TOML).unwrap();
    let policy = PolicyCompiler::new().source(&source).unwrap();
    let set = policy.role_set(&["customer".parse().unwrap()]);
    assert!(
        policy
            .check_roles(&set, &"bookings:read".parse().unwrap())
            .is_allowed()
    );
    assert!(
        !policy
            .check_roles(&set, &"bookings:write".parse().unwrap())
            .is_allowed()
    );
    assert_eq!(source, PolicySource::from_json(JSON).unwrap());
}

#[test]
fn a_json_source_syntax_error_names_its_line() {
    let e = PolicySource::from_json("{\n\"roles\": 1\n}").unwrap_err();
    match e {
        PolicyError::Syntax { at, .. } => {
            assert_eq!(at.line, Some(2));
            assert_eq!(at.file, None);
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
}
