//! Client addresses behind reverse proxies: forwarding headers count only from a trusted proxy,
//! every per-address limit and socket cap uses the address they name, and an IPv6 client counts
//! with its whole /64.

use growdesk_store::BackendKind;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite};

use crate::helpers::{TestApp, spawn_app_with};

on_both_backends!(
    forwarding_headers_from_an_untrusted_peer_change_nothing,
    clients_behind_a_trusted_proxy_get_their_own_quotas,
    an_ipv6_client_cannot_escape_its_network_by_rotating_addresses,
    sockets_are_capped_per_forwarded_client,
);

/// Trusting 127.0.0.1 makes the test itself the proxy in front of the app.
const THE_TEST_AS_PROXY: &str = "127.0.0.1/32";
const SITE: &str = "https://shop.example.com";

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The status of a sign-in with a wrong password, sent with `header` (name, value) if any.
async fn failed_sign_in(app: &TestApp, header: Option<(&str, &str)>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "someone@example.com", "password": "guessing-1"}));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.expect("an answer").status().as_u16()
}

fn forwarded_for(client: &str) -> Option<(&'static str, &str)> {
    Some(("x-forwarded-for", client))
}

/// The widget key of a new widget for `SITE`.
async fn widget_key(app: &TestApp, admin: &str) -> String {
    let created = app
        .post(
            "/api/widgets",
            Some(admin),
            json!({"name": "Shop", "allowed_origins": [SITE]}),
        )
        .await
        .expect(201)
        .body;
    created["key"].as_str().expect("a key").to_owned()
}

/// A visitor's new conversation, forwarded for `client`: its status and body.
async fn visitor_ticket(app: &TestApp, key: &str, client: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/widget/tickets"))
        .header("x-widget-key", key)
        .header("origin", SITE)
        .header("x-forwarded-for", client)
        .json(&json!({"name": "Vera", "email": "vera@example.com", "message": "Hello"}))
        .send()
        .await
        .expect("an answer");
    let reply = TestApp::reply(response).await;
    (reply.status.as_u16(), reply.body)
}

/// Opens a socket at `path_and_query` forwarded for `client`; the refusal's status otherwise.
async fn open_socket(app: &TestApp, path_and_query: &str, client: &str) -> Result<Socket, u16> {
    let url = format!("{}{path_and_query}", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("a socket request");
    request
        .headers_mut()
        .insert("x-forwarded-for", client.parse().expect("a header value"));
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the handshake failed: {other}"),
    }
}

async fn forwarding_headers_from_an_untrusted_peer_change_nothing(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 3;
        settings.login_attempts_per_account_per_minute = 1000;
        settings.trusted_proxies = "192.0.2.0/24".parse().expect("a network");
    })
    .await;
    for header in [
        ("x-forwarded-for", "203.0.113.1"),
        ("forwarded", "for=203.0.113.2"),
        ("x-forwarded-for", "2001:db8:7::1"),
    ] {
        assert_eq!(failed_sign_in(&app, Some(header)).await, 401);
    }
    for header in [
        ("x-forwarded-for", "203.0.113.99"),
        ("forwarded", "for=\"[2001:db8:8::1]\""),
        ("x-real-ip", "198.51.100.98"),
    ] {
        assert_eq!(
            failed_sign_in(&app, Some(header)).await,
            429,
            "a client cannot escape its limit with {header:?}"
        );
    }
}

async fn clients_behind_a_trusted_proxy_get_their_own_quotas(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 2;
        settings.login_attempts_per_account_per_minute = 1000;
        settings.widget_requests_per_ip_per_minute = 1;
        settings.trusted_proxies = THE_TEST_AS_PROXY.parse().expect("a network");
    })
    .await;
    // Sent without a forwarding header: one attempt of the proxy's own quota.
    let admin = app.admin_token().await;

    for _ in 0..2 {
        assert_eq!(
            failed_sign_in(&app, forwarded_for("203.0.113.1")).await,
            401
        );
    }
    assert_eq!(
        failed_sign_in(&app, forwarded_for("203.0.113.1")).await,
        429
    );
    assert_eq!(
        failed_sign_in(&app, forwarded_for("198.51.100.7, 203.0.113.1")).await,
        429,
        "a forged hop left of the one the proxy wrote changes nothing"
    );
    assert_eq!(
        failed_sign_in(&app, forwarded_for("203.0.113.2")).await,
        401,
        "another client has its own quota"
    );
    let rfc_7239 = Some(("forwarded", "for=198.51.100.3;proto=https"));
    assert_eq!(failed_sign_in(&app, rfc_7239).await, 401);

    // A hop that is not an address counts against the proxy itself, which has one attempt left.
    assert_eq!(failed_sign_in(&app, forwarded_for("unknown")).await, 401);
    assert_eq!(failed_sign_in(&app, None).await, 429);

    let key = widget_key(&app, &admin).await;
    assert_eq!(visitor_ticket(&app, &key, "203.0.113.1").await.0, 201);
    assert_eq!(visitor_ticket(&app, &key, "203.0.113.1").await.0, 429);
    assert_eq!(
        visitor_ticket(&app, &key, "203.0.113.2").await.0,
        201,
        "another visitor has its own quota"
    );
}

async fn an_ipv6_client_cannot_escape_its_network_by_rotating_addresses(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 2;
        settings.login_attempts_per_account_per_minute = 1000;
        settings.trusted_proxies = THE_TEST_AS_PROXY.parse().expect("a network");
    })
    .await;
    for address in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
        assert_eq!(failed_sign_in(&app, forwarded_for(address)).await, 401);
    }
    assert_eq!(
        failed_sign_in(&app, forwarded_for("2001:db8:1:2:ffff:ffff:ffff:fffe")).await,
        429,
        "another address of the same /64"
    );
    let bracketed = Some(("forwarded", "for=\"[2001:db8:1:2::4]:4711\""));
    assert_eq!(failed_sign_in(&app, bracketed).await, 429);
    assert_eq!(
        failed_sign_in(&app, forwarded_for("2001:db8:1:3::1")).await,
        401,
        "the next /64 is another client"
    );

    for _ in 0..2 {
        assert_eq!(
            failed_sign_in(&app, forwarded_for("203.0.113.50")).await,
            401
        );
    }
    assert_eq!(
        failed_sign_in(&app, forwarded_for("::ffff:203.0.113.50")).await,
        429,
        "an IPv4-mapped address is the IPv4 client"
    );

    let by_48 = spawn_app_with(kind, |settings| {
        settings.auth_attempts_per_ip_per_minute = 1;
        settings.login_attempts_per_account_per_minute = 1000;
        settings.rate_limit_ipv6_prefix = 48;
        settings.trusted_proxies = THE_TEST_AS_PROXY.parse().expect("a network");
    })
    .await;
    assert_eq!(
        failed_sign_in(&by_48, forwarded_for("2001:db8:1:2::1")).await,
        401
    );
    assert_eq!(
        failed_sign_in(&by_48, forwarded_for("2001:db8:1:3::1")).await,
        429,
        "a /48 prefix groups the whole site"
    );
}

async fn sockets_are_capped_per_forwarded_client(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.ws_max_connections_per_ip = 1;
        settings.trusted_proxies = THE_TEST_AS_PROXY.parse().expect("a network");
    })
    .await;
    let admin = app.admin_token().await;
    let staff_socket = format!("/api/ws?access_token={admin}");

    let _first = open_socket(&app, &staff_socket, "203.0.113.1")
        .await
        .expect("the first client's socket opens");
    let _second = open_socket(&app, &staff_socket, "203.0.113.2")
        .await
        .expect("another client has its own place");
    assert_eq!(
        open_socket(&app, &staff_socket, "203.0.113.1").await.err(),
        Some(429)
    );
    let _v6 = open_socket(&app, &staff_socket, "2001:db8:9:9::1")
        .await
        .expect("an IPv6 client's socket opens");
    assert_eq!(
        open_socket(&app, &staff_socket, "2001:db8:9:9::2")
            .await
            .err(),
        Some(429),
        "another address of the same /64"
    );

    let key = widget_key(&app, &admin).await;
    let (status, opened) = visitor_ticket(&app, &key, "198.51.100.1").await;
    assert_eq!(status, 201, "{opened}");
    let token = opened["visitor_token"].as_str().expect("a visitor token");
    let visitor_socket = format!("/widget/ws?key={key}&visitor_token={token}");
    let _visitor = open_socket(&app, &visitor_socket, "198.51.100.1")
        .await
        .expect("the visitor's socket opens");
    assert_eq!(
        open_socket(&app, &visitor_socket, "203.0.113.1")
            .await
            .err(),
        Some(429),
        "the visitor socket counts the forwarded client too"
    );
}
