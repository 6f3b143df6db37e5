//! A whole conversation by mail, end to end: a customer mails support@ → the ticket reaches an
//! agent's WebSocket on a running server → the agent answers through the API → the answer
//! arrives in the customer's IMAP inbox threaded (`In-Reply-To`, `References`) → the customer's
//! reply to it joins the same ticket, live on the socket too.

use std::net::SocketAddr;

use futures_util::StreamExt as _;
use growdesk_app::App;
use growdesk_app::config::{DatabaseUrl, Settings};
use growdesk_domain::mail::AfterImport;
use growdesk_store::BackendKind;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::{CUSTOMER, MailDesk, PATIENCE, SUPPORT, eventually, header, mail, on_both_backends};

on_both_backends!(a_conversation_by_mail_reaches_the_socket_and_threads_both_ways);

pub(crate) const ADMIN: &str = "admin@example.com";
pub(crate) const PASSWORD: &str = "a-password-for-tests-1";

/// The server of the desk, on its database and data directory (so `run` signs with its key).
pub(crate) struct Server {
    base: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub(crate) async fn start(desk: &MailDesk) -> Self {
        let settings = Settings {
            database_url: DatabaseUrl(desk.database.url().to_owned()),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: desk.data_dir().to_owned(),
            admin_email: Some(ADMIN.to_owned()),
            admin_password: Some(SecretString::from(PASSWORD.to_owned())),
            db_max_connections: 5,
            db_timeout_secs: 30,
            ..Settings::default()
        };
        let app = App::build(&settings).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        Self {
            base,
            http: reqwest::Client::new(),
            shutdown,
            task,
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub(crate) async fn sign_in(&self, email: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

/// The next `event` frame of `kind` on `socket` that `wanted` accepts (given the whole frame:
/// a message's event carries the message).
async fn next_event<S>(socket: &mut S, kind: &str, wanted: impl Fn(&Value) -> bool) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(PATIENCE, async {
        loop {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "event" && frame["event"]["kind"] == kind && wanted(&frame) {
                return frame;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event reached the agent's socket"))
}

async fn a_conversation_by_mail_reaches_the_socket_and_threads_both_ways(kind: BackendKind) {
    let desk = MailDesk::start(kind, false, AfterImport::MarkSeen).await;
    let server = Server::start(&desk).await;
    let admin = server.sign_in(ADMIN).await;
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"email": "agent@example.com", "role": "agent", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent = server.sign_in("agent@example.com").await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!(
        "{}/api/ws?access_token={agent}",
        server.base.replace("http://", "ws://")
    ))
    .await
    .unwrap();
    let run = desk.run();

    // The customer writes.
    let first = mail(
        CUSTOMER,
        SUPPORT,
        "first@customer.example.test",
        "My order has not arrived",
        "Hello, order 1234 was due on Monday and has not arrived.",
        &[],
    );
    desk.dovecot.deliver(SUPPORT, &first).await.unwrap();
    let created = next_event(&mut socket, "created", |_| true).await;
    let ticket = created["event"]["ticket_id"].as_str().unwrap().to_owned();

    // The agent answers through the API.
    let answer = "It left our warehouse today; you will have it tomorrow.";
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            &format!("/api/tickets/{ticket}/messages"),
            Some(&agent),
            Some(json!({"body": answer})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // It arrives in the customer's inbox, threaded under their mail.
    let reply = eventually("the answer in the customer's inbox", || async {
        desk.folder(CUSTOMER, "INBOX")
            .await
            .into_iter()
            .find(|raw| String::from_utf8_lossy(raw).contains("warehouse today"))
    })
    .await;
    assert_eq!(
        header(&reply, "In-Reply-To").as_deref(),
        Some("<first@customer.example.test>")
    );
    assert!(
        header(&reply, "References")
            .unwrap_or_default()
            .contains("<first@customer.example.test>")
    );
    assert!(header(&reply, "From").unwrap_or_default().contains(SUPPORT));
    assert_eq!(
        header(&reply, "Auto-Submitted"),
        None,
        "an agent's answer is a person's mail"
    );
    let reply_id = header(&reply, "Message-ID").unwrap();
    let answer_to = header(&reply, "Reply-To").unwrap_or_else(|| SUPPORT.to_owned());
    let answer_to = answer_to
        .rsplit_once('<')
        .map_or(answer_to.as_str(), |(_, address)| {
            address.trim_end_matches('>')
        })
        .to_owned();

    // The customer answers it from their mail client.
    let second = mail(
        CUSTOMER,
        &answer_to,
        "second@customer.example.test",
        "Re: My order has not arrived",
        "Thank you, tomorrow is fine.\r\n\r\nOn Wed, Example Support wrote:\r\n> It left our warehouse today.",
        &[
            format!("In-Reply-To: {reply_id}"),
            format!("References: <first@customer.example.test> {reply_id}"),
        ],
    );
    desk.dovecot.deliver(&answer_to, &second).await.unwrap();
    // Live: the customer's answer on the ticket, as it was taken from the mail.
    let joined = next_event(&mut socket, "message_created", |frame| {
        frame["message"]["body"]
            .as_str()
            .is_some_and(|body| body.contains("tomorrow is fine"))
    })
    .await;
    assert_eq!(joined["event"]["ticket_id"], ticket.as_str());
    assert_eq!(joined["message"]["channel"], "email");

    let (status, messages) = server
        .call(
            reqwest::Method::GET,
            &format!("/api/tickets/{ticket}/messages"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(status, 200, "{messages}");
    let items = messages["items"].as_array().unwrap();
    let bodies: Vec<&str> = items
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(items.len(), 3, "{bodies:?}");
    assert!(bodies[2].contains("tomorrow is fine"), "{bodies:?}");
    assert!(
        !bodies[2].contains("warehouse"),
        "the quoted answer is stripped: {bodies:?}"
    );
    assert_eq!(items[2]["channel"], "email");
    assert_eq!(
        desk.count("SELECT count(*) FROM tickets").await,
        1,
        "the answer joined the ticket"
    );

    drop(run);
    server.stop().await;
}
