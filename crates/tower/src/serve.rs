//! Serving an axum router the way palisade-tower's layers expect (feature `serve`).
//!
//! [`RateLimitLayer`](crate::RateLimitLayer)'s default key and the audit and failed-attempt
//! records read the client's address from axum's `ConnectInfo<SocketAddr>` extension (see
//! [`ClientIp`](crate::ClientIp)). `axum::serve(listener, router)` alone does not insert it,
//! so [`serve`] always builds the service with
//! `into_make_service_with_connect_info::<SocketAddr>()`, and stops with a graceful
//! shutdown: once `shutdown` completes, no new connection is accepted and the requests in
//! flight finish (a claimed webhook delivery is completed, not left to its lease).

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

/// Serves `router` on `listener`, with the peer address in every request's extensions
/// (`ConnectInfo<SocketAddr>`), until `shutdown` completes; then lets the requests in flight
/// finish and returns.
///
/// # Errors
/// The listener's I/O error (`axum::serve`'s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill` and container runtimes
/// send); the future to pass to [`serve`] as `shutdown`. A signal that cannot be listened to
/// is ignored rather than completing at once.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
