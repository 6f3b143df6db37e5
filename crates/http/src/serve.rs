//! The accept loop: HTTP/1 and HTTP/2 with a header-read timeout, client addresses for the
//! handlers (resolved through trusted proxies), and graceful shutdown that lets in-flight
//! requests finish.
//!
//! `axum::serve` offers no header-read timeout, which leaves the server open to slowloris
//! clients; hyper has one, so connections are served with hyper-util directly.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use growdesk_service::addresses::TrustedProxies;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::client_address;
use crate::extract::ClientIp;

use crate::refusals::ProblemRefusals;

/// How the accept loop treats connections.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A client that has not sent its whole request head by then is disconnected.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for open connections before giving up on them.
    pub shutdown_grace: Duration,
    /// Peers whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}

/// Largest request head (request line and headers) accepted.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops accepting, asks
/// every connection to finish its current request, and waits up to the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: CancellationToken,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    // Request heads over 64 KiB are refused (431 on HTTP/1), bounding each connection's memory;
    // bodies stream and are limited separately.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol()
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let graceful = GracefulShutdown::new();

    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Usually EMFILE: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let router = router.clone();
        let trusted_proxies = options.trusted_proxies.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            // The only address handlers and logs get, so none of them can use the proxy's.
            let client = client_address::resolve(remote.ip(), request.headers(), &trusted_proxies);
            request.extensions_mut().insert(ClientIp(client));
            let router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .oneshot(request)
                        .await
                        .unwrap_or_else(|never| match never {}),
                )
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(ProblemRefusals::new(stream)), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!("connections still open after the shutdown grace period; closing them");
        }
    }
}
