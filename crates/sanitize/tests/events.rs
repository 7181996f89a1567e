#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Every SSRF refusal emits palisade-telemetry's `url.blocked` event with a fixed reason label
//! and no part of the URL; accepted URLs and malformed input emit nothing.

use palisade_sanitize::UrlPolicy;
use palisade_telemetry::URL_BLOCKED;
use palisade_telemetry::testing::CapturedEvents;

#[test]
fn refusals_emit_url_blocked_with_the_reason_label_only() {
    let policy = UrlPolicy::new();
    let log = CapturedEvents::during(|| {
        assert!(
            policy
                .check("http://169.254.169.254/latest/meta-data/")
                .is_err()
        );
        assert!(policy.check("gopher://example.com/").is_err());
        assert!(
            policy
                .check("https://user:s3cret-token@example.com/")
                .is_err()
        );
        let parsed = url::Url::parse("http://127.0.0.1/admin").unwrap();
        assert!(policy.check_url(&parsed).is_err());
    });
    let lines = log.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(log.count(URL_BLOCKED), 4, "{lines:?}");
    for line in &lines {
        assert!(line.starts_with(" WARN palisade_sanitize:"), "{line}");
    }
    for (line, reason) in lines
        .iter()
        .zip(["address", "scheme", "user_info", "address"])
    {
        assert!(line.contains(&format!("reason=\"{reason}\"")), "{line}");
    }
    let text = log.text();
    for secret in ["169.254", "s3cret", "127.0.0.1", "example.com", "meta-data"] {
        assert!(!text.contains(secret), "{secret} logged: {text}");
    }
}

#[test]
fn accepted_urls_and_malformed_input_emit_nothing() {
    let policy = UrlPolicy::new();
    let log = CapturedEvents::during(|| {
        assert!(
            policy
                .check("https://api.example.com/v1/recordings/7")
                .is_ok()
        );
        assert!(policy.check("not a url").is_err());
    });
    assert_eq!(log.text(), "");
}

#[cfg(feature = "dns")]
#[tokio::test]
async fn the_resolver_path_emits_url_blocked_too() {
    let log = CapturedEvents::new();
    let _guard = tracing::subscriber::set_default(log.subscriber());
    // What reqwest's resolver calls for every host: `localhost` is refused by its suffix
    // before any lookup.
    let result = palisade_sanitize::resolve::resolve_name(&UrlPolicy::new(), "localhost", 80).await;
    assert!(result.is_err());
    assert_eq!(log.count(URL_BLOCKED), 1, "{}", log.text());
    assert!(
        log.text().contains("reason=\"blocked_name\""),
        "{}",
        log.text()
    );
    assert!(!log.text().contains("localhost"), "{}", log.text());
}
