//! The README's and the crates' doc examples (compiled as this crate's doctests) name only the
//! facade's paths. The doctests see this crate's own dependencies too (`palisade_webhook`,
//! `palisade_tower`, …), which a facade user does not have: this test refuses any such path,
//! and the crates a facade user would have to add by hand (`secrecy`, `bytes`, `http`,
//! `http_body_util`), in every Rust code block.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

/// The files whose Rust blocks are the facade's doctests (see `src/lib.rs`).
const DOCS: [&str; 12] = [
    "../../README.md",
    "../webhook/src/lib.md",
    "../replay/src/lib.md",
    "../ratelimit/src/lib.md",
    "../pii/src/lib.md",
    "../redis/src/lib.md",
    "../postgres/src/lib.md",
    "../tower/src/lib.md",
    "../otp/src/lib.md",
    "../sanitize/src/lib.md",
    "../rbac/src/lib.md",
    "../secrets/src/lib.md",
];

/// Paths a facade user does not have: `palisade_<crate>::`, and crates the facade re-exports
/// what is needed from.
fn forbidden_path(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    let starts_path = |at: usize| {
        code[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
    };
    if let Some(at) = code.find("palisade_") {
        let rest = &code[at + "palisade_".len()..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(rest.len());
        if starts_path(at) && name_len > 0 && rest[name_len..].starts_with("::") {
            return Some("palisade_<crate>::");
        }
    }
    for krate in ["secrecy::", "bytes::", "http::", "http_body_util::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(krate) {
            if starts_path(from + i) {
                return Some(krate);
            }
            from += i + krate.len();
        }
    }
    None
}

/// The Rust code blocks of a Markdown text: (first line number, lines).
fn rust_blocks(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => {
                    let lang = info.split(',').next().unwrap_or("").trim();
                    // Rustdoc's rule: an unmarked block, or one marked `rust`, is Rust.
                    if lang.is_empty() || lang == "rust" || lang == "no_run" || lang == "ignore" {
                        current = Some((n + 2, Vec::new()));
                    } else {
                        // Skip the block: mark it with an impossible line number.
                        current = Some((0, Vec::new()));
                    }
                }
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    blocks.into_iter().filter(|(n, _)| *n > 0).collect()
}

#[test]
fn doc_examples_name_only_facade_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut blocks = 0;
    for doc in DOCS {
        let text = std::fs::read_to_string(dir.join(doc)).unwrap();
        for (first, lines) in rust_blocks(&text) {
            blocks += 1;
            for (i, line) in lines.iter().enumerate() {
                if let Some(what) = forbidden_path(line) {
                    found.push(format!(
                        "{doc}:{}: `{what}` in `{}`",
                        first + i,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        blocks >= 10,
        "only {blocks} Rust blocks found: is the scan broken?"
    );
    assert!(
        found.is_empty(),
        "paths a facade user does not have:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_finds_what_it_refuses() {
    assert_eq!(
        forbidden_path("use palisade_webhook::{Request, Stripe};"),
        Some("palisade_<crate>::")
    );
    assert_eq!(
        forbidden_path("    palisade_tower::DUPLICATE_HEADER"),
        Some("palisade_<crate>::")
    );
    assert_eq!(
        forbidden_path("use secrecy::ExposeSecret;"),
        Some("secrecy::")
    );
    assert_eq!(
        forbidden_path("fn f(h: &http::HeaderMap) {}"),
        Some("http::")
    );
    assert_eq!(forbidden_path("use bytes::Bytes;"), Some("bytes::"));
    assert_eq!(
        forbidden_path("use http_body_util::Full;"),
        Some("http_body_util::")
    );
    assert_eq!(
        forbidden_path("use axum::http::{Request, StatusCode};"),
        None
    );
    assert_eq!(forbidden_path("use palisade::webhook::SecretString;"), None);
    assert_eq!(
        forbidden_path("// palisade_webhook::Verifier, in a comment"),
        None
    );
    assert_eq!(
        forbidden_path("assert!(m.contains(\"palisade_tower\"));"),
        None
    );
    let md = "text\n```rust\nuse a;\n```\n```sh\nhttp::x\n```\n```\nlet b = 1;\n```\n";
    let blocks = rust_blocks(md);
    assert_eq!(blocks, vec![(3, vec!["use a;"]), (9, vec!["let b = 1;"])]);
}
