//! The composed bytes, read back by mail-parser as a customer's client would read them.

use base64::Engine as _;
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};

use super::{DkimKey, OutgoingAttachment, OutgoingMail, compose, compose_signed};
use crate::MailError;
use crate::inbound::Address;

fn address(email: &str, name: Option<&str>) -> Address {
    Address {
        email: email.to_owned(),
        name: name.map(str::to_owned),
    }
}

fn reply() -> OutgoingMail {
    OutgoingMail {
        from: address("support@example.test", Some("Acme Support")),
        to: address("ana@example.test", Some("Ana Pérez")),
        subject: "Re: [#42] Printer on fire".to_owned(),
        text_body: "We are on it.\n\nAcme".to_owned(),
        html_body: None,
        message_id: "<0b5e@example.test>".to_owned(),
        in_reply_to: Some("<cust-2@mail.example.test>".to_owned()),
        references: vec![
            "cust-1@mail.example.test".to_owned(),
            "<cust-2@mail.example.test>".to_owned(),
        ],
        reply_to: Some("support+t42@example.test".to_owned()),
        unsubscribe_url: None,
        auto_submitted: false,
        attachments: Vec::new(),
    }
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default()
        .parse(raw)
        .expect("a parsable mail")
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn header_lines(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    head.split("\r\n").map(str::to_owned).collect()
}

#[test]
fn a_reply_carries_the_threading_headers() {
    let raw = compose(&reply()).unwrap();
    let mail = parse(&raw);
    let from = mail.from().and_then(|from| from.first()).unwrap();
    assert_eq!(from.name(), Some("Acme Support"));
    assert_eq!(from.address(), Some("support@example.test"));
    let to = mail.to().and_then(|to| to.first()).unwrap();
    assert_eq!(to.name(), Some("Ana Pérez"));
    assert_eq!(mail.subject(), Some("Re: [#42] Printer on fire"));
    assert_eq!(mail.message_id(), Some("0b5e@example.test"));
    assert_eq!(ids(mail.in_reply_to()), ["cust-2@mail.example.test"]);
    assert_eq!(
        ids(mail.references()),
        ["cust-1@mail.example.test", "cust-2@mail.example.test"]
    );
    let reply_to = mail.reply_to().and_then(|to| to.first()).unwrap();
    assert_eq!(reply_to.address(), Some("support+t42@example.test"));
    assert!(mail.date().is_some());
    assert_eq!(
        mail.body_text(0).as_deref().map(str::trim_end),
        Some("We are on it.\r\n\r\nAcme")
    );
}

#[test]
fn an_agents_reply_is_not_marked_automatic() {
    let raw = compose(&reply()).unwrap();
    let mail = parse(&raw);
    assert!(mail.header_raw("Auto-Submitted").is_none());
    assert!(mail.header_raw("X-Auto-Response-Suppress").is_none());
    assert!(mail.header_raw("List-Unsubscribe").is_none());
}

#[test]
fn a_notification_is_marked_automatic_and_offers_one_click_unsubscribe() {
    let notice = OutgoingMail {
        auto_submitted: true,
        unsubscribe_url: Some("https://desk.example.test/api/unsubscribe?token=abc.def".to_owned()),
        ..reply()
    };
    let raw = compose(&notice).unwrap();
    let mail = parse(&raw);
    assert_eq!(
        mail.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    assert_eq!(
        mail.header_raw("X-Auto-Response-Suppress").map(str::trim),
        Some("All")
    );
    assert_eq!(
        mail.header_raw("List-Unsubscribe").map(str::trim),
        Some("<https://desk.example.test/api/unsubscribe?token=abc.def>")
    );
    assert_eq!(
        mail.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
}

#[test]
fn every_line_ends_with_crlf() {
    let mail = OutgoingMail {
        text_body: "one\ntwo\r\nthree\n".to_owned(),
        html_body: Some("<p>one</p>\n<p>two</p>".to_owned()),
        ..reply()
    };
    let raw = compose(&mail).unwrap();
    for (index, byte) in raw.iter().enumerate() {
        if *byte == b'\n' {
            assert_eq!(
                raw.get(index.wrapping_sub(1)),
                Some(&b'\r'),
                "bare LF at {index}"
            );
        }
    }
}

#[test]
fn a_non_ascii_subject_is_an_encoded_word_that_decodes_back() {
    let subject = "Réponse à votre demande ✓ — ¿ya está?";
    let raw = compose(&OutgoingMail {
        subject: subject.to_owned(),
        ..reply()
    })
    .unwrap();
    let line = header_lines(&raw)
        .into_iter()
        .find(|line| line.starts_with("Subject:"))
        .unwrap();
    assert!(line.is_ascii(), "{line}");
    assert!(line.to_ascii_lowercase().contains("=?utf-8?"), "{line}");
    assert_eq!(parse(&raw).subject(), Some(subject));
}

#[test]
fn line_breaks_in_a_subject_or_a_name_never_start_a_header() {
    let raw = compose(&OutgoingMail {
        subject: "Hello\r\nBcc: victim@example.test\nX-Injected: 1".to_owned(),
        from: address("support@example.test", Some("Acme\r\nX-Evil: yes")),
        to: address(
            "ana@example.test",
            Some("Ana\u{2028}Cc: other@example.test"),
        ),
        attachments: vec![OutgoingAttachment {
            filename: "a\r\nX-File: 1.txt".to_owned(),
            content_type: "text/plain\r\nX-Type: 1".to_owned(),
            bytes: b"x".to_vec(),
        }],
        ..reply()
    })
    .unwrap();
    let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    for injected in [
        "\r\nbcc:",
        "\r\nx-injected:",
        "\r\nx-evil:",
        "\r\ncc:",
        "\r\nx-file:",
        "\r\nx-type:",
    ] {
        assert!(!text.contains(injected), "{injected:?} in\n{text}");
    }
    let mail = parse(&raw);
    assert!(mail.bcc().is_none());
    assert!(mail.cc().is_none());
    assert_eq!(
        mail.subject(),
        Some("Hello  Bcc: victim@example.test X-Injected: 1")
    );
}

#[test]
fn ids_addresses_and_links_that_would_change_the_headers_are_refused() {
    let cases = [
        OutgoingMail {
            message_id: "<a@b>\r\nBcc: x@y".to_owned(),
            ..reply()
        },
        OutgoingMail {
            message_id: "no-at-sign".to_owned(),
            ..reply()
        },
        OutgoingMail {
            in_reply_to: Some("<a b@c>".to_owned()),
            ..reply()
        },
        OutgoingMail {
            references: vec!["<ok@x>".to_owned(), "<bad>@x>".to_owned()],
            ..reply()
        },
    ];
    for mail in cases {
        assert!(
            matches!(compose(&mail), Err(MailError::InvalidMessageId { .. })),
            "{mail:?}"
        );
    }
    let bad_address = OutgoingMail {
        to: address("ana@example.test\r\nBcc: x@y", None),
        ..reply()
    };
    assert!(matches!(
        compose(&bad_address),
        Err(MailError::InvalidAddress { field: "To", .. })
    ));
    let bad_reply_to = OutgoingMail {
        reply_to: Some("not an address".to_owned()),
        ..reply()
    };
    assert!(matches!(
        compose(&bad_reply_to),
        Err(MailError::InvalidAddress {
            field: "Reply-To",
            ..
        })
    ));
    for url in [
        "javascript:alert(1)",
        "https://x.test/a>\r\nBcc: x@y",
        "https://x.test/a b",
    ] {
        let mail = OutgoingMail {
            unsubscribe_url: Some(url.to_owned()),
            ..reply()
        };
        assert!(
            matches!(compose(&mail), Err(MailError::InvalidUnsubscribeUrl(_))),
            "{url}"
        );
    }
}

#[test]
fn text_html_and_attachments_round_trip_byte_for_byte() {
    let binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let text_file = b"line one\nline two without CR\r\nend".to_vec();
    let raw = compose(&OutgoingMail {
        html_body: Some("<p>We are <b>on it</b>.</p>".to_owned()),
        attachments: vec![
            OutgoingAttachment {
                filename: "photo.bin".to_owned(),
                content_type: "application/octet-stream".to_owned(),
                bytes: binary.clone(),
            },
            OutgoingAttachment {
                filename: "notas año.txt".to_owned(),
                content_type: "not a type".to_owned(),
                bytes: text_file.clone(),
            },
        ],
        ..reply()
    })
    .unwrap();
    let mail = parse(&raw);
    assert!(mail.body_text(0).unwrap().contains("We are on it."));
    assert!(mail.body_html(0).unwrap().contains("<b>on it</b>"));
    let files: Vec<(String, Vec<u8>)> = mail
        .attachments()
        .map(|part| {
            (
                part.attachment_name().unwrap_or_default().to_owned(),
                part.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("photo.bin".to_owned(), binary),
            ("notas año.txt".to_owned(), text_file)
        ]
    );
}

/// An Ed25519 key in the PKCS#8 PEM form `openssl genpkey -algorithm ed25519` writes.
fn ed25519_pem(seed: [u8; 32]) -> String {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

#[test]
fn a_dkim_key_signs_for_its_domain_and_selector() {
    let key = DkimKey::from_pem("mail2026", "example.test", &ed25519_pem([7; 32])).unwrap();
    let raw = compose_signed(&reply(), &key).unwrap();
    let mail = parse(&raw);
    let signature = mail.header_raw("DKIM-Signature").unwrap();
    let tags: String = signature.split_whitespace().collect();
    for tag in [
        "v=1;",
        "a=ed25519-sha256;",
        "d=example.test;",
        "s=mail2026;",
        "c=relaxed/relaxed;",
    ] {
        assert!(tags.contains(tag), "{tag} missing in {tags}");
    }
    let signed = tags.split("h=").nth(1).unwrap().split(';').next().unwrap();
    assert_eq!(
        signed,
        "from:to:subject:date:message-id:in-reply-to:references"
    );
    let other = DkimKey::from_pem("mail2026", "example.test", &ed25519_pem([8; 32])).unwrap();
    let other_raw = compose_signed(&reply(), &other).unwrap();
    let b = |raw: &[u8]| {
        let mail = parse(raw);
        let tags: String = mail
            .header_raw("DKIM-Signature")
            .unwrap()
            .split_whitespace()
            .collect();
        tags.split("b=").last().unwrap().to_owned()
    };
    assert_ne!(b(&raw), b(&other_raw));
}

#[test]
fn unusable_dkim_keys_are_refused_with_a_reason() {
    let cases = [
        ("sel", "example.test", "not a pem"),
        (
            "sel",
            "example.test",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
        ),
        (
            "sel",
            "example.test",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ),
        (
            "sel",
            "example.test",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        ),
        ("bad selector", "example.test", ""),
    ];
    for (selector, domain, pem) in cases {
        let key = if pem.is_empty() {
            ed25519_pem([1; 32])
        } else {
            pem.to_owned()
        };
        assert!(
            matches!(
                DkimKey::from_pem(selector, domain, &key),
                Err(MailError::InvalidDkimKey(_))
            ),
            "{selector} {pem}"
        );
    }
}
