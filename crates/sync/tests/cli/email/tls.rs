//! The email channel over TLS, end to end through the real `growdesk-sync`: with the servers'
//! private CA in `SSL_CERT_FILE` (and only then) a mail fetched over IMAPS or STARTTLS becomes a
//! ticket, and the agent's reply leaves over SMTP with STARTTLS or implicit TLS and arrives.

use growdesk_domain::mail::TransportSecurity;
use growdesk_store::BackendKind;
use serde_json::json;

use super::conversation::{ADMIN, Server};
use super::{CUSTOMER, Encryption, MailDesk, SUPPORT, header, mail, on_both_backends, outcome};
use crate::support::succeeded;

on_both_backends!(
    mail_in_over_imaps_and_the_reply_out_over_starttls,
    mail_in_over_starttls_and_the_reply_out_over_implicit_tls,
);

async fn mail_in_over_imaps_and_the_reply_out_over_starttls(kind: BackendKind) {
    a_conversation_over(
        kind,
        Encryption {
            imap: TransportSecurity::Tls,
            smtp: TransportSecurity::StartTls,
        },
    )
    .await;
}

async fn mail_in_over_starttls_and_the_reply_out_over_implicit_tls(kind: BackendKind) {
    a_conversation_over(
        kind,
        Encryption {
            imap: TransportSecurity::StartTls,
            smtp: TransportSecurity::Tls,
        },
    )
    .await;
}

async fn a_conversation_over(kind: BackendKind, encryption: Encryption) {
    let desk = MailDesk::start_encrypted(kind, encryption).await;
    let question = mail(
        CUSTOMER,
        SUPPORT,
        "secure@customer.example.test",
        "Is this channel encrypted?",
        "Hello, I would rather my order details were not sent in the clear.",
        &[],
    );
    desk.dovecot.deliver(SUPPORT, &question).await.unwrap();

    // Without the CA in its environment the process trusts the system's roots only: the server
    // is refused, and the mail waits in the folder.
    let mut untrusting = desk.command();
    untrusting
        .env_remove("SSL_CERT_FILE")
        .args(["run", "--once"]);
    let out = succeeded(&untrusting.output().unwrap());
    let fetched = outcome(&out, "fetch_mail");
    assert_eq!(fetched["imported"], 0, "{out}");
    assert!(
        fetched["errors"].to_string().contains("UnknownIssuer"),
        "{out}"
    );
    assert_eq!(desk.count("SELECT count(*) FROM tickets").await, 0);

    let out = succeeded(&desk.run_once(None));
    assert_eq!(outcome(&out, "fetch_mail")["imported"], 1, "{out}");
    assert_eq!(desk.count("SELECT count(*) FROM tickets").await, 1);

    let server = Server::start(&desk).await;
    let admin = server.sign_in(ADMIN).await;
    let (status, tickets) = server
        .call(reqwest::Method::GET, "/api/tickets", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{tickets}");
    let ticket = tickets["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            &format!("/api/tickets/{ticket}/messages"),
            Some(&admin),
            Some(json!({"body": "Yes: our mail server only speaks TLS."})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    server.stop().await;

    let out = succeeded(&desk.run_once(None));
    assert_eq!(outcome(&out, "send_mail")["sent"], 1, "{out}");
    // The sink serves a STARTTLS client nothing before the upgrade: what it took came over TLS.
    assert_eq!(desk.sink.received().len(), 1);
    let inbox = desk.folder(CUSTOMER, "INBOX").await;
    let reply = inbox
        .iter()
        .find(|raw| String::from_utf8_lossy(raw).contains("only speaks TLS"))
        .unwrap_or_else(|| panic!("the reply is not in the customer's inbox: {out}"));
    assert_eq!(
        header(reply, "In-Reply-To").as_deref(),
        Some("<secure@customer.example.test>")
    );
}
