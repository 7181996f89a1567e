//! GitHub (legacy SHA-1 enabled, and SHA-256 only) and Meta: `X-Hub-Signature-256` and
//! `X-Hub-Signature` from the input, each verified with both headers, with the SHA-256 one
//! alone, and with the SHA-1 one alone.
//!
//! Input: `X-Hub-Signature-256 value \n X-Hub-Signature value \n body`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_fuzz::{NOW, fields, fixed, header_map, pairs};
use palisade_webhook::{GitHub, Message, Meta, Request, Verifier};
use secrecy::SecretString;

const SECRET: &str = "It's a Secret to Everybody";

static LEGACY: LazyLock<Verifier<GitHub>> = LazyLock::new(|| {
    fixed(
        Verifier::new(GitHub::with_legacy_sha1(), [SecretString::from(SECRET)])
            .expect("valid secret"),
    )
});
static GITHUB: LazyLock<Verifier<GitHub>> = LazyLock::new(|| {
    fixed(Verifier::new(GitHub::new(), [SecretString::from(SECRET)]).expect("valid secret"))
});
static META: LazyLock<Verifier<Meta>> = LazyLock::new(|| {
    fixed(Verifier::new(Meta, [SecretString::from(SECRET)]).expect("valid secret"))
});

const NAMES: [&str; 2] = ["X-Hub-Signature-256", "X-Hub-Signature"];

fuzz_target!(|data: &[u8]| {
    let [sha256, sha1, body] = fields::<3>(data);
    let body = body.unwrap_or_default();

    let both = pairs(&NAMES, &[sha256, sha1]);
    let only256 = pairs(&NAMES, &[sha256, None]);
    let only1 = pairs(&NAMES, &[None, sha1]);

    let mut results = Vec::new();
    for headers in [&both, &only256, &only1] {
        let req = Request::new(headers, body);
        let legacy = LEGACY.verify_at(&req, NOW);
        let github = GITHUB.verify_at(&req, NOW);
        let meta = META.verify_at(&req, NOW);
        // GitHub and Meta sign the same thing the same way.
        assert_eq!(github.is_ok(), meta.is_ok());
        if let Some(map) = header_map(headers) {
            assert_eq!(legacy, LEGACY.verify_at(&Request::new(&map, body), NOW));
            assert_eq!(github, GITHUB.verify_at(&Request::new(&map, body), NOW));
        }
        results.push((legacy, github));
    }
    let [
        (legacy_both, github_both),
        (legacy_256, github_256),
        (legacy_1, github_1),
    ] = <[_; 3]>::try_from(results).expect("three header sets");
    // SHA-1 is ignored unless enabled, and then only when the SHA-256 header is absent.
    assert_eq!(github_both, github_256);
    if sha256.is_some() {
        assert_eq!(legacy_both, legacy_256);
    }
    assert!(
        github_1.is_err(),
        "GitHub::new accepted a SHA-1 signature alone"
    );
    if legacy_1.is_ok() {
        assert!(sha1.is_some());
    }

    // Sign → verify round-trips.
    let signed = LEGACY.sign(&Message::new(body)).expect("signing succeeds");
    LEGACY
        .verify_at(&Request::new(&signed, body), NOW)
        .expect("own signature verifies (legacy)");
    GITHUB
        .verify_at(&Request::new(&signed, body), NOW)
        .expect("own signature verifies");
    META.verify_at(&Request::new(&signed, body), NOW)
        .expect("GitHub's signature verifies as Meta's");
});
