//! Heap allocations made by one `verify_at` call, per provider, counted with dhat.
//!
//! Everything is in one `#[test]` so no other test of this process allocates while a count is
//! taken. Run with `--nocapture` to see the table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use palisade_webhook::{
    Encoding, GitHub, HmacAlgorithm, HmacScheme, Key, Message, Meta, Request, Scheme, SecretString,
    Shopify, Slack, StandardWebhooks, Stripe, Twilio, Vapi, Verifier,
};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const T: i64 = 1_700_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","amount":4200}"#;

/// Heap blocks allocated by `f`.
fn blocks(f: impl FnOnce() -> bool) -> (u64, bool) {
    let before = dhat::HeapStats::get().total_blocks;
    let ok = f();
    let after = dhat::HeapStats::get().total_blocks;
    (after - before, ok)
}

/// One measured row: the allocations of a first (cold) and of a second `verify_at` call on
/// the same prepared request. The second is the steady-state figure that is asserted.
struct Row {
    name: &'static str,
    cold: u64,
    warm: u64,
}

fn measure<S: Scheme>(
    rows: &mut Vec<Row>,
    name: &'static str,
    verifier: &Verifier<S>,
    request: &Request<'_>,
    now: i64,
) -> u64 {
    let (cold, ok) = blocks(|| verifier.verify_at(request, now).is_ok());
    assert!(ok, "{name}: {:?}", verifier.verify_at(request, now));
    // The steady figure is the least of three calls: dhat counts the whole process, and the
    // test harness's own threads may allocate now and then while a call is measured.
    let mut warm = u64::MAX;
    for _ in 0..3 {
        let (n, ok) = blocks(|| verifier.verify_at(request, now).is_ok());
        assert!(ok, "{name}");
        warm = warm.min(n);
    }
    rows.push(Row { name, cold, warm });
    warm
}

/// Like [`measure`], for a request that must be refused.
fn measure_refusal<S: Scheme>(
    rows: &mut Vec<Row>,
    name: &'static str,
    verifier: &Verifier<S>,
    request: &Request<'_>,
    now: i64,
) -> u64 {
    let (cold, refused) = blocks(|| verifier.verify_at(request, now).is_err());
    assert!(refused, "{name}");
    let (warm, refused) = blocks(|| verifier.verify_at(request, now).is_err());
    assert!(refused, "{name}");
    rows.push(Row { name, cold, warm });
    warm
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn allocations_per_verify_call() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut rows = Vec::new();

    // Standard Webhooks: the published vector sw-1.
    let standard = Verifier::new(
        StandardWebhooks,
        [secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
    )
    .unwrap();
    let sw_headers = [
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ];
    let sw_body = br#"{"test": 2432232314}"#;
    let n = measure(
        &mut rows,
        "Standard Webhooks (v1)",
        &standard,
        &Request::new(&sw_headers, sw_body),
        1_614_265_330,
    );
    assert_eq!(n, 0, "Standard Webhooks");

    // Stripe, signed beforehand.
    let stripe = Verifier::new(Stripe, [secret("whsec_test_secret_0123456789")]).unwrap();
    let stripe_headers = stripe.sign(&Message::new(BODY).timestamp(T)).unwrap();
    let n = measure(
        &mut rows,
        "Stripe",
        &stripe,
        &Request::new(&stripe_headers, BODY),
        T,
    );
    assert_eq!(n, 0, "Stripe");

    // GitHub: the documented example.
    let github = Verifier::new(GitHub::new(), [secret("It's a Secret to Everybody")]).unwrap();
    let gh_headers = [(
        "X-Hub-Signature-256",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];
    let n = measure(
        &mut rows,
        "GitHub",
        &github,
        &Request::new(&gh_headers, b"Hello, World!"),
        T,
    );
    assert_eq!(n, 0, "GitHub");

    // Slack: the published vector slack-1.
    let slack = Verifier::new(Slack, [secret("8f742231b10e8888abcd99yyyzzz85a5")]).unwrap();
    let slack_body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let slack_headers = [
        ("X-Slack-Request-Timestamp", "1531420618"),
        (
            "X-Slack-Signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        ),
    ];
    let n = measure(
        &mut rows,
        "Slack",
        &slack,
        &Request::new(&slack_headers, slack_body),
        1_531_420_618,
    );
    assert_eq!(n, 0, "Slack");

    // Shopify, signed beforehand.
    let shopify = Verifier::new(Shopify, [secret("shpss_secret_0123456789")]).unwrap();
    let shopify_headers = shopify.sign(&Message::new(BODY)).unwrap();
    let n = measure(
        &mut rows,
        "Shopify",
        &shopify,
        &Request::new(&shopify_headers, BODY),
        T,
    );
    assert_eq!(n, 0, "Shopify");

    // Twilio, form body: the published vector tw-1. Allocations come from parsing the URL,
    // decoding and sorting the form parameters, and building the port variant of the URL.
    // Twilio's documented token, shorter than the minimum `Verifier::new` asks for.
    let twilio = Verifier::from_keys(Twilio::default(), [Key::hmac(b"12345")]).unwrap();
    let tw_body = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    let tw_headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ];
    let tw_url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let twilio_form = measure(
        &mut rows,
        "Twilio (form, 5 params)",
        &twilio,
        &Request::new(&tw_headers, tw_body).with_url(tw_url),
        0,
    );
    // Measured: 15 blocks (url 2.5.8, form_urlencoded 1.2.2). The bound leaves some room for
    // dependency updates; a large increase is a regression.
    assert!(twilio_form <= 20, "Twilio form: {twilio_form} blocks");

    // Not asserted to be zero by design, measured for the report.
    let meta = Verifier::new(Meta, [secret("It's a Secret to Everybody")]).unwrap();
    measure(
        &mut rows,
        "Meta",
        &meta,
        &Request::new(&gh_headers, b"Hello, World!"),
        T,
    );

    let twilio_json_body = br#"{"property": "value", "boolean": true}"#;
    let twilio_json_headers = [
        ("Content-Type", "application/json"),
        ("X-Twilio-Signature", "a9nBmqA0ju/hNViExpshrM61xv4="),
    ];
    let twilio_json = measure(
        &mut rows,
        "Twilio (JSON, bodySHA256)",
        &twilio,
        &Request::new(&twilio_json_headers, twilio_json_body).with_url(
            "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
        ),
        0,
    );
    // Measured: 10 blocks.
    assert!(twilio_json <= 16, "Twilio JSON: {twilio_json} blocks");

    let vapi_server_secret =
        Verifier::new(Vapi::server_secret(), [secret("vapi-secret-0123456789")]).unwrap();
    let vapi_secret_headers = [("x-vapi-secret", "vapi-secret-0123456789")];
    measure(
        &mut rows,
        "Vapi (x-vapi-secret)",
        &vapi_server_secret,
        &Request::new(&vapi_secret_headers, BODY),
        T,
    );
    let vapi = Verifier::new(
        Vapi::hmac(Vapi::default_hmac_plan()),
        [secret("vapi-secret-0123456789")],
    )
    .unwrap();
    let vapi_hmac_headers = vapi.sign(&Message::new(BODY).timestamp(T)).unwrap();
    measure(
        &mut rows,
        "Vapi (default HMAC plan)",
        &vapi,
        &Request::new(&vapi_hmac_headers, BODY),
        T,
    );

    // A custom scheme whose header names are `&'static str`, and the same with `String`s.
    let static_names = HmacScheme::builder("X-Signature", HmacAlgorithm::Sha256, Encoding::Hex)
        .timestamp_header("X-Timestamp")
        .template("{timestamp}.{method}.{url}.{body}")
        .build()
        .unwrap();
    let owned_names = HmacScheme::builder(
        String::from("X-Signature"),
        HmacAlgorithm::Sha256,
        Encoding::Hex,
    )
    .timestamp_header(String::from("X-Timestamp"))
    .template("{timestamp}.{method}.{url}.{body}")
    .build()
    .unwrap();
    let custom = Verifier::new(static_names, [secret("custom-secret-0123456789")]).unwrap();
    let custom_owned = Verifier::new(owned_names, [secret("custom-secret-0123456789")]).unwrap();
    let url = "https://api.example.com/hooks";
    let custom_headers = custom
        .sign(&Message::new(BODY).timestamp(T).method("POST").url(url))
        .unwrap();
    let custom_request = Request::new(&custom_headers, BODY)
        .with_method("POST")
        .with_url(url);
    measure(
        &mut rows,
        "HmacScheme (static header names)",
        &custom,
        &custom_request,
        T,
    );
    measure(
        &mut rows,
        "HmacScheme (String header names)",
        &custom_owned,
        &custom_request,
        T,
    );

    // Header lookup through an `http::HeaderMap`.
    let stripe_map = stripe_headers.to_header_map().unwrap();
    measure(
        &mut rows,
        "Stripe over http::HeaderMap",
        &stripe,
        &Request::new(&stripe_map, BODY),
        T,
    );

    // Rotation: the second of two secrets matches.
    let rotated = Verifier::new(
        Stripe,
        [
            secret("whsec_new_0123456789abcdef"),
            secret("whsec_test_secret_0123456789"),
        ],
    )
    .unwrap();
    measure(
        &mut rows,
        "Stripe (2nd of 2 secrets)",
        &rotated,
        &Request::new(&stripe_headers, BODY),
        T,
    );

    // Refusals: a wrong body, a stale timestamp, a missing header.
    let n = measure_refusal(
        &mut rows,
        "Standard Webhooks, refused (no match)",
        &standard,
        &Request::new(&sw_headers, b"tampered"),
        1_614_265_330,
    );
    assert_eq!(n, 0, "Standard Webhooks refusal");
    let n = measure_refusal(
        &mut rows,
        "Stripe, refused (timestamp too old)",
        &stripe,
        &Request::new(&stripe_headers, BODY),
        T + 301,
    );
    assert_eq!(n, 0, "Stripe refusal");
    let none: [(&str, &str); 0] = [];
    let n = measure_refusal(
        &mut rows,
        "GitHub, refused (missing header)",
        &github,
        &Request::new(&none, BODY),
        T,
    );
    assert_eq!(n, 0, "GitHub refusal");

    // Standard Webhooks `v1a` (Ed25519): the signed content is assembled in a buffer.
    #[cfg(feature = "ed25519")]
    {
        use base64::Engine as _;
        let whsk = format!(
            "whsk_{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32])
        );
        let ed = Verifier::new(StandardWebhooks, [secret(&whsk)]).unwrap();
        let ed_headers = ed
            .sign(&Message::new(BODY).timestamp(T).id("msg_ed"))
            .unwrap();
        let n = measure(
            &mut rows,
            "Standard Webhooks (v1a, Ed25519)",
            &ed,
            &Request::new(&ed_headers, BODY),
            T,
        );
        // One buffer, reserved at its final size: never grown.
        assert_eq!(n, 1, "Standard Webhooks v1a");
    }

    println!();
    println!("| verify_at call | heap blocks (first call) | heap blocks (steady) |");
    println!("|---|---:|---:|");
    for Row { name, cold, warm } in &rows {
        println!("| {name} | {cold} | {warm} |");
    }

    // Everything but Twilio (form decoding, sorting, URL parsing) and Ed25519 (the signed
    // content must be contiguous) verifies without touching the heap, refusals included.
    for Row { name, warm, .. } in &rows {
        if !name.starts_with("Twilio") && !name.contains("Ed25519") {
            assert_eq!(*warm, 0, "{name} allocates");
        }
    }
}
