//! The reqwest integration against local servers: a redirect to `127.0.0.1` is refused before
//! any connection to it, and a name resolving to loopback is refused at connect time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::error::Error as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use palisade_sanitize::ip::IpBlock;
use palisade_sanitize::reqwest::{Guarded, client_builder};
use palisade_sanitize::resolve::resolve_and_check;
use palisade_sanitize::url::{BlockReason, UrlError, UrlPolicy};

/// Serves `router` on `ip`, port chosen by the system.
async fn serve(ip: &str, router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The "internal" server on 127.0.0.1: counts the requests it gets.
async fn internal() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let router = Router::new().route(
        "/secret",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "internal secret" }
        }),
    );
    (serve("127.0.0.1", router).await, hits)
}

/// The "public" server (127.0.0.2, exempted by the test policy only): redirects to `target`.
async fn redirector(target: String) -> SocketAddr {
    let router = Router::new().route(
        "/start",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, target)]) }
        }),
    );
    serve("127.0.0.2", router).await
}

/// The first error of type `T` in a reqwest error's source chain.
fn source_of<T: std::error::Error + 'static>(e: &reqwest::Error) -> Option<&T> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(u) = s.downcast_ref::<T>() {
            return Some(u);
        }
        source = s.source();
    }
    None
}

/// The `UrlError` in a reqwest error's source chain.
fn url_error(e: &reqwest::Error) -> Option<&UrlError> {
    source_of(e)
}

/// The first hop (127.0.0.2, allowed by the test policy) redirects to 127.0.0.1: the redirect
/// policy refuses it and the internal server is never reached.
#[tokio::test]
async fn redirect_to_loopback_is_refused() {
    let (secret, hits) = internal().await;
    let start = redirector(format!("http://127.0.0.1:{}/secret", secret.port())).await;
    let policy = UrlPolicy::new()
        .exempt_net("127.0.0.2/32".parse().unwrap())
        .allow_any_port();
    let client = Guarded::new(policy).unwrap();
    let err = client
        .get(&format!("http://127.0.0.2:{}/start", start.port()))
        .unwrap()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    match url_error(&err) {
        Some(UrlError::Blocked {
            reason: BlockReason::Address(IpBlock::V4 { addr, range }),
        }) => {
            assert_eq!(addr.to_string(), "127.0.0.1");
            assert_eq!(range.name, "Loopback");
        }
        other => panic!("expected a loopback refusal, got {other:?} from {err:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // Control: with loopback exempted too, the same redirect is followed (so the refusal
    // above is the policy's, not a broken test server).
    let open = UrlPolicy::new()
        .exempt_net("127.0.0.0/8".parse().unwrap())
        .allow_any_port();
    let body = Guarded::new(open)
        .unwrap()
        .get(&format!("http://127.0.0.2:{}/start", start.port()))
        .unwrap()
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "internal secret");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A redirect to `localhost` is refused by name, and a redirect to a mapped IPv6 loopback by
/// address.
#[tokio::test]
async fn redirect_to_localhost_and_mapped_is_refused() {
    let (secret, hits) = internal().await;
    for target in [
        format!("http://localhost:{}/secret", secret.port()),
        format!("http://[::ffff:127.0.0.1]:{}/secret", secret.port()),
        format!("http://2130706433:{}/secret", secret.port()),
    ] {
        let start = redirector(target.clone()).await;
        let policy = UrlPolicy::new()
            .exempt_net("127.0.0.2/32".parse().unwrap())
            .allow_any_port();
        let err = Guarded::new(policy)
            .unwrap()
            .get(&format!("http://127.0.0.2:{}/start", start.port()))
            .unwrap()
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(url_error(&err), Some(UrlError::Blocked { .. })),
            "{target}: {err:?}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

/// The resolver refuses at connect time: a client used without the URL check (a name the
/// policy lets through by name) still cannot connect to the loopback address it resolves to.
#[tokio::test]
async fn resolver_refuses_loopback_answers() {
    let (secret, hits) = internal().await;
    let no_name_rules: [&str; 0] = [];
    let policy = Arc::new(
        UrlPolicy::new()
            .blocked_name_suffixes(no_name_rules)
            .allow_single_label_names(true)
            .allow_any_port(),
    );
    let client = client_builder(Arc::clone(&policy)).build().unwrap();
    let err = client
        .get(format!("http://localhost:{}/secret", secret.port()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(
        matches!(
            url_error(&err),
            Some(UrlError::Blocked {
                reason: BlockReason::ResolvesTo { .. }
            })
        ),
        "{err:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);

    // resolve_and_check refuses the same name: every address of the answer must pass.
    let url = policy.check("http://localhost/").unwrap();
    let refused = resolve_and_check(&policy, &url).await.unwrap_err();
    assert!(
        matches!(
            refused,
            UrlError::Blocked {
                reason: BlockReason::ResolvesTo { .. }
            }
        ),
        "{refused:?}"
    );
    // An IP literal is returned as is (already checked), with the URL's port.
    let literal = policy.check("https://93.184.216.34:8443/").unwrap();
    assert_eq!(
        resolve_and_check(&policy, &literal).await.unwrap(),
        ["93.184.216.34:8443".parse::<SocketAddr>().unwrap()]
    );
}

/// `client_builder` follows [`DEFAULT_MAX_REDIRECTS`] redirects (each one checked) and refuses
/// the next one with [`TooManyRedirects`].
#[tokio::test]
async fn redirects_are_followed_up_to_the_maximum() {
    use axum::extract::Path;
    use palisade_sanitize::reqwest::{DEFAULT_MAX_REDIRECTS, TooManyRedirects, client_builder};

    // `/hop/N` redirects to `/hop/N-1`; `/hop/0` answers.
    let router = Router::new().route(
        "/hop/{n}",
        get(|Path(n): Path<usize>| async move {
            match n.checked_sub(1) {
                Some(next) => (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("/hop/{next}"))],
                    "",
                )
                    .into_response(),
                None => "arrived".into_response(),
            }
        }),
    );
    let addr = serve("127.0.0.2", router).await;
    let policy = UrlPolicy::new()
        .exempt_net("127.0.0.2/32".parse().unwrap())
        .allow_any_port();
    let client = client_builder(Arc::new(policy)).build().unwrap();
    let get = |n: usize| {
        client
            .get(format!("http://127.0.0.2:{}/hop/{n}", addr.port()))
            .send()
    };

    let body = get(DEFAULT_MAX_REDIRECTS)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "arrived");
    let err = get(DEFAULT_MAX_REDIRECTS + 1).await.unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    let found = source_of::<TooManyRedirects>(&err).map(|t| t.max);
    assert_eq!(found, Some(DEFAULT_MAX_REDIRECTS), "{err:?}");
}
