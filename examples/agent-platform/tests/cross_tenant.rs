//! The cross-tenant suite: a user of tenant A cannot read tenant B's calls, assistants,
//! credentials, bookings or audit events, by guessing ids or by searching. Every answer is
//! the one a missing record gets (404), or an empty search.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::Harness;
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_tenant_cannot_reach_another_tenants_records() {
    let mut h = Harness::new("xt").await;
    let t = h.tokens().await;

    // Tenant B's records.
    let b_assistant = h
        .post(
            "/assistants",
            &t.b_admin,
            json!({"name": "Sam", "provider_api_key": "sk-globex-secret-0001"}),
        )
        .await;
    assert_eq!(b_assistant.status, StatusCode::CREATED);
    let b_assistant = b_assistant.body["id"].as_i64().unwrap();
    let b_call = h
        .post(
            "/calls",
            &t.b_admin,
            json!({"caller_phone": "+1 415 555 0199"}),
        )
        .await;
    assert_eq!(b_call.status, StatusCode::CREATED);
    let b_call = b_call.body["id"].as_i64().unwrap();
    let b_booking = h
        .post("/bookings", &t.carol, json!({"slot": "mon 10:00"}))
        .await;
    assert_eq!(b_booking.status, StatusCode::CREATED);
    let b_booking = b_booking.body["id"].as_i64().unwrap();
    let read = h
        .get_with_reason(&format!("/assistants/{b_assistant}/credential"), &t.b_admin)
        .await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "B's own admin reads its credential"
    );

    // By id: every one answers 404, as a record that does not exist does.
    for (path, token) in [
        (format!("/assistants/{b_assistant}"), &t.a_admin),
        (format!("/calls/{b_call}"), &t.a_admin),
        (format!("/calls/{b_call}"), &t.a_agent),
        (format!("/bookings/{b_booking}"), &t.a_admin),
        (format!("/bookings/{b_booking}"), &t.a_agent),
        (format!("/bookings/{b_booking}"), &t.alice),
    ] {
        let a = h.get(&path, token).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {:?}", a.body);
    }
    for path in [
        format!("/assistants/{b_assistant}/credential"),
        format!("/calls/{b_call}/recording"),
    ] {
        let a = h.get_with_reason(&path, &t.a_admin).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&a.raw).contains("sk-globex"));
    }
    let a = h
        .send(
            http::Method::POST,
            &format!("/calls/{b_call}/anonymize"),
            Some(&t.a_admin),
            None,
            &[("x-audit-reason", "cleanup")],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = h
        .send(
            http::Method::PATCH,
            &format!("/bookings/{b_booking}"),
            Some(&t.a_admin),
            Some(json!({"note": "x"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // An id that exists nowhere answers the same.
    assert_eq!(
        h.get("/calls/999999", &t.a_admin).await.status,
        StatusCode::NOT_FOUND
    );

    // By search and listing: B's records never appear.
    let found = h.get("/calls?phone=(415)%20555-0199", &t.a_admin).await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["calls"].as_array().unwrap().len(), 0);
    let mine = h
        .post(
            "/calls",
            &t.a_agent,
            json!({"caller_phone": "415-555-0199"}),
        )
        .await;
    let mine = mine.body["id"].as_i64().unwrap();
    let found = h.get("/calls?phone=%2B14155550199", &t.a_admin).await;
    let ids: Vec<i64> = found.body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![mine], "the same number in B is not A's");
    for (path, key) in [
        ("/calls", "calls"),
        ("/assistants", "assistants"),
        ("/bookings", "bookings"),
    ] {
        let a = h.get(path, &t.a_admin).await;
        let list = a.body[key].as_array().unwrap();
        assert!(
            list.iter()
                .all(|r| r["id"].as_i64() != Some(b_call) || key != "calls")
        );
        assert!(
            list.iter()
                .all(|r| r["id"].as_i64() != Some(b_assistant) || key != "assistants")
        );
        assert!(
            list.iter()
                .all(|r| r["id"].as_i64() != Some(b_booking) || key != "bookings")
        );
    }
    let export = h.get_with_reason("/calls/export", &t.a_admin).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"].as_i64() != Some(b_call))
    );

    // Audit: A's log has none of B's events (B read its credential), and A's attempts on
    // B's records are recorded in A's log, not B's.
    let a_log = h.get("/audit", &t.a_admin).await;
    assert_eq!(a_log.status, StatusCode::OK);
    let a_events = a_log.body["events"].as_array().unwrap();
    assert!(
        a_events
            .iter()
            .all(|e| e["outcome"] != "success" || e["action"] != "credential.read")
    );
    assert!(
        a_events
            .iter()
            .any(|e| e["action"] == "credential.read" && e["outcome"] == "denied")
    );
    let b_log = h.get("/audit", &t.b_admin).await;
    let b_events = b_log.body["events"].as_array().unwrap();
    assert_eq!(
        b_events.len(),
        1,
        "B's log: its own credential read only: {b_events:?}"
    );
    assert_eq!(b_events[0]["action"], "credential.read");
    assert_eq!(b_events[0]["outcome"], "success");

    h.drop_schema().await;
}

#[tokio::test]
async fn an_api_key_acts_only_in_its_own_tenant() {
    let h = Harness::new("xtkey").await;
    let b_key = h
        .platform
        .issue_api_key("globex", "crm-sync", "calls:read")
        .await
        .unwrap();
    let a_key = h
        .platform
        .issue_api_key("acme", "ops", "calls:* assistants:*")
        .await
        .unwrap();
    let a_call = h
        .post("/calls", &a_key, json!({"caller_phone": "+14155550142"}))
        .await;
    assert_eq!(a_call.status, StatusCode::CREATED);
    let id = a_call.body["id"].as_i64().unwrap();
    assert_eq!(
        h.get(&format!("/calls/{id}"), &b_key).await.status,
        StatusCode::NOT_FOUND
    );
    let search = h.get("/calls?phone=%2B14155550142", &b_key).await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body["calls"].as_array().unwrap().is_empty());
    assert_eq!(
        h.get(&format!("/calls/{id}"), &a_key).await.status,
        StatusCode::OK
    );
    h.drop_schema().await;
}
