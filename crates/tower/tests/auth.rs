//! `AuthLayer` (feature `auth`): the Principal in the extensions, RFC 6750 answers, the
//! legacy kill switch whatever else the request carries, never the query string, failure
//! counters by reason, and failed attempts per client fed into palisade-ratelimit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use palisade_auth::{
    ApiKeyPrefix, ApiKeys, Authenticator, ExposeSecret, KeySpec, LegacyTokens, MemoryApiKeyStore,
    Method, Pepper, Peppers, Principal, ScopeSet, SecretBox,
};
use palisade_ratelimit::{KeyBuilder, Limit, MemoryStore, Policy, Quota, RateLimitStore};
use palisade_tower::{AuthLayer, ClientIp, RateLimitLayer};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn};

const LEGACY: &str = "shared-token-of-2019";

type Svc = tower::util::BoxCloneService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

/// A store with one live and one revoked key; returns the authenticator and both keys.
async fn authenticator() -> (Authenticator, String, String) {
    let peppers =
        Peppers::new(Pepper::new("p1", SecretBox::new(Box::from([3u8; 32].as_slice()))).unwrap());
    let keys = ApiKeys::new(
        MemoryApiKeyStore::new(),
        peppers,
        ApiKeyPrefix::new("pal").unwrap(),
    );
    let spec = KeySpec {
        tenant: "acme".parse().unwrap(),
        owner: "client-7".parse().unwrap(),
        scopes: ScopeSet::parse_list("calls:read").unwrap(),
        ttl: None,
    };
    let live = keys.issue(spec.clone()).await.unwrap();
    let revoked = keys.issue(spec).await.unwrap();
    keys.revoke(&revoked.record.id).await.unwrap();
    let auth = Authenticator::new()
        .api_keys(keys)
        .legacy_tokens(LegacyTokens::new().with_token(LEGACY.as_bytes()));
    (
        auth,
        live.key.expose_secret().to_owned(),
        revoked.key.expose_secret().to_owned(),
    )
}

/// The handler: 200 with the principal's tenant/subject and the method.
fn handler() -> Svc {
    tower::util::BoxCloneService::new(service_fn(|req: Request<Full<Bytes>>| async move {
        let p = req.extensions().get::<Principal>().unwrap();
        let m = req.extensions().get::<Method>().unwrap();
        let body = format!("{}/{} {}", p.tenant(), p.subject(), m.as_str());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    }))
}

fn request(from: &str, headers: &[(&str, &str)], uri: &str) -> Request<Full<Bytes>> {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut r = b.body(Full::default()).unwrap();
    r.extensions_mut()
        .insert(from.parse::<SocketAddr>().unwrap());
    r
}

async fn send(svc: &mut Svc, req: Request<Full<Bytes>>) -> (StatusCode, Option<String>, String) {
    use http_body_util::BodyExt;
    let res = svc.ready().await.unwrap().call(req).await.unwrap();
    let www = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, www, String::from_utf8_lossy(&body).into_owned())
}

fn layer(auth: Authenticator) -> AuthLayer {
    AuthLayer::new(auth)
        .credential_header(HeaderName::from_static("x-api-key"))
        .realm("api")
}

#[tokio::test]
async fn a_valid_key_puts_the_principal_into_the_extensions() {
    let (auth, live, _) = authenticator().await;
    let mut svc = Svc::new(layer(auth).layer(handler()));
    let bearer = format!("Bearer {live}");
    let (status, www, body) = send(
        &mut svc,
        request("192.0.2.1:1", &[("authorization", &bearer)], "/"),
    )
    .await;
    assert_eq!(
        (status, www, body.as_str()),
        (StatusCode::OK, None, "acme/client-7 api_key")
    );
    let (status, _, body) = send(
        &mut svc,
        request("192.0.2.1:1", &[("x-api-key", &live)], "/"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "acme/client-7 api_key")
    );
}

#[tokio::test]
async fn refusals_follow_rfc_6750() {
    let (auth, live, revoked) = authenticator().await;
    let mut svc = Svc::new(layer(auth).layer(handler()));
    let bearer = |t: &str| format!("Bearer {t}");
    let invalid_token = Some(r#"Bearer realm="api", error="invalid_token""#.to_owned());
    let invalid_request = Some(r#"Bearer realm="api", error="invalid_request""#.to_owned());
    let mut typo = live.clone().into_bytes();
    let i = typo.len() - 9;
    typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    type Case<'a> = (Vec<(&'a str, String)>, &'a str, StatusCode, Option<String>);
    let cases: Vec<Case<'_>> = vec![
        // No credential: no error code.
        (
            vec![],
            "/",
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer realm="api""#.to_owned()),
        ),
        // Never from the query string.
        (
            vec![],
            &*Box::leak(format!("/?access_token={live}&api_key={live}").into_boxed_str()),
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer realm="api""#.to_owned()),
        ),
        (
            vec![("authorization", bearer(&revoked))],
            "/",
            StatusCode::UNAUTHORIZED,
            invalid_token.clone(),
        ),
        (
            vec![("authorization", bearer(&typo))],
            "/",
            StatusCode::UNAUTHORIZED,
            invalid_token.clone(),
        ),
        (
            vec![("authorization", format!("Basic {live}"))],
            "/",
            StatusCode::BAD_REQUEST,
            invalid_request.clone(),
        ),
        (
            vec![("authorization", bearer("opaque"))],
            "/",
            StatusCode::BAD_REQUEST,
            invalid_request.clone(),
        ),
        (
            vec![
                ("authorization", bearer(&live)),
                ("authorization", bearer(&live)),
            ],
            "/",
            StatusCode::BAD_REQUEST,
            invalid_request.clone(),
        ),
        (
            vec![
                ("authorization", bearer(&live)),
                ("x-api-key", live.clone()),
            ],
            "/",
            StatusCode::BAD_REQUEST,
            invalid_request,
        ),
        // The retired token: 401 whatever else the request carries.
        (
            vec![("authorization", bearer(LEGACY))],
            "/",
            StatusCode::UNAUTHORIZED,
            invalid_token.clone(),
        ),
        (
            vec![
                ("authorization", bearer(&live)),
                ("x-api-key", LEGACY.to_owned()),
            ],
            "/",
            StatusCode::UNAUTHORIZED,
            invalid_token,
        ),
    ];
    for (headers, uri, want_status, want_www) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, www, body) = send(&mut svc, request("192.0.2.1:1", &h, uri)).await;
        assert_eq!(
            (status, &www),
            (want_status, &want_www),
            "{headers:?} {uri}"
        );
        assert!(
            !body.contains("revoked") && !body.contains("checksum"),
            "{body}"
        );
    }
}

#[test]
fn failures_are_counted_by_reason() {
    #[derive(Clone, Default)]
    struct Names(Arc<Mutex<Vec<String>>>);
    impl metrics::Recorder for Names {
        fn describe_counter(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_gauge(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn register_counter(
            &self,
            key: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
            let label = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect::<Vec<_>>()
                .join(",");
            self.0
                .lock()
                .unwrap()
                .push(format!("{}{{{label}}}", key.name()));
            metrics::Counter::noop()
        }
        fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::noop()
        }
        fn register_histogram(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }
    let names = Names::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    metrics::with_local_recorder(&names, || {
        rt.block_on(async {
            let (auth, live, revoked) = authenticator().await;
            let mut svc = Svc::new(layer(auth).layer(handler()));
            for h in [
                format!("Bearer {live}"),
                format!("Bearer {revoked}"),
                format!("Bearer {LEGACY}"),
            ] {
                send(
                    &mut svc,
                    request("192.0.2.1:1", &[("authorization", &h)], "/"),
                )
                .await;
            }
            send(&mut svc, request("192.0.2.1:1", &[], "/")).await;
        });
    });
    assert_eq!(
        *names.0.lock().unwrap(),
        [
            "palisade_auth_successes_total{method=api_key}",
            "palisade_auth_failures_total{reason=revoked_api_key}",
            "palisade_auth_failures_total{reason=legacy_token}",
            "palisade_auth_failures_total{reason=missing_credential}",
        ]
    );
}

/// The recipe: failed attempts per client counted in a palisade-ratelimit store under a
/// policy with a penalty box; a `RateLimitLayer` in the same namespace and store, in front,
/// answers 429 to a blocked client before its credentials are looked at.
#[tokio::test]
async fn failed_attempts_per_client_feed_the_rate_limiter() {
    let (auth, live, _) = authenticator().await;
    let store = Arc::new(MemoryStore::new());
    // At most 3 failures a minute per client network; the 4th blocks it for 15 minutes.
    let failures = Arc::new(
        Policy::single(Limit::gcra("auth-failures", Quota::per_minute(3).unwrap()).unwrap())
            .unwrap()
            .with_block(Duration::from_secs(15 * 60)),
    );
    // Generous for ordinary traffic: only blocks matter here.
    let requests =
        Policy::single(Limit::gcra("requests", Quota::per_second(1000).unwrap()).unwrap()).unwrap();
    let hook_store = store.clone();
    let auth_layer = layer(auth).on_failure(ClientIp::new(), move |attempt| {
        let (store, policy) = (hook_store.clone(), failures.clone());
        async move {
            if let Some(net) = attempt.client {
                // The RateLimitLayer's key: its namespace, then the client network.
                let key = KeyBuilder::new("auth").ip(net.network()).build();
                let _ = store.apply(&key, &policy, 1).await;
            }
        }
    });
    let mut svc = Svc::new(
        ServiceBuilder::new()
            .layer(RateLimitLayer::new("auth", store.clone(), requests))
            .layer(auth_layer)
            .service(handler()),
    );
    let attacker = "198.51.100.7:4000";
    let wrong = [(
        "authorization",
        "Bearer pal_0000000000000000_0000000000000000000000000000000000000000000000000",
    )];
    for _ in 0..4 {
        let (status, _, _) = send(&mut svc, request(attacker, &wrong, "/")).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
    }
    // Blocked now, even with a valid key.
    let good = format!("Bearer {live}");
    let (status, _, _) = send(
        &mut svc,
        request(attacker, &[("authorization", &good)], "/"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another client is not.
    let (status, _, _) = send(
        &mut svc,
        request("203.0.113.9:1", &[("authorization", &good)], "/"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// The layer checks times against its clock: a retired shared token's grace period
/// (`allow_until`) holds until that clock reaches its end, whatever the system clock says.
#[tokio::test]
async fn token_times_are_checked_against_the_layer_clock() {
    use palisade_core::{ManualClock, Timestamp};
    const UNTIL: u64 = 2_000_000_000; // 2033: after the system clock of this test
    let migrating = Principal::new("acme".parse().unwrap(), "legacy-client".parse().unwrap());
    let auth = Authenticator::new().legacy_tokens(
        LegacyTokens::new()
            .with_token(LEGACY.as_bytes())
            .allow_until(UNTIL, migrating),
    );
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_secs(UNTIL - 1)));
    let mut svc = Svc::new(layer(auth).clock(clock.clone()).layer(handler()));
    let bearer = format!("Bearer {LEGACY}");
    let (status, _, body) = send(
        &mut svc,
        request("192.0.2.1:1", &[("authorization", &bearer)], "/"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "acme/legacy-client legacy_token")
    );
    clock.advance(Duration::from_secs(1));
    let (status, _, _) = send(
        &mut svc,
        request("192.0.2.1:1", &[("authorization", &bearer)], "/"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
