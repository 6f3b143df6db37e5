//! `spawn_app`: the real server on 127.0.0.1:0 over a throwaway database, and request helpers.

use std::net::SocketAddr;
use std::path::PathBuf;

use growdesk_app::App;
use growdesk_app::config::{DatabaseUrl, Settings};
use growdesk_store::BackendKind;
use growdesk_store::testkit::TestDatabase;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub(crate) const ADMIN_EMAIL: &str = "admin@example.com";
pub(crate) const ADMIN_PASSWORD: &str = "admin-password-1";
/// The signing key of test apps, so tests can forge tokens with it.
pub(crate) const JWT_SECRET: &str = "test-signing-key-0123456789-abcdefghij";

/// A running app and what a test needs to talk to it.
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    database: TestDatabase,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
    _data: tempfile::TempDir,
}

/// The settings of a test app; `adjust` changes them before start.
pub(crate) fn test_settings(database_url: &str, data_dir: PathBuf) -> Settings {
    Settings {
        database_url: DatabaseUrl(database_url.to_owned()),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir,
        jwt_secret: Some(SecretString::from(JWT_SECRET.to_owned())),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD.to_owned())),
        db_max_connections: 5,
        // A loaded machine can keep a request waiting for one of the five connections longer
        // than the 3 s default; the tests of that deadline set their own.
        db_timeout_secs: 30,
        ..Settings::default()
    }
}

pub(crate) async fn spawn_app(kind: BackendKind) -> TestApp {
    spawn_app_with(kind, |_| {}).await
}

pub(crate) async fn spawn_app_with(
    kind: BackendKind,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    start(TestDatabase::create(kind).await, adjust).await
}

/// Another instance (its own pool, hub and relay) on `first`'s database.
pub(crate) async fn spawn_second_instance(first: &TestApp) -> TestApp {
    start(first.database.share(), |_| {}).await
}

pub(crate) async fn start(database: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().expect("data directory");
    let mut settings = test_settings(database.url(), data.path().to_owned());
    adjust(&mut settings);
    let app = App::build(&settings).await.expect("the app starts");
    let base = format!("http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));
    TestApp {
        base,
        client: reqwest::Client::new(),
        database,
        shutdown,
        server: Some(server),
        _data: data,
    }
}

/// A response's status, headers and JSON body (`Null` when there is none).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub(crate) fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts a problem+json error of this status and returns its body.
    #[track_caller]
    pub(crate) fn problem(self, status: u16) -> Value {
        let reply = self.expect(status);
        let content_type = reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            content_type, "application/problem+json",
            "errors are problem+json"
        );
        assert_eq!(reply.body["status"], status);
        assert!(
            reply.body["title"].is_string()
                && reply.body["detail"].is_string()
                && reply.body["type"].is_string()
        );
        reply.body
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        Self::reply(response).await
    }

    pub(crate) async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub(crate) async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Signs in and returns the whole token response.
    pub(crate) async fn login(&self, email: &str, password: &str) -> Value {
        self.post(
            "/api/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
        .expect(200)
        .body
    }

    /// The bootstrap admin's access token.
    pub(crate) async fn admin_token(&self) -> String {
        access(&self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await)
    }

    /// Creates a user of `role` with a password (as the admin) and returns their access token.
    pub(crate) async fn user_token(&self, email: &str, role: &str) -> (String, Value) {
        let admin = self.admin_token().await;
        let user = self
            .post(
                "/api/users",
                Some(&admin),
                json!({"email": email, "role": role, "password": "user-password-1"}),
            )
            .await
            .expect(201)
            .body;
        (access(&self.login(email, "user-password-1").await), user)
    }

    /// A direct connection to the app's database, for checks the API does not expose.
    pub(crate) fn database_url(&self) -> &str {
        self.database.url()
    }

    /// Stops the server and waits for it, as SIGTERM would.
    pub(crate) async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await.expect("the server task ends cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) fn access(tokens: &Value) -> String {
    tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

pub(crate) fn refresh(tokens: &Value) -> String {
    tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}
