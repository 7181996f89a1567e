//! The README's axum example (`src/quickstart.rs`, verbatim: `--self-test` checks that the
//! README and `palisade-tower`'s crate docs carry it), with the `palisade` facade as the only
//! Palisade dependency.
//!
//! - `STRIPE_WEBHOOK_SECRET=whsec_… cargo run -p axum-quickstart`: serves it on 127.0.0.1:3000.
//! - `cargo run -p axum-quickstart -- --self-test` (CI): serves it on a loopback port, sends it a
//!   signed Stripe delivery, the same delivery again, a tampered and an unsigned one and
//!   `GET /healthz`,
//!   checks each answer, and exits 0 (1 with the first failed check otherwise).
#![forbid(unsafe_code)]
#![deny(warnings)]

// `pub fn app` and `pub fn main`, as the README writes them for a binary crate's root.
#[allow(unreachable_pub)]
mod quickstart;

use std::net::SocketAddr;

use palisade::webhook::{Message, SecretString, Stripe, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Error = Box<dyn std::error::Error>;

/// Where the example is published, each of which must contain `src/quickstart.rs` verbatim.
const COPIES: [(&str, &str); 2] = [
    ("README.md", include_str!("../../../README.md")),
    (
        "crates/tower/src/lib.md",
        include_str!("../../../crates/tower/src/lib.md"),
    ),
];
const QUICKSTART: &str = include_str!("quickstart.rs");

fn main() -> Result<(), Error> {
    if std::env::args().skip(1).any(|arg| arg == "--self-test") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(self_test())?;
        println!("self-test passed");
        Ok(())
    } else {
        quickstart::main()
    }
}

async fn self_test() -> Result<(), Error> {
    for (path, text) in COPIES {
        check(
            text.contains(QUICKSTART),
            &format!("{path} carries src/quickstart.rs verbatim"),
        )?;
    }

    let secret = "whsec_self_test_0123456789abcdef";
    let app = quickstart::app(SecretString::from(secret))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    // As Stripe would sign it.
    let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    let signer = Verifier::new(Stripe, [SecretString::from(secret)])?;
    let signed = signer.sign(&Message::new(body))?;
    let headers: Vec<(&str, &str)> = signed.iter().collect();

    let first = send(addr, "POST", "/webhooks/stripe", &headers, body).await?;
    check(
        first.starts_with("HTTP/1.1 200 "),
        "a signed delivery is accepted",
    )?;
    check(
        first.ends_with("payment_intent.succeeded evt_1 from stripe"),
        "the handler parsed the verified body",
    )?;
    let again = send(addr, "POST", "/webhooks/stripe", &headers, body).await?;
    check(
        again.starts_with("HTTP/1.1 200 ")
            && again
                .to_ascii_lowercase()
                .contains("palisade-webhook-duplicate: completed"),
        "the same delivery again is answered as a duplicate",
    )?;
    let tampered = br#"{"id":"evt_1","type":"payment_intent.canceled"}"#;
    let forged = send(addr, "POST", "/webhooks/stripe", &headers, tampered).await?;
    check(
        forged.starts_with("HTTP/1.1 401 "),
        "a tampered delivery is refused with 401",
    )?;
    let unsigned = send(addr, "POST", "/webhooks/stripe", &[], body).await?;
    check(
        unsigned.starts_with("HTTP/1.1 400 ") && unsigned.contains("missing header"),
        "an unsigned delivery is refused with 400",
    )?;
    let health = send(addr, "GET", "/healthz", &[], b"").await?;
    check(
        health.starts_with("HTTP/1.1 200 ") && health.ends_with("ok"),
        "other routes are not signature-checked",
    )?;

    server.abort();
    Ok(())
}

/// One HTTP/1.1 request on a new connection; the whole response as text.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<String, Error> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8(response)?)
}

fn check(ok: bool, what: &str) -> Result<(), Error> {
    if ok {
        println!("ok: {what}");
        Ok(())
    } else {
        Err(format!("self-test failed: {what}").into())
    }
}
