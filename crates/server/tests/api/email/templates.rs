//! Email templates: every kind in every language, an admin's rewrite and the way back to the
//! built-in text, and placeholders a kind does not offer refused.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

on_both_backends!(templates_are_listed_rewritten_and_restored);

const KINDS: [&str; 4] = ["reply", "acknowledgement", "resolved", "password_reset"];
const LOCALES: [&str; 2] = ["en", "es"];

fn entry<'a>(list: &'a Value, kind: &str, locale: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["kind"] == kind && item["locale"] == locale)
        .unwrap_or_else(|| panic!("{kind}/{locale} is listed: {list}"))
}

async fn templates_are_listed_rewritten_and_restored(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let built_in = app
        .get("/api/email-templates", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(
        built_in["items"].as_array().unwrap().len(),
        KINDS.len() * LOCALES.len()
    );
    for kind in KINDS {
        for locale in LOCALES {
            let template = entry(&built_in, kind, locale);
            assert_eq!(template["customised"], false);
            assert_eq!(template["updated_at"], Value::Null);
            for part in ["subject", "text_body", "html_body"] {
                assert!(
                    template[part]
                        .as_str()
                        .is_some_and(|text| !text.trim().is_empty()),
                    "{kind}/{locale} has a {part}"
                );
            }
        }
    }
    assert!(
        entry(&built_in, "password_reset", "en")["text_body"]
            .as_str()
            .unwrap()
            .contains("{{reset_url}}"),
        "the reset mail carries its link"
    );
    assert_ne!(
        entry(&built_in, "acknowledgement", "en")["text_body"],
        entry(&built_in, "acknowledgement", "es")["text_body"],
        "each language has its own words"
    );

    let rewrite = json!({
        "subject": "Re: [#{{ticket.number}}] {{ticket.subject}}",
        "text_body": "Hola {{requester.name}},\n\n{{message.body}}\n\n{{agent.name}}",
        "html_body": "<p>Hola {{requester.name}},</p>{{message.body}}<p>{{agent.name}}</p>",
    });
    let path = "/api/email-templates/reply/es";
    let saved = app
        .call(
            reqwest::Method::PUT,
            path,
            Some(&admin),
            Some(rewrite.clone()),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(saved["customised"], true);
    assert!(saved["updated_at"].is_string());
    for part in ["subject", "text_body", "html_body"] {
        assert_eq!(saved[part], rewrite[part]);
    }
    let listed = app
        .get("/api/email-templates", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(entry(&listed, "reply", "es"), &saved);
    assert_eq!(
        entry(&listed, "reply", "en"),
        entry(&built_in, "reply", "en"),
        "the other language keeps its text"
    );

    // Placeholders that do not exist, or that the kind does not offer, are refused by field.
    for (body, field) in [
        (
            json!({"subject": "s", "text_body": "Hi {{requester.nme}}", "html_body": "<p>x</p>"}),
            "text_body",
        ),
        (
            json!({"subject": "s", "text_body": "t", "html_body": "<a href=\"{{reset_url}}\">x</a>"}),
            "html_body",
        ),
        (
            json!({"subject": "{{ticket.subject", "text_body": "t", "html_body": "h"}),
            "subject",
        ),
        (
            json!({"subject": " ", "text_body": "t", "html_body": "h"}),
            "subject",
        ),
        (json!({"subject": "s", "text_body": "t"}), "html_body"),
    ] {
        let problem = app
            .call(reqwest::Method::PUT, path, Some(&admin), Some(body.clone()))
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    let listed = app
        .get("/api/email-templates", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(
        entry(&listed, "reply", "es"),
        &saved,
        "a refusal changes nothing"
    );

    for missing in [
        "/api/email-templates/reply/fr",
        "/api/email-templates/digest/en",
    ] {
        app.call(
            reqwest::Method::PUT,
            missing,
            Some(&admin),
            Some(rewrite.clone()),
        )
        .await
        .problem(404);
    }

    let restored = app.delete(path, &admin).await.expect(200).body;
    assert_eq!(&restored, entry(&built_in, "reply", "es"));
    assert_eq!(
        app.get("/api/email-templates", &admin)
            .await
            .expect(200)
            .body,
        built_in,
        "back to the built-in text"
    );
    assert_eq!(
        app.delete(path, &admin).await.expect(200).body,
        restored,
        "restoring again changes nothing"
    );

    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    app.get("/api/email-templates", &agent).await.problem(403);
    app.call(reqwest::Method::PUT, path, Some(&agent), Some(rewrite))
        .await
        .problem(403);
    app.delete(path, &agent).await.problem(403);
}
