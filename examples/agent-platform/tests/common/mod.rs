//! The harness of the integration tests: the service in-process on the real Postgres
//! (`PALISADE_POSTGRES_URL`, default the server of `.ci/services`), in a schema of its own per
//! test, with two tenants (acme on the pro tier, globex on the free tier) and their users.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use agent_platform::{Config, DEMO_PASSWORD, NewUser, Platform, build};
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

pub fn database_url() -> String {
    std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// An answer: status, headers, JSON body (`Value::Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

pub struct Harness {
    pub platform: Platform,
    pub schema: String,
    /// The client address requests come from (rate limits key on it).
    pub peer: SocketAddr,
}

/// Users created in every harness: `(tenant, role, email, phone)`.
pub const USERS: [(&str, &str, &str, &str); 6] = [
    ("acme", "admin", "admin@acme.test", "+14155550100"),
    ("acme", "agent", "agent@acme.test", "+14155550101"),
    ("acme", "customer", "alice@acme.test", "+14155550102"),
    ("acme", "customer", "bob@acme.test", "+14155550103"),
    ("globex", "admin", "admin@globex.test", "+14155550200"),
    ("globex", "customer", "carol@globex.test", "+14155550201"),
];

impl Harness {
    pub async fn new(name: &str) -> Self {
        Self::with_config(name, |_| {}).await
    }

    pub async fn with_config(name: &str, adjust: impl FnOnce(&mut Config)) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!("ap_t_{name}_{}_{nanos}", std::process::id());
        let mut config = Config::demo();
        config.schema = schema.clone();
        adjust(&mut config);
        let platform = build(&config, &database_url()).await.expect("build");
        platform.create_tenant("acme", "Acme", "pro").await.unwrap();
        platform
            .create_tenant("globex", "Globex", "free")
            .await
            .unwrap();
        for (tenant, role, email, phone) in USERS {
            platform
                .create_user(&NewUser {
                    tenant,
                    role,
                    email,
                    phone: Some(phone),
                    password: Some(DEMO_PASSWORD),
                })
                .await
                .unwrap();
        }
        Self {
            platform,
            schema,
            peer: "198.51.100.7:40000".parse().unwrap(),
        }
    }

    /// Sends a request; `credential` goes in `Authorization: Bearer`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        credential: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = credential {
            req = req.header("authorization", format!("Bearer {c}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let res = self.platform.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let raw = to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn get(&self, path: &str, credential: &str) -> Answer {
        self.send(Method::GET, path, Some(credential), None, &[])
            .await
    }

    pub async fn post(&self, path: &str, credential: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(credential), Some(body), &[])
            .await
    }

    /// With `X-Audit-Reason`.
    pub async fn get_with_reason(&self, path: &str, credential: &str) -> Answer {
        self.send(
            Method::GET,
            path,
            Some(credential),
            None,
            &[("x-audit-reason", "ticket 4711")],
        )
        .await
    }

    /// A session token for `email` in `tenant` (password sign-in).
    pub async fn sign_in(&self, tenant: &str, email: &str) -> String {
        let a = self
            .send(
                Method::POST,
                "/auth/password",
                None,
                Some(json!({"tenant": tenant, "email": email, "password": DEMO_PASSWORD})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "sign-in of {email}: {:?}", a.body);
        a.body["token"].as_str().unwrap().to_owned()
    }

    /// Session tokens, each from its own client address (the auth limit is 5 a minute per IP).
    pub async fn tokens(&mut self) -> Tokens {
        let mut out = Vec::new();
        for (i, (tenant, _, email, _)) in USERS.iter().enumerate() {
            self.peer = format!("198.51.100.{}:40000", 10 + i).parse().unwrap();
            out.push(self.sign_in(tenant, email).await);
        }
        self.peer = "198.51.100.7:40000".parse().unwrap();
        let mut it = out.into_iter();
        let mut next = || it.next().unwrap();
        Tokens {
            a_admin: next(),
            a_agent: next(),
            alice: next(),
            bob: next(),
            b_admin: next(),
            carol: next(),
        }
    }

    pub async fn drop_schema(self) {
        use palisade_postgres::sqlx::{self, AssertSqlSafe};
        let pool = sqlx::PgPool::connect(&database_url()).await.unwrap();
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.schema
        )))
        .execute(&pool)
        .await
        .unwrap();
    }
}

pub struct Tokens {
    pub a_admin: String,
    pub a_agent: String,
    pub alice: String,
    pub bob: String,
    pub b_admin: String,
    pub carol: String,
}
