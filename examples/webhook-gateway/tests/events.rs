//! `GET /events` behind its bearer token, phone numbers written with separators masked in
//! the stored events, and the demo secrets refused on a non-loopback address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use palisade_webhook::{AnyScheme, Message, Provider, SecretString, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webhook_gateway::{
    Config, DEMO_EVENTS_TOKEN, DEMO_SECRETS, GatewayError, RouteConfig, build, serve,
};

async fn start(config: &Config) -> SocketAddr {
    let router = build(config).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, router, std::future::pending()));
    addr
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request on its own connection, read to the end.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

fn demo_secret(route: &str) -> &'static str {
    DEMO_SECRETS
        .iter()
        .find(|(name, _)| *name == route)
        .map(|(_, s)| *s)
        .unwrap()
}

/// Posts `body` to the demo Stripe route, signed with `secret`; returns the status.
async fn post_stripe(addr: SocketAddr, secret: &str, body: &str) -> u16 {
    let verifier = Verifier::new(
        AnyScheme::for_provider(Provider::Stripe).unwrap(),
        [SecretString::from(secret)],
    )
    .unwrap();
    let signed = verifier.sign(&Message::new(body.as_bytes())).unwrap();
    let mut headers: Vec<(&str, &str)> = signed.iter().collect();
    headers.push(("Content-Type", "application/json"));
    http(addr, "POST", "/webhooks/stripe", &headers, body.as_bytes())
        .await
        .status
}

const BEARER: &str = "Bearer palisade-demo-events-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_require_the_bearer_token() {
    assert_eq!(BEARER, format!("Bearer {DEMO_EVENTS_TOKEN}"));
    let addr = start(&Config::demo()).await;
    let body = r#"{"id":"evt_bearer","type":"ping"}"#;
    assert_eq!(post_stripe(addr, demo_secret("stripe"), body).await, 200);

    for headers in [
        &[][..],
        &[("Authorization", "Bearer wrong-token-of-some-length")],
        &[("Authorization", "Basic cGFsaXNhZGU6ZGVtbw==")],
        &[("Authorization", "Bearer palisade-demo-events-toke")],
    ] {
        let res = http(addr, "GET", "/events", headers, b"").await;
        assert_eq!(res.status, 401, "{headers:?}: {}", res.body);
        assert!(
            res.head.contains("www-authenticate: bearer"),
            "{headers:?}: {}",
            res.head
        );
        assert!(!res.body.contains("evt_bearer"), "{}", res.body);
    }

    let res = http(addr, "GET", "/events", &[("Authorization", BEARER)], b"").await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("evt_bearer"), "{}", res.body);
}

/// A configuration without a token does not serve `GET /events` at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_not_served_without_a_token() {
    let mut config = Config::demo();
    config.events_token = None;
    let addr = start(&config).await;
    for headers in [&[][..], &[("Authorization", BEARER)]] {
        let res = http(addr, "GET", "/events", headers, b"").await;
        assert_eq!(res.status, 404, "{}", res.body);
    }
    let res = http(addr, "GET", "/healthz", &[], b"").await;
    assert_eq!(res.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_token_from_the_environment_and_its_checks() {
    // `cargo test` sets CARGO_MANIFEST_DIR in the test's environment (the crate forbids
    // `unsafe`, so the test cannot set a variable of its own).
    let token = env!("CARGO_MANIFEST_DIR");
    let text = r#"
        events_token_env = "CARGO_MANIFEST_DIR"
        [routes.stripe]
        provider = "stripe"
        secrets = ["whsec_a_real_secret_from_the_file"]
    "#;
    let config = Config::from_toml(text).unwrap();
    let addr = start(&config).await;
    let res = http(addr, "GET", "/events", &[("Authorization", BEARER)], b"").await;
    assert_eq!(res.status, 401);
    let auth = format!("Bearer {token}");
    let res = http(addr, "GET", "/events", &[("Authorization", &auth)], b"").await;
    assert_eq!((res.status, res.body.as_str()), (200, "[]"));

    // Too short, both set, variable unset: refused at start, without quoting the token.
    let short = Config::from_toml(&text.replace(
        "events_token_env = \"CARGO_MANIFEST_DIR\"",
        "events_token = \"short-token\"",
    ))
    .unwrap();
    let err = build(&short).await.err().unwrap().to_string();
    assert!(err.contains("shorter than 16"), "{err}");
    assert!(!err.contains("short-token"), "{err}");
    let both = Config::from_toml(&format!("events_token = \"{token}\"\n{text}")).unwrap();
    assert!(build(&both).await.is_err());
    let unset = Config::from_toml(
        &text.replace("CARGO_MANIFEST_DIR", "GATEWAY_TEST_EVENTS_TOKEN_IS_NOT_SET"),
    )
    .unwrap();
    assert!(build(&unset).await.is_err());
}

/// Phone numbers written with spaces and punctuation in free text are masked and encrypted;
/// an order id and a date are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_in_free_text_are_masked() {
    let addr = start(&Config::demo()).await;
    let body = r#"{"id":"evt_free_text","type":"payment_intent.succeeded","data":{"object":{"description":"Call +1 415 555 0123 or (212) 555-0187; UK desk +44 20 7946 0958","metadata":{"note":"order 1234567890 of 2024-06-01"}}}}"#;
    assert_eq!(post_stripe(addr, demo_secret("stripe"), body).await, 200);
    let res = http(addr, "GET", "/events", &[("Authorization", BEARER)], b"").await;
    assert_eq!(res.status, 200);
    for clear in [
        "415 555 0123",
        "555-0187",
        "7946 0958",
        "4155550123",
        "2125550187",
    ] {
        assert!(!res.body.contains(clear), "{clear} in clear: {}", res.body);
    }
    let events: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let event = &events[0];
    assert_eq!(
        event["payload"]["data"]["object"]["description"],
        "Call +1******0123 or +1******0187; UK desk +4*******0958"
    );
    assert_eq!(
        event["payload"]["data"]["object"]["metadata"]["note"],
        "order 1234567890 of 2024-06-01"
    );
    let phones = event["phones"].as_array().unwrap();
    assert_eq!(phones.len(), 3, "{phones:?}");
    for phone in phones {
        assert!(phone["ciphertext"].as_str().unwrap().starts_with("pii1."));
        assert!(phone["blind_index"].is_string());
    }
}

/// The demo secrets (and the demo events token) only on a loopback address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_secrets_only_on_loopback() {
    for listen in [
        "0.0.0.0:8080",
        "[::]:8080",
        "192.0.2.10:8080",
        "[2001:db8::1]:8080",
    ] {
        let mut config = Config::demo();
        config.listen = listen.to_owned();
        let err = build(&config).await.err().unwrap();
        assert!(
            matches!(err, GatewayError::DemoSecretsOnPublicAddress { .. }),
            "{listen}: {err}"
        );
        let message = err.to_string();
        assert!(message.contains("--config"), "{message}");
        assert!(message.contains("real secrets"), "{message}");
        // Checked on the bound address too.
        assert!(config.check_listen(listen.parse().unwrap()).is_err());
    }
    for listen in [
        "127.0.0.1:8080",
        "127.0.0.2:8080",
        "[::1]:8080",
        "[::ffff:127.0.0.1]:80",
    ] {
        let config = Config::demo();
        assert!(
            config.check_listen(listen.parse().unwrap()).is_ok(),
            "{listen}"
        );
    }
    let mut config = Config::demo();
    config.listen = "localhost:0".to_owned();
    assert!(build(&config).await.is_ok());

    // One demo secret in a file is enough to refuse; none, and any address is allowed.
    let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
    let mut config = Config::demo();
    config.events_token = None;
    config.routes.retain(|name, _| name == "github");
    assert!(config.check_listen(public).is_err());
    let route: &mut RouteConfig = config.routes.get_mut("github").unwrap();
    route.secrets = vec!["a-real-github-webhook-secret".to_owned()];
    assert!(config.check_listen(public).is_ok());
    config.events_token = Some(SecretString::from(DEMO_EVENTS_TOKEN));
    assert!(config.check_listen(public).is_err());
}

/// The binary refuses `--listen 0.0.0.0:8080` on the demo configuration, and says what to do.
#[test]
fn binary_refuses_demo_secrets_on_a_public_address() {
    for listen in ["0.0.0.0:8080", "[::]:8080"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_webhook-gateway"))
            .args(["--listen", listen])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{listen}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refusing to listen on"), "{stderr}");
        assert!(stderr.contains("--config"), "{stderr}");
    }
}
