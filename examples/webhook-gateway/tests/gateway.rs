//! The gateway in-process on 127.0.0.1:0: every sample signed as its provider would sign it,
//! tampered copies, replays, credentials in the URL, oversized bodies, rate limits, and the
//! events, health and metrics routes, over a minimal HTTP/1.1 client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;

use palisade_webhook::{AnyScheme, Message, Provider, SecretString, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webhook_gateway::{Config, DEMO_EVENTS_TOKEN, DEMO_SECRETS, DEMO_TWILIO_URL, build, serve};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// (route, sample file, content type, headers the provider adds besides its signature).
type Sample = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const SAMPLES: [Sample; 8] = [
    ("stripe", "stripe-payment_intent.succeeded.json", JSON, &[]),
    (
        "github",
        "github-push.json",
        JSON,
        &[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ],
    ),
    ("meta", "whatsapp-message.json", JSON, &[]),
    ("twilio", "twilio-voice-status.form", FORM, &[]),
    ("slack", "slack-slash-command.form", FORM, &[]),
    (
        "shopify",
        "shopify-orders-create.json",
        JSON,
        &[
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Shop-Domain", "example.myshopify.com"),
            (
                "X-Shopify-Webhook-Id",
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            ),
        ],
    ),
    ("vapi", "vapi-end-of-call-report.json", JSON, &[]),
    ("standard", "standard-webhooks-message.json", JSON, &[]),
];

/// Every phone number of the samples, in the forms they are sent in.
const PLAINTEXT_PHONES: [&str; 8] = [
    "2025550143",
    "6505551234",
    "5550783881",
    "4155550142",
    "2125550187",
    "6135550127",
    "3125550199",
    "4255550163",
];

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

/// One HTTP/1.1 request on its own connection (`Connection: close`), read to the end.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    content_length: Option<usize>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        content_length.unwrap_or(body.len())
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    // A refusal may close the connection before the body is read: ignore write errors.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn secret(route: &str) -> &'static str {
    DEMO_SECRETS
        .iter()
        .find(|(name, _)| *name == route)
        .map(|(_, s)| *s)
        .unwrap()
}

/// The headers the provider would send with `body`: its signature, the content type and the
/// provider's other headers.
fn signed(
    route: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Vec<(String, String)> {
    let provider: Provider = route.parse().unwrap();
    let verifier = Verifier::new(
        AnyScheme::for_provider(provider).unwrap(),
        [SecretString::from(secret(route))],
    )
    .unwrap();
    let mut message = Message::new(body);
    if provider == Provider::Twilio {
        message = message.url(DEMO_TWILIO_URL);
    }
    let mut headers: Vec<(String, String)> = verifier
        .sign(&message)
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
    }
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    headers
}

/// The demo configuration's `GET /events` credential.
fn events_auth() -> Vec<(String, String)> {
    vec![(
        "Authorization".to_owned(),
        format!("Bearer {DEMO_EVENTS_TOKEN}"),
    )]
}

fn sample(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(file),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_end_to_end() {
    samples_on(Config::demo()).await;
}

/// The same, with the replay nonces on Redis (`PALISADE_REDIS_URL`, `.ci/services`), in a
/// namespace of this run's own. Fails, never skips, when Redis does not answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_end_to_end_on_redis() {
    let url = std::env::var("PALISADE_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/".to_owned());
    samples_on(on_store(&url)).await;
}

/// The same, with the replay nonces on Postgres (`PALISADE_POSTGRES_URL`, `.ci/services`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_end_to_end_on_postgres() {
    let url = std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    samples_on(on_store(&url)).await;
}

/// The demo routes on `store`, under a replay namespace unique to this run, so runs against a
/// shared server never see each other's nonces.
fn on_store(store: &str) -> Config {
    let mut config = Config::demo();
    config.store = store.to_owned();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    config.replay_namespace = Some(format!("test-{nanos}-{}", std::process::id()));
    config
}

/// Every route with every sample: accepted, tampered, replay, query token, oversized, media
/// type; then the stored events and the metrics.
async fn samples_on(config: Config) {
    let addr = start(&config).await;

    let health = http(addr, "GET", "/healthz", &[], b"", None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    for (route, file, content_type, extra) in SAMPLES {
        let body = sample(file);
        let headers = signed(route, content_type, extra, &body);
        let path = format!("/webhooks/{route}");

        // A tampered copy: the same signature over other bytes.
        let mut tampered = body.clone();
        tampered.extend_from_slice(if content_type == FORM {
            b"&Tampered=1"
        } else {
            b" "
        });
        let res = http(addr, "POST", &path, &headers, &tampered, None).await;
        assert_eq!(res.status, 401, "{route} tampered: {}", res.body);

        let res = http(addr, "POST", &path, &headers, &body, None).await;
        assert_eq!(res.status, 200, "{route}: {}", res.body);
        assert!(
            res.head.to_ascii_lowercase().contains("ratelimit"),
            "{route}: no rate-limit fields in {}",
            res.head
        );

        // The same delivery again: answered 200 as a duplicate (the provider stops retrying),
        // not stored again.
        let res = http(addr, "POST", &path, &headers, &body, None).await;
        assert_eq!(res.status, 200, "{route} duplicate: {}", res.body);
        assert!(
            res.head
                .to_ascii_lowercase()
                .contains("palisade-webhook-duplicate: completed"),
            "{route}: no duplicate header in {}",
            res.head
        );
    }

    // A credential in the URL is refused before anything else.
    let body = sample("stripe-payment_intent.succeeded.json");
    let headers = signed("stripe", JSON, &[], &body);
    let res = http(
        addr,
        "POST",
        "/webhooks/stripe?token=x",
        &headers,
        &body,
        None,
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);

    // A body over the 64 KiB limit, announced by Content-Length.
    let res = http(
        addr,
        "POST",
        "/webhooks/stripe",
        &headers,
        b"",
        Some(100_000),
    )
    .await;
    assert_eq!(res.status, 413, "{}", res.body);
    // And one that is actually sent.
    let big = vec![b' '; 70_000];
    let res = http(addr, "POST", "/webhooks/stripe", &headers, &big, None).await;
    assert_eq!(res.status, 413, "{}", res.body);

    // A form where JSON is expected.
    let form_headers = signed("stripe", FORM, &[], b"a=1");
    let res = http(
        addr,
        "POST",
        "/webhooks/stripe",
        &form_headers,
        b"a=1",
        None,
    )
    .await;
    assert_eq!(res.status, 415, "{}", res.body);

    // The events: one per sample, ids taken, phones encrypted and masked, never in clear.
    let res = http(addr, "GET", "/events", &events_auth(), b"", None).await;
    assert_eq!(res.status, 200);
    for phone in PLAINTEXT_PHONES {
        assert!(!res.body.contains(phone), "{phone} in clear in /events");
    }
    let events: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), SAMPLES.len());
    let id_of = |route: &str| {
        events
            .iter()
            .find(|e| e["route"] == route)
            .and_then(|e| e["event_id"].as_str())
            .map(str::to_owned)
    };
    assert_eq!(
        id_of("stripe").as_deref(),
        Some("evt_3MtwBwLkdIwHu7ix28a3tqPa")
    );
    assert_eq!(
        id_of("github").as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(
        id_of("twilio").as_deref(),
        Some("CA0123456789abcdef0123456789abcdef")
    );
    assert!(id_of("standard").unwrap().starts_with("msg_"));
    for event in events {
        let route = event["route"].as_str().unwrap();
        let phones = event["phones"].as_array().unwrap();
        if route == "github" || route == "slack" {
            assert!(phones.is_empty(), "{route}: {phones:?}");
            continue;
        }
        assert!(!phones.is_empty(), "{route}: no phone found");
        for phone in phones {
            let masked = phone["masked"].as_str().unwrap();
            assert!(masked.contains("******"), "{phone}");
            assert!(phone["ciphertext"].as_str().unwrap().starts_with("pii1."));
            if masked == "+1******3881" {
                // Meta's sample business number, +1 555 078 3881, is fictional (no such area
                // code): masked and encrypted, but the blind index's normalizer, which
                // validates against the numbering plan, refuses it.
                assert!(phone["blind_index"].is_null(), "{phone}");
            } else {
                assert!(phone["blind_index"].is_string(), "{phone}");
            }
        }
    }
    assert!(res.body.contains("+1******0143"), "{}", res.body);

    let res = http(addr, "GET", "/metrics", &[], b"", None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("palisade_webhook_requests_total"),
        "{}",
        res.body
    );
    assert!(res.body.contains("outcome=\"replay\""), "{}", res.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_and_rate_limit() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway.example.toml"))
            .unwrap();
    // The example file reads its Stripe secret from the environment.
    let mut config = Config::from_toml(&text.replace(
        "secrets_env = [\"STRIPE_WEBHOOK_SECRET\"]",
        "secrets = [\"whsec_from_file_0123456789\"]",
    ))
    .unwrap();
    assert_eq!(config.routes.len(), 3);
    let stripe = config.routes.get_mut("stripe").unwrap();
    stripe.rate_limit.as_mut().unwrap().limit = 2;
    let addr = start(&config).await;

    let verifier = Verifier::new(
        AnyScheme::for_provider(Provider::Stripe).unwrap(),
        [SecretString::from("whsec_from_file_0123456789")],
    )
    .unwrap();
    let mut statuses = Vec::new();
    for i in 0..3 {
        let body = format!(r#"{{"id":"evt_{i}","type":"ping"}}"#);
        let mut headers: Vec<(String, String)> = verifier
            .sign(&Message::new(body.as_bytes()))
            .unwrap()
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        headers.push(("Content-Type".to_owned(), JSON.to_owned()));
        let res = http(
            addr,
            "POST",
            "/webhooks/stripe",
            &headers,
            body.as_bytes(),
            None,
        )
        .await;
        statuses.push(res.status);
        if res.status == 429 {
            assert!(
                res.head.to_ascii_lowercase().contains("retry-after"),
                "{}",
                res.head
            );
        }
    }
    assert_eq!(statuses, [200, 200, 429]);

    // Bad configurations are refused at start.
    assert!(Config::from_toml("listen = 1").is_err());
    assert!(Config::from_toml("[routes.x]\nprovider = \"stripe\"\nsecret = [\"a\"]").is_err());
    let no_url = Config::from_toml(
        "[routes.t]\nprovider = \"twilio\"\nsecrets = [\"twilio-auth-token-0123456789\"]",
    )
    .unwrap();
    assert!(build(&no_url).await.is_err());
    let unknown =
        Config::from_toml("[routes.p]\nprovider = \"paypal\"\nsecrets = [\"a\"]").unwrap();
    assert!(build(&unknown).await.is_err());
}

/// `nonce_cap` caps the memory store's live replay ids: past it a new delivery is
/// refused with 503 (fail closed, the provider retries) while a retry of a remembered delivery
/// is still answered as a duplicate, not handled again; a shared store refuses the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_cap_caps_the_memory_store() {
    // The cap is split over the store's 64 shards (one id each here), so a shard that
    // already holds an id refuses the next one it is handed: within 65 deliveries at most.
    let mut config = Config::demo();
    config.nonce_cap = Some(64);
    let addr = start(&config).await;
    let mut accepted = 0;
    let mut refused = false;
    let mut first = None;
    for i in 0..=64 {
        let body = format!(r#"{{"id":"evt_cap_{i}","type":"ping"}}"#).into_bytes();
        let headers = signed("stripe", JSON, &[], &body);
        let res = http(addr, "POST", "/webhooks/stripe", &headers, &body, None).await;
        match res.status {
            200 => accepted += 1,
            503 => {
                refused = true;
                break;
            }
            other => panic!("delivery {i}: {other} {}", res.body),
        }
        first.get_or_insert((headers, body));
    }
    assert!(
        refused && (1..=64).contains(&accepted),
        "{accepted} accepted"
    );
    let (headers, body) = first.unwrap();
    let retry = http(addr, "POST", "/webhooks/stripe", &headers, &body, None).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert!(
        retry
            .head
            .to_ascii_lowercase()
            .contains("palisade-webhook-duplicate: completed"),
        "a remembered delivery is not handled again: {}",
        retry.head
    );

    let mut zero = Config::demo();
    zero.nonce_cap = Some(0);
    assert!(build(&zero).await.is_err());
    let mut shared = Config::demo();
    shared.store = "redis://127.0.0.1:6379/".to_owned();
    shared.nonce_cap = Some(10);
    let err = build(&shared).await.err().unwrap().to_string();
    assert!(err.contains("nonce_cap"), "{err}");
}
