//! The public widget routes' table, over widget keys and visitor tokens, and a visitor who
//! claims a staff email.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Case, Identities, claim_staff_email, none, open_widget_chat, unique, widget_call};
use crate::helpers::{TestApp, spawn_app_with};

on_both_backends!(every_widget_caller_gets_the_expected_answer_and_refusals_change_nothing);

/// The public widget routes; `{ticket}` is visitor A's ticket. Statuses for: no widget key;
/// another widget's key with visitor A's token; visitor B (same widget, another chat); visitor
/// A; widget A's key with a staff access token instead of a visitor token.
pub(super) fn widget_cases() -> Vec<Case> {
    use Method as M;
    let case = |method: M, path, body: fn(&Identities) -> Option<Value>, expected| Case {
        method,
        path,
        body,
        expected,
    };
    vec![
        case(M::GET, "/widget/config", none, [401, 200, 200, 200, 200]),
        case(M::GET, "/widget/faqs", none, [401, 200, 200, 200, 200]),
        case(M::GET, "/widget/tickets", none, [401, 401, 200, 200, 401]),
        case(
            M::POST,
            "/widget/tickets",
            |_| {
                Some(
                    json!({"name": "Vera", "email": format!("{}@example.com", unique()), "message": "Again"}),
                )
            },
            // A token that is presented must be this widget's: a stale or foreign one is
            // refused rather than ignored.
            [401, 401, 201, 201, 401],
        ),
        case(
            M::GET,
            "/widget/tickets/{ticket}/messages",
            none,
            [401, 401, 404, 200, 401],
        ),
        case(
            M::POST,
            "/widget/tickets/{ticket}/messages",
            |_| Some(json!({"body": "more"})),
            [401, 401, 404, 201, 401],
        ),
    ]
}

async fn every_widget_caller_gets_the_expected_answer_and_refusals_change_nothing(
    kind: BackendKind,
) {
    // Every case opens chats; the per-address limit on them is not what this table checks.
    let app = spawn_app_with(kind, |settings| {
        settings.widget_requests_per_ip_per_minute = 10_000;
        settings.widget_requests_per_widget_per_minute = 10_000;
    })
    .await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let ids = Identities {
        customer_a: String::new(),
        customer_b: String::new(),
        agent,
        agent_id: agent_user["id"].as_str().unwrap().to_owned(),
        admin: app.admin_token().await,
    };
    let mut checked = 0;
    for case in widget_cases() {
        for (column, expected) in case.expected.into_iter().enumerate() {
            let a = open_widget_chat(&app, &ids.admin).await;
            let other = open_widget_chat(&app, &ids.admin).await;
            let b = widget_call(
                &app,
                Method::POST,
                "/widget/tickets",
                Some(&a.key),
                None,
                Some(json!({"name": "Bob", "email": format!("{}@example.com", unique()), "message": "Hi"})),
            )
            .await
            .expect(201)
            .body;
            let visitor_b = b["visitor_token"].as_str().unwrap();
            let (name, key, token) = match column {
                0 => ("no key", None, None),
                1 => (
                    "another widget's key",
                    Some(other.key.as_str()),
                    Some(a.visitor_token.as_str()),
                ),
                2 => ("visitor B", Some(a.key.as_str()), Some(visitor_b)),
                3 => (
                    "visitor A",
                    Some(a.key.as_str()),
                    Some(a.visitor_token.as_str()),
                ),
                _ => (
                    "a staff token",
                    Some(a.key.as_str()),
                    Some(ids.admin.as_str()),
                ),
            };
            let path = case.path.replace("{ticket}", &a.ticket);
            let before = widget_state(&app, &ids.admin, &a.ticket).await;
            let reply = widget_call(
                &app,
                case.method.clone(),
                &path,
                key,
                token,
                (case.body)(&ids),
            )
            .await;
            assert_eq!(
                reply.status.as_u16(),
                expected,
                "{name}: {} {}: {}",
                case.method,
                case.path,
                reply.body
            );
            if expected >= 400 {
                reply.problem(expected);
                assert_eq!(
                    before,
                    widget_state(&app, &ids.admin, &a.ticket).await,
                    "{name}: refused {} {} changed something",
                    case.method,
                    case.path
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, widget_cases().len() * 5);

    // A visitor claiming a staff email: the claim is refused and changes nothing, so on every
    // route they hold what the widget's key alone gives (whatever token a claim would yield).
    for case in widget_cases() {
        let a = open_widget_chat(&app, &ids.admin).await;
        let path = case.path.replace("{ticket}", &a.ticket);
        let before = widget_state(&app, &ids.admin, &a.ticket).await;
        let claim = claim_staff_email(&app, &a.key).await;
        let claimed_token = claim.body["visitor_token"].as_str().map(str::to_owned);
        claim.problem(422);
        assert_eq!(
            before,
            widget_state(&app, &ids.admin, &a.ticket).await,
            "claiming a staff email changed something"
        );
        let key_alone = widget_call(
            &app,
            case.method.clone(),
            &path,
            Some(&a.key),
            None,
            (case.body)(&ids),
        )
        .await;
        let claimant = widget_call(
            &app,
            case.method.clone(),
            &path,
            Some(&a.key),
            claimed_token.as_deref(),
            (case.body)(&ids),
        )
        .await;
        assert_eq!(
            claimant.status, key_alone.status,
            "a visitor claiming a staff email: {} {}: {}",
            case.method, case.path, claimant.body
        );
    }
}

/// What a widget request could change: the tickets and visitor A's conversation.
async fn widget_state(app: &TestApp, admin: &str, ticket: &str) -> Value {
    json!({
        "tickets": app.get("/api/tickets?limit=100", admin).await.body,
        "messages": app.get(&format!("/api/tickets/{ticket}/messages?limit=100"), admin).await.body,
    })
}
