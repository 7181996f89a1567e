//! The JSON walker: limits, MongoDB operator keys, no keyword deny-list; it never panics and
//! always enforces its limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_sanitize::json::{JsonError, JsonLimits, OperatorKeys};
use proptest::prelude::*;
use serde_json::{Value, json};

#[test]
fn defaults_accept_ordinary_text_including_sql_and_html_words() {
    let limits = JsonLimits::for_document_store(true);
    let body = json!({
        "name": "O'Brien",
        "notes": ["SELECT a time; we'll DROP by", "<b>bold</b> -- said \"Bobby\"; OR 1=1"],
        "n": 3, "ok": true, "none": null,
    });
    assert_eq!(limits.check(&body), Ok(()));
}

/// NoSQL injection payloads (OWASP WSTG "Testing for NoSQL Injection").
#[test]
fn mongodb_operators_are_refused_for_document_stores() {
    let store = JsonLimits::for_document_store(false);
    let cases = [
        (
            json!({"username": "admin", "password": {"$ne": null}}),
            "/password/$ne",
        ),
        (json!({"username": {"$gt": ""}}), "/username/$gt"),
        (json!({"$where": "sleep(5000)"}), "/$where"),
        (json!({"q": [{"a": 1}, {"$regex": "^a"}]}), "/q/1/$regex"),
        (json!({"a/b~": {"$in": []}}), "/a~1b~0/$in"),
    ];
    for (v, pointer) in cases {
        assert_eq!(
            store.check(&v),
            Err(JsonError::OperatorKey {
                pointer: pointer.into()
            }),
            "{v}"
        );
        // The same documents are fine where no document store reads them.
        assert_eq!(JsonLimits::default().check(&v), Ok(()));
    }
    assert!(matches!(
        store.check(&json!({"a\u{0}b": 1})),
        Err(JsonError::OperatorKey { .. })
    ));
    // Dotted keys only when asked.
    let dotted = json!({"profile.role": "admin"});
    assert_eq!(store.check(&dotted), Ok(()));
    assert_eq!(
        JsonLimits::for_document_store(true).check(&dotted),
        Err(JsonError::DottedKey {
            pointer: "/profile.role".into()
        })
    );
    // A `$` inside a value is text.
    assert_eq!(store.check(&json!({"price": "$5"})), Ok(()));
}

#[test]
fn limits() {
    let l = JsonLimits::default();
    assert_eq!(l.max_string_chars, 1000);
    let s1000: String = "é".repeat(1000);
    assert_eq!(l.check(&json!({ "a": s1000 })), Ok(()));
    assert_eq!(
        l.check(&json!({ "a": [format!("{s1000}x")] })),
        Err(JsonError::StringTooLong {
            max: 1000,
            pointer: "/a/0".into()
        })
    );
    let long_key = "k".repeat(1001);
    assert!(matches!(
        l.check(&json!({ long_key: 1 })),
        Err(JsonError::StringTooLong { .. })
    ));

    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    assert!(matches!(
        l.check(&deep),
        Err(JsonError::TooDeep { max: 32, .. })
    ));
    let small = JsonLimits { max_depth: 2, ..l };
    assert_eq!(small.check(&json!({"a": [1]})), Ok(()));
    assert!(matches!(
        small.check(&json!({"a": [[1]]})),
        Err(JsonError::TooDeep { .. })
    ));

    let keys = JsonLimits { max_keys: 3, ..l };
    assert_eq!(keys.check(&json!({"a": {"b": 1}, "c": 2})), Ok(()));
    assert_eq!(
        keys.check(&json!({"a": {"b": 1}, "c": 2, "d": 3})),
        Err(JsonError::TooManyKeys { max: 3 })
    );
    let values = JsonLimits { max_values: 4, ..l };
    assert_eq!(values.check(&json!([1, 2, 3])), Ok(()));
    assert_eq!(
        values.check(&json!([1, 2, 3, 4])),
        Err(JsonError::TooManyValues { max: 4 })
    );

    let bytes = JsonLimits {
        max_total_bytes: 10,
        ..l
    };
    assert_eq!(bytes.parse(b"[1,2,3]").unwrap(), json!([1, 2, 3]));
    // Exactly the limit is allowed; one byte more is not.
    assert_eq!(bytes.parse(b"[1,2,3,44]").unwrap(), json!([1, 2, 3, 44]));
    assert_eq!(
        bytes.parse(b"[1,2,3,444]"),
        Err(JsonError::TooLarge { max: 10 })
    );
    assert_eq!(
        bytes.parse(b"[1,2,3,4,5]"),
        Err(JsonError::TooLarge { max: 10 })
    );
    assert!(matches!(
        l.parse(b"{\"a\":"),
        Err(JsonError::Syntax { line: 1, .. })
    ));
    // serde_json's own recursion limit (128) stops a deep document before the walker.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(
        l.parse(nested.as_bytes()),
        Err(JsonError::Syntax { .. })
    ));
}

/// The pointer in an error is cut to 128 bytes (then `…`): one of exactly 128 bytes is whole.
#[test]
fn error_pointers_are_cut_after_128_bytes() {
    let l = JsonLimits {
        max_string_chars: 1,
        ..JsonLimits::default()
    };
    let pointer = |key: &str| match l.check(&json!({ key: "too long" })) {
        Err(JsonError::StringTooLong { pointer, .. }) => pointer,
        other => panic!("{other:?}"),
    };
    let exact = "k".repeat(127);
    assert_eq!(pointer(&exact), format!("/{exact}"));
    let over = "k".repeat(128);
    let cut = pointer(&over);
    assert_eq!(cut, format!("/{}…", "k".repeat(124)));
    assert!(cut.len() <= 128 + '…'.len_utf8());
}

#[test]
fn depth_ceiling_bounds_recursion() {
    let mut deep = json!(null);
    for _ in 0..(JsonLimits::DEPTH_CEILING + 10) {
        deep = json!({ "a": deep });
    }
    let unbounded = JsonLimits {
        max_depth: usize::MAX,
        max_keys: usize::MAX,
        ..JsonLimits::default()
    };
    assert!(matches!(
        unbounded.check(&deep),
        Err(JsonError::TooDeep {
            max: JsonLimits::DEPTH_CEILING,
            ..
        })
    ));
    // Dropping a deep Value recurses in serde_json; keep it from the test's stack.
    std::mem::forget(deep);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(prop_oneof!["[a-z.$]{0,4}", "\\PC{0,6}"], inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn stats(v: &Value, keys: &mut usize, values: &mut usize, longest: &mut usize, op: &mut bool) {
    *values += 1;
    match v {
        Value::String(s) => *longest = (*longest).max(s.chars().count()),
        Value::Array(a) => a.iter().for_each(|x| stats(x, keys, values, longest, op)),
        Value::Object(m) => {
            for (k, x) in m {
                *keys += 1;
                *longest = (*longest).max(k.chars().count());
                *op |= k.starts_with('$') || k.contains('\0') || k.contains('.');
                stats(x, keys, values, longest, op);
            }
        }
        _ => {}
    }
}

proptest! {
    /// Whatever the document and limits, `check` returns, and accepts only documents
    /// within every limit.
    #[test]
    fn walker_enforces_every_limit(
        v in arb_json(),
        max_depth in 0usize..6, max_string_chars in 0usize..10,
        max_keys in 0usize..20, max_values in 0usize..40, refuse in any::<bool>(),
    ) {
        let limits = JsonLimits {
            max_depth, max_string_chars, max_keys, max_values,
            operator_keys: if refuse { OperatorKeys::RefuseWithDots } else { OperatorKeys::Allow },
            ..JsonLimits::default()
        };
        let (mut keys, mut values, mut longest, mut op) = (0, 0, 0, false);
        stats(&v, &mut keys, &mut values, &mut longest, &mut op);
        let within = depth(&v) <= max_depth && keys <= max_keys && values <= max_values
            && longest <= max_string_chars && !(refuse && op);
        prop_assert_eq!(limits.check(&v).is_ok(), within, "{:?}", limits.check(&v));
    }

    /// Arbitrary bytes never panic the parser and walker.
    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = JsonLimits::for_document_store(true).parse(&bytes);
    }
}
