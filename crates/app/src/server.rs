//! `App`: the server assembled once from settings (the service, the socket hub, the router and
//! the bound port), then run until shut down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use growdesk_http::{AppState, Realtime, RouterOptions, ServeOptions, new_metrics, router, serve};
use growdesk_realtime::session::SessionSettings;
use growdesk_realtime::{Hub, HubLimits};
use growdesk_service::Service;
use growdesk_service::accounts::AdminBootstrap;
use growdesk_service::addresses::AddressGrouping;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::StartError;
use crate::assembly::build_service_with;
use crate::config::Settings;
use crate::signing_key::KeySource;

/// A server ready to run: database migrated, key loaded, first admin ensured, port bound.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    serve_options: ServeOptions,
    local_addr: SocketAddr,
    service: Service,
    hub: Hub,
    relay_poll: Duration,
    /// What start-up did about the first admin, for the binary to report.
    pub admin: AdminBootstrap,
    /// Where the signing key came from, for the binary to report.
    pub key_source: KeySource,
}

impl App {
    /// Builds the service from `settings` and binds its port.
    ///
    /// # Errors
    /// See `StartError`.
    pub async fn build(settings: &Settings) -> Result<Self, StartError> {
        // The hub first: the service asks it who is connected before mailing a reply.
        let hub = Hub::new(HubLimits {
            per_user: settings.ws_max_connections_per_user,
            per_ip: settings.ws_max_connections_per_ip,
            addresses: AddressGrouping::new(settings.rate_limit_ipv6_prefix),
            backlog: settings.ws_send_queue.max(1024),
        });
        let (service, key_source) = build_service_with(settings, Arc::new(hub.clone())).await?;
        let admin = service
            .operator()
            .bootstrap_admin(
                settings.admin_email.as_deref(),
                settings.admin_password.as_ref(),
            )
            .await
            .map_err(StartError::Bootstrap)?;
        let realtime = Arc::new(Realtime {
            hub: hub.clone(),
            session: SessionSettings {
                ping_interval: Duration::from_secs(settings.ws_ping_interval_secs.max(1)),
                send_queue: settings.ws_send_queue,
            },
            allowed_origins: settings.cors_origins.clone(),
        });
        let state = AppState {
            service: service.clone(),
            metrics: new_metrics(),
            realtime,
        };
        let router = router(
            state,
            &RouterOptions {
                max_body_bytes: settings.max_body_bytes,
                attachment_max_bytes: settings.attachment_max_bytes,
                request_timeout: Duration::from_secs(settings.request_timeout_secs),
                cors_origins: settings.cors_origins.clone(),
            },
        )?;
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.addr,
            source,
        })?;
        Ok(Self {
            listener,
            router,
            serve_options: ServeOptions {
                header_read_timeout: Duration::from_secs(settings.header_read_timeout_secs),
                shutdown_grace: Duration::from_secs(settings.shutdown_grace_secs.max(1)),
                trusted_proxies: settings.trusted_proxies.clone(),
            },
            local_addr,
            service,
            hub,
            relay_poll: Duration::from_millis(settings.realtime_poll_ms.max(10)),
            admin,
            key_source,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` is cancelled: then stops accepting, lets open requests finish,
    /// closes every socket with 1001, stops the relay and closes the database pool.
    pub async fn run(self, shutdown: CancellationToken) {
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(growdesk_realtime::relay::run(
            self.service.store().clone(),
            self.hub.clone(),
            self.relay_poll,
            relay_stop.clone(),
        ));
        let hub = self.hub.clone();
        let grace = self.serve_options.shutdown_grace;
        let sockets = shutdown.clone();
        let closing = tokio::spawn(async move {
            sockets.cancelled().await;
            hub.shut_down(grace).await;
        });
        serve(self.listener, self.router, self.serve_options, shutdown).await;
        let _ = closing.await;
        relay_stop.cancel();
        let _ = relay.await;
        self.service.store().close().await;
    }
}
