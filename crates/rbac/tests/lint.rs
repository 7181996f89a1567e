//! `lint_toml` / `lint_json`: which of two denies is the dead one (the later of two equal
//! ones, the narrower of a pair, only down the inheritance chain), located at its own line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_rbac::{Problem, lint_json, lint_toml};

fn dead(problems: &[Problem]) -> Vec<(Option<usize>, String)> {
    problems
        .iter()
        .map(|p| match p {
            Problem::UnreachableDeny { at, scope } => (at.line, scope.to_string()),
            other => panic!("not a dead deny: {other}"),
        })
        .collect()
}

#[test]
fn the_later_of_two_equal_denies_is_the_dead_one() {
    let text = "[roles.a]\ndenies = [\n  \"x:*\",\n  \"x:*\",\n]\n";
    let problems = lint_toml(text, Some("p.toml")).unwrap();
    assert_eq!(dead(&problems), [(Some(4), "x:*".to_owned())]);
    assert_eq!(
        problems[0].to_string(),
        "p.toml:4: role a: deny `x:*` is unreachable: another deny of the role or of a role it inherits covers it"
    );
}

#[test]
fn the_narrower_deny_is_dead_whichever_comes_first() {
    for text in [
        "[roles.a]\ndenies = [\n  \"x:y\",\n  \"x:*\",\n]\n",
        "[roles.a]\ndenies = [\n  \"x:*\",\n  \"x:y\",\n]\n",
    ] {
        let problems = lint_toml(text, None).unwrap();
        let line = if text.find("x:y") < text.find("x:*") {
            3
        } else {
            4
        };
        assert_eq!(dead(&problems), [(Some(line), "x:y".to_owned())], "{text}");
    }
}

#[test]
fn only_an_inherited_deny_shadows() {
    // b inherits a: a's wide deny makes b's narrow one dead, never the other way round.
    let text = "[roles.a]\ndenies = [\"x:*\"]\n[roles.b]\ninherits = [\"a\"]\ndenies = [\"x:y\"]\n";
    assert_eq!(
        dead(&lint_toml(text, None).unwrap()),
        [(Some(5), "x:y".to_owned())]
    );
    let text = "[roles.a]\ndenies = [\"x:y\"]\n[roles.b]\ninherits = [\"a\"]\ndenies = [\"x:*\"]\n";
    assert!(lint_toml(text, None).unwrap().is_empty());
    // Unrelated roles, and a grant, never shadow a deny.
    let text = "[roles.a]\ndenies = [\"x:*\"]\n[roles.b]\ngrants = [\"x:*\"]\ndenies = [\"x:y\"]\n";
    assert!(lint_toml(text, None).unwrap().is_empty());
    // Deeper in the chain (c -> b -> a), through roles with ids on both sides.
    let text = "[roles.a]\ndenies = [\"x:*\"]\n[roles.b]\ninherits = [\"a\"]\n[roles.c]\ninherits = [\"b\"]\ndenies = [\"x:y\", \"z:z\"]\n";
    assert_eq!(
        dead(&lint_toml(text, None).unwrap()),
        [(Some(7), "x:y".to_owned())]
    );
}

#[test]
fn json_policies_are_linted_too() {
    let text = r#"{"roles": {"a": {"denies": ["x:*", "x:y"]}, "b": {"inherits": ["ghost"]}}}"#;
    let problems = lint_json(text, Some("p.json")).unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(matches!(problems[0], Problem::Error(_)), "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "p.json: role b: inherits unknown role `ghost`"
    );
    assert!(matches!(
        &problems[1],
        Problem::UnreachableDeny { scope, .. } if scope.as_str() == "x:y"
    ));
    assert!(
        lint_json(r#"{"roles": {"a": {"denies": ["x:*"]}}}"#, None)
            .unwrap()
            .is_empty()
    );
    assert!(lint_json("{", None).is_err());
}
