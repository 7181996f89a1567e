//! Who is calling: password and SMS sign-in (palisade-otp), session JWTs (palisade-auth),
//! API keys and their scopes, the retired shared token, the per-IP limit of sign-ins.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use agent_platform::{DEMO_LEGACY_TOKEN, DEMO_PASSWORD};
use common::Harness;
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn otp(h: &Harness, path: &str, body: Value) -> common::Answer {
    h.send(Method::POST, path, None, Some(body), &[]).await
}

/// The code of the last SMS to `e164` in `tenant`'s outbox.
async fn last_code(h: &Harness, tenant: &str, e164: &str) -> String {
    let sms = h.platform.pending_sms(tenant).await.unwrap();
    let (_, to, text) = sms.iter().rev().find(|(_, to, _)| to == e164).unwrap();
    assert_eq!(to, e164);
    text.rsplit(' ').next().unwrap().to_owned()
}

#[tokio::test]
async fn password_sign_in_issues_a_session_and_refuses_wrong_passwords() {
    let h = Harness::new("pw").await;
    let token = h.sign_in("acme", "agent@acme.test").await;
    assert_eq!(token.split('.').count(), 3, "a compact JWS");
    let me = h.get("/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["tenant"], "acme");
    assert_eq!(me.body["roles"], json!(["agent"]));
    for (tenant, email, password) in [
        ("acme", "agent@acme.test", "wrong"),
        ("acme", "nobody@acme.test", DEMO_PASSWORD),
        ("globex", "agent@acme.test", DEMO_PASSWORD),
    ] {
        let a = otp(
            &h,
            "/auth/password",
            json!({"tenant": tenant, "email": email, "password": password}),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{tenant} {email}");
    }
    // The sixth attempt within a minute from one address (auth: 5/min per IP and route).
    let a = otp(
        &h,
        "/auth/password",
        json!({"tenant": "acme", "email": "agent@acme.test", "password": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = otp(
        &h,
        "/auth/password",
        json!({"tenant": "acme", "email": "agent@acme.test", "password": DEMO_PASSWORD}),
    )
    .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.contains_key("retry-after"));
    assert!(a.headers.contains_key("ratelimit-policy"));
    // A forged token (signed with another key) is refused.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[2] = "AAAA".into();
    assert_eq!(
        h.get("/me", &parts.join(".")).await.status,
        StatusCode::UNAUTHORIZED
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn sms_codes_sign_in_once_and_lock_after_the_third_wrong_attempt() {
    let mut h = Harness::new("otp").await;
    // An unknown number gets the same answer, and no message.
    let a = otp(
        &h,
        "/auth/otp/start",
        json!({"tenant": "acme", "phone": "+14155559999"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert!(h.platform.pending_sms("acme").await.unwrap().is_empty());

    let a = otp(
        &h,
        "/auth/otp/start",
        json!({"tenant": "acme", "phone": "(415) 555-0101"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let code = last_code(&h, "acme", "+14155550101").await;
    assert_eq!(code.len(), 6);
    // Within the cooldown, no second code.
    let again = otp(
        &h,
        "/auth/otp/start",
        json!({"tenant": "acme", "phone": "4155550101"}),
    )
    .await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    let ok = otp(
        &h,
        "/auth/otp/verify",
        json!({"tenant": "acme", "phone": "+1 415 555 0101", "code": code}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let me = h.get("/me", ok.body["token"].as_str().unwrap()).await;
    assert_eq!(me.body["roles"], json!(["agent"]));
    // Used once.
    let reuse = otp(
        &h,
        "/auth/otp/verify",
        json!({"tenant": "acme", "phone": "+14155550101", "code": code}),
    )
    .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);

    // Another client address: the attempts below are the challenge's, not the route limit's.
    h.peer = "198.51.100.99:40000".parse().unwrap();
    let a = otp(
        &h,
        "/auth/otp/start",
        json!({"tenant": "acme", "phone": "+14155550102"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let code = last_code(&h, "acme", "+14155550102").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for left in [2, 1, 0] {
        let a = otp(
            &h,
            "/auth/otp/verify",
            json!({"tenant": "acme", "phone": "+14155550102", "code": wrong}),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.body["attempts_left"], left);
    }
    let locked = otp(
        &h,
        "/auth/otp/verify",
        json!({"tenant": "acme", "phone": "+14155550102", "code": code}),
    )
    .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right code after the lock"
    );
    assert_eq!(locked.body["error"], "code locked: request a new one");
    // The code is in another tenant's key space: globex cannot use acme's.
    let other = otp(
        &h,
        "/auth/otp/verify",
        json!({"tenant": "globex", "phone": "+14155550102", "code": code}),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    h.drop_schema().await;
}

#[tokio::test]
async fn api_keys_carry_scopes_and_the_retired_token_is_refused() {
    let h = Harness::new("keys").await;
    let admin = h.sign_in("acme", "admin@acme.test").await;
    let agent = h.sign_in("acme", "agent@acme.test").await;
    let issued = h
        .post(
            "/api-keys",
            &admin,
            json!({"client": "crm-sync", "scopes": "calls:read"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED);
    let read_key = issued.body["key"].as_str().unwrap().to_owned();
    assert!(read_key.starts_with("ap_"));
    let issued = h
        .post(
            "/api-keys",
            &admin,
            json!({"client": "ops", "scopes": "admin:*"}),
        )
        .await;
    let admin_key = issued.body["key"].as_str().unwrap().to_owned();
    assert_eq!(
        h.post(
            "/api-keys",
            &agent,
            json!({"client": "x", "scopes": "admin:*"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.post(
            "/api-keys",
            &admin,
            json!({"client": "x", "scopes": "admin*"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(h.get("/calls", &read_key).await.status, StatusCode::OK);
    // Scope too narrow.
    let a = h
        .post("/calls", &read_key, json!({"caller_phone": "+14155550123"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/audit", &read_key).await.status,
        StatusCode::FORBIDDEN
    );
    // `admin:*` is every `admin:…` permission, and nothing else.
    assert_eq!(h.get("/audit", &admin_key).await.status, StatusCode::OK);
    assert_eq!(
        h.get("/calls", &admin_key).await.status,
        StatusCode::FORBIDDEN
    );
    // A key with one character changed fails its checksum: refused.
    let mut bad = read_key.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).unwrap();
    assert_eq!(h.get("/calls", &bad).await.status, StatusCode::UNAUTHORIZED);

    // The retired shared token: 401, whatever else the request has.
    let a = h.get("/calls", DEMO_LEGACY_TOKEN).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // No credential; a credential in the query string.
    assert_eq!(
        h.send(Method::GET, "/calls", None, None, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let q = h
        .send(
            Method::GET,
            &format!("/calls?api_key={read_key}"),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(q.status, StatusCode::BAD_REQUEST);
    h.drop_schema().await;
}
