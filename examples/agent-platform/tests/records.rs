//! Assistants, calls, bookings and the audit log: encryption and masks (palisade-pii), E.164
//! search (palisade-sanitize + blind indexes), the SSRF guard, ownership (palisade-rbac),
//! reasons and the hash chain (palisade-audit).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::Router;
use axum::routing::get;
use common::Harness;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn provider_keys_are_masked_and_read_in_clear_by_admins_with_a_reason() {
    let mut h = Harness::new("assist").await;
    let t = h.tokens().await;
    let a = h
        .post(
            "/assistants",
            &t.a_admin,
            json!({"name": "Riley\u{202E}", "provider_api_key": "sk-live-0123456789abcdef"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert!(!String::from_utf8_lossy(&a.raw).contains("0123456789abcdef"));
    assert_eq!(a.body["name"], "Riley", "bidi override removed");
    let id = a.body["id"].as_i64().unwrap();
    let shown = h.get(&format!("/assistants/{id}"), &t.a_agent).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&shown.raw).contains("0123456789abcdef"));
    let path = format!("/assistants/{id}/credential");
    assert_eq!(
        h.get_with_reason(&path, &t.a_agent).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get_with_reason(&path, &t.alice).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get(&path, &t.a_admin).await.status,
        StatusCode::BAD_REQUEST,
        "no reason"
    );
    let clear = h.get_with_reason(&path, &t.a_admin).await;
    assert_eq!(clear.status, StatusCode::OK);
    assert_eq!(clear.body["provider_api_key"], "sk-live-0123456789abcdef");

    let log = h.get("/audit", &t.a_admin).await;
    let events = log.body["events"].as_array().unwrap();
    let reads: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "credential.read")
        .collect();
    assert_eq!(
        reads.len(),
        3,
        "the agent's, alice's (denied) and the admin's: {reads:?}"
    );
    let admin = me(&h, &t.a_admin).await;
    assert!(
        reads.iter().any(|e| e["outcome"] == "success"
            && e["reason"] == "ticket 4711"
            && e["actor"] == admin)
    );
    h.drop_schema().await;
}

async fn me(h: &Harness, token: &str) -> serde_json::Value {
    h.get("/me", token).await.body["subject"].clone()
}

#[tokio::test]
async fn calls_are_found_by_phone_however_written_and_stored_encrypted() {
    let mut h = Harness::new("calls").await;
    let t = h.tokens().await;
    let a = h
        .post(
            "/calls",
            &t.a_agent,
            json!({"caller_phone": "(415) 555-0199"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["caller_phone"], "+1******0199");
    let id = a.body["id"].as_i64().unwrap();
    for written in [
        "%2B14155550199",
        "415.555.0199",
        "(415)%20555-0199",
        "%2B1%20415%20555%200199",
    ] {
        let found = h.get(&format!("/calls?phone={written}"), &t.a_agent).await;
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.body["calls"][0]["id"], id, "{written}");
    }
    assert_eq!(
        h.post("/calls", &t.a_agent, json!({"caller_phone": "12"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // At rest: no digits of the number in the row, only ciphertext, index and mask.
    use palisade_postgres::sqlx::{self, AssertSqlSafe, Row};
    let pool = sqlx::PgPool::connect(&common::database_url())
        .await
        .unwrap();
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT phone_enc, phone_idx FROM \"{}\".calls WHERE id = $1",
        h.schema
    )))
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let enc: String = row.get("phone_enc");
    assert!(enc.starts_with("pii1.") && !enc.contains("5550199"));

    // Export and anonymization: admins, with a reason.
    assert_eq!(
        h.get_with_reason("/calls/export", &t.a_agent).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get("/calls/export", &t.a_admin).await.status,
        StatusCode::BAD_REQUEST
    );
    let export = h.get_with_reason("/calls/export", &t.a_admin).await;
    assert_eq!(export.body["calls"][0]["caller_phone"], "+14155550199");
    let path = format!("/calls/{id}/anonymize");
    let no_reason = h
        .send(Method::POST, &path, Some(&t.a_admin), None, &[])
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    let done = h
        .send(
            Method::POST,
            &path,
            Some(&t.a_admin),
            None,
            &[("x-audit-reason", "erasure request")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let found = h.get("/calls?phone=%2B14155550199", &t.a_agent).await;
    assert!(found.body["calls"].as_array().unwrap().is_empty());
    let log = h.get("/audit", &t.a_admin).await;
    let actions: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "success")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"export") && actions.contains(&"anonymize"),
        "{actions:?}"
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn recording_urls_go_through_the_ssrf_guard() {
    // A local recording server, allowed explicitly (its network exempted, its port allowed).
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Router::new().route("/rec.wav", get(|| async { "RIFF-audio" }));
    tokio::spawn(async move { axum::serve(listener, server).await });
    let mut h = Harness::with_config("ssrf", |c| {
        c.ssrf.exempt_nets = vec!["127.0.0.2/32".into()];
        c.ssrf.allow_ports = vec![port];
        c.ssrf.allow_ip_literals = true;
    })
    .await;
    let t = h.tokens().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/rec.wav",
        "http://127.0.0.1/rec.wav",
        "http://[::ffff:127.0.0.1]/rec.wav",
        "http://2130706433/rec.wav",
        "http://0x7f.1/rec.wav",
        "http://localhost/rec.wav",
        "http://metadata.google.internal/",
        "file:///etc/passwd",
        "http://127.0.0.2:22/rec.wav",
    ] {
        let a = h
            .post(
                "/calls",
                &t.a_agent,
                json!({"caller_phone": "+14155550123", "audio_url": url}),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {:?}",
            a.body
        );
    }
    let url = format!("http://127.0.0.2:{port}/rec.wav");
    let a = h
        .post(
            "/calls",
            &t.a_agent,
            json!({"caller_phone": "+14155550123", "audio_url": url}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.body["id"].as_i64().unwrap();
    let path = format!("/calls/{id}/recording");
    assert_eq!(
        h.get(&path, &t.a_agent).await.status,
        StatusCode::BAD_REQUEST,
        "a reason is required"
    );
    assert_eq!(
        h.get_with_reason(&path, &t.alice).await.status,
        StatusCode::FORBIDDEN
    );
    let rec = h.get_with_reason(&path, &t.a_agent).await;
    assert_eq!(rec.status, StatusCode::OK);
    assert_eq!(rec.raw, b"RIFF-audio");
    let log = h.get("/audit", &t.a_admin).await;
    let recording = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == "success" && e["resource"] == format!("recording:{id}"))
        .cloned();
    assert_eq!(recording.unwrap()["reason"], "ticket 4711");
    h.drop_schema().await;
}

#[tokio::test]
async fn customers_read_and_change_only_their_own_bookings() {
    let mut h = Harness::new("book").await;
    let t = h.tokens().await;
    let a = h
        .post(
            "/bookings",
            &t.alice,
            json!({"slot": "tue 10:00", "note": "cleaning"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let id = a.body["id"].as_i64().unwrap();
    let path = format!("/bookings/{id}");
    assert_eq!(h.get(&path, &t.alice).await.status, StatusCode::OK);
    assert_eq!(h.get(&path, &t.bob).await.status, StatusCode::NOT_FOUND);
    let change = |token: String| {
        let h = &h;
        let path = path.clone();
        async move {
            h.send(
                Method::PATCH,
                &path,
                Some(&token),
                Some(json!({"note": "moved"})),
                &[],
            )
            .await
            .status
        }
    };
    assert_eq!(change(t.bob.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(change(t.alice.clone()).await, StatusCode::OK);
    assert_eq!(
        change(t.a_agent.clone()).await,
        StatusCode::OK,
        "staff: bookings:manage"
    );
    assert_eq!(h.get("/bookings", &t.bob).await.body["bookings"], json!([]));
    assert_eq!(
        h.get("/bookings", &t.alice).await.body["bookings"][0]["id"],
        id
    );
    assert_eq!(
        h.get("/bookings", &t.a_agent).await.body["bookings"][0]["note"],
        "moved"
    );
    // Customers have no call permissions.
    assert_eq!(
        h.get("/calls", &t.alice).await.status,
        StatusCode::FORBIDDEN
    );
    h.drop_schema().await;
}

#[tokio::test]
async fn the_audit_chain_verifies_and_only_admins_read_it() {
    let mut h = Harness::new("audit").await;
    let t = h.tokens().await;
    let a = h
        .post(
            "/assistants",
            &t.a_admin,
            json!({"name": "R", "provider_api_key": "sk-0123456789"}),
        )
        .await;
    let id = a.body["id"].as_i64().unwrap();
    for _ in 0..3 {
        h.get_with_reason(&format!("/assistants/{id}/credential"), &t.a_admin)
            .await;
    }
    assert_eq!(
        h.get("/audit", &t.a_agent).await.status,
        StatusCode::FORBIDDEN
    );
    let v = h.get("/audit/verify", &t.a_admin).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body, json!({"valid": true, "events": 3}));

    // A row changed behind the service's back (the table refuses UPDATE: disable its trigger
    // as an attacker with the database's owner rights would) is named by its seq.
    use palisade_postgres::sqlx::{self, AssertSqlSafe};
    let pool = sqlx::PgPool::connect(&common::database_url())
        .await
        .unwrap();
    let s = &h.schema;
    for sql in [
        format!("ALTER TABLE \"{s}\".audit_events DISABLE TRIGGER USER"),
        format!("UPDATE \"{s}\".audit_events SET reason = 'routine' WHERE seq = 2"),
    ] {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    let v = h.get("/audit/verify", &t.a_admin).await;
    assert_eq!(v.status, StatusCode::CONFLICT);
    assert_eq!(v.body["seq"], 2);
    h.drop_schema().await;
}
