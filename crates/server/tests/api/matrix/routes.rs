//! The table of the authenticated routes: for each, the status each identity gets.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Case, Identities, none, unique};

pub(super) fn cases() -> Vec<Case> {
    use Method as M;
    let case = |method: M, path, body: fn(&Identities) -> Option<Value>, expected| Case {
        method,
        path,
        body,
        expected,
    };
    vec![
        case(M::GET, "/api/health", none, [200, 200, 200, 200, 200]),
        case(M::GET, "/api/ready", none, [200, 200, 200, 200, 200]),
        case(M::GET, "/metrics", none, [200, 200, 200, 200, 200]),
        case(M::GET, "/api/auth/me", none, [401, 200, 200, 200, 200]),
        case(
            M::PATCH,
            "/api/auth/me",
            |_| Some(json!({"name": "Same Name"})),
            [401, 200, 200, 200, 200],
        ),
        case(M::GET, "/api/tickets", none, [401, 200, 200, 200, 200]),
        case(
            M::POST,
            "/api/tickets",
            |_| Some(json!({"subject": "New", "description": "d"})),
            [401, 201, 201, 201, 201],
        ),
        case(
            M::GET,
            "/api/tickets/stats",
            none,
            [401, 403, 403, 200, 200],
        ),
        case(
            M::GET,
            "/api/tickets/{ticket}",
            none,
            [401, 404, 200, 200, 200],
        ),
        case(
            M::PATCH,
            "/api/tickets/{ticket}",
            |_| Some(json!({"priority": "high"})),
            [401, 404, 403, 200, 200],
        ),
        case(
            M::PATCH,
            "/api/tickets/{ticket}",
            |_| Some(json!({"status": "closed"})),
            [401, 404, 200, 200, 200],
        ),
        case(
            M::DELETE,
            "/api/tickets/{ticket}",
            none,
            [401, 404, 403, 403, 204],
        ),
        case(
            M::POST,
            "/api/tickets/{ticket}/assign",
            |ids| Some(json!({"assignee_id": ids.agent_id})),
            [401, 404, 403, 200, 200],
        ),
        case(
            M::PUT,
            "/api/tickets/{ticket}/read",
            none,
            [401, 404, 403, 204, 204],
        ),
        case(
            M::GET,
            "/api/tickets/{ticket}/deliveries",
            none,
            [401, 404, 403, 200, 200],
        ),
        case(
            M::GET,
            "/api/tickets/{ticket}/messages",
            none,
            [401, 404, 200, 200, 200],
        ),
        case(
            M::POST,
            "/api/tickets/{ticket}/messages",
            |_| Some(json!({"body": "hello"})),
            [401, 404, 201, 201, 201],
        ),
        case(
            M::POST,
            "/api/tickets/{ticket}/messages",
            |_| Some(json!({"body": "note", "internal": true})),
            [401, 404, 403, 201, 201],
        ),
        case(
            M::GET,
            "/api/tickets/{ticket}/events",
            none,
            [401, 404, 200, 200, 200],
        ),
        case(
            M::GET,
            "/api/attachments/{public_file}",
            none,
            [401, 404, 200, 200, 200],
        ),
        case(
            M::GET,
            "/api/attachments/{internal_file}",
            none,
            [401, 404, 404, 200, 200],
        ),
        case(M::GET, "/api/categories", none, [401, 200, 200, 200, 200]),
        case(
            M::POST,
            "/api/categories",
            |_| Some(json!({"name": unique()})),
            [401, 403, 403, 403, 201],
        ),
        case(
            M::PATCH,
            "/api/categories/{category}",
            |_| Some(json!({"description": "changed"})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/categories/{category}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(M::GET, "/api/faqs", none, [401, 403, 403, 200, 200]),
        case(
            M::POST,
            "/api/faqs",
            |_| Some(json!({"question": "q", "answer": "a"})),
            [401, 403, 403, 201, 201],
        ),
        case(M::GET, "/api/faqs/{faq}", none, [401, 403, 403, 200, 200]),
        case(
            M::PATCH,
            "/api/faqs/{faq}",
            |_| Some(json!({"published": true})),
            [401, 403, 403, 200, 200],
        ),
        case(
            M::DELETE,
            "/api/faqs/{faq}",
            none,
            [401, 403, 403, 204, 204],
        ),
        case(
            M::GET,
            "/api/notifications",
            none,
            [401, 200, 200, 200, 200],
        ),
        case(
            M::POST,
            "/api/notifications/{notification}/read",
            none,
            [401, 404, 404, 204, 404],
        ),
        case(
            M::POST,
            "/api/notifications/read-all",
            none,
            [401, 200, 200, 200, 200],
        ),
        case(M::GET, "/api/widgets", none, [401, 403, 403, 403, 200]),
        case(
            M::POST,
            "/api/widgets",
            |_| Some(json!({"name": "Site"})),
            [401, 403, 403, 403, 201],
        ),
        case(
            M::GET,
            "/api/widgets/{widget}",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::PATCH,
            "/api/widgets/{widget}",
            |_| Some(json!({"active": false})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/widgets/{widget}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(
            M::POST,
            "/api/widgets/{widget}/regenerate-key",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(M::GET, "/api/webhooks", none, [401, 403, 403, 403, 200]),
        case(
            M::POST,
            "/api/webhooks",
            |_| Some(json!({"url": "https://93.184.215.14/new", "event_types": ["created"]})),
            [401, 403, 403, 403, 201],
        ),
        case(
            M::GET,
            "/api/webhooks/{webhook}",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::GET,
            "/api/webhooks/{webhook}/deliveries",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::PATCH,
            "/api/webhooks/{webhook}",
            |_| Some(json!({"active": false})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/webhooks/{webhook}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(M::GET, "/api/mailboxes", none, [401, 403, 403, 403, 200]),
        case(
            M::POST,
            "/api/mailboxes",
            |_| {
                Some(crate::email::mailbox_body(&format!(
                    "{}@example.test",
                    unique()
                )))
            },
            [401, 403, 403, 403, 201],
        ),
        case(
            M::GET,
            "/api/mailboxes/{mailbox}",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::PATCH,
            "/api/mailboxes/{mailbox}",
            |_| Some(json!({"acknowledge": false})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/mailboxes/{mailbox}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(
            M::POST,
            "/api/mailboxes/{mailbox}/test",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::GET,
            "/api/email-templates",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(
            M::PUT,
            "/api/email-templates/{kind}/{locale}",
            |_| {
                Some(
                    json!({"subject": "Re: {{ticket.subject}}", "text_body": "{{message.body}}", "html_body": "<p>{{message.body}}</p>"}),
                )
            },
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/email-templates/{kind}/{locale}",
            none,
            [401, 403, 403, 403, 200],
        ),
        case(M::GET, "/api/views", none, [401, 403, 403, 200, 200]),
        case(
            M::POST,
            "/api/views",
            |_| Some(json!({"name": "Mine"})),
            [401, 403, 403, 201, 201],
        ),
        case(
            M::POST,
            "/api/views",
            |_| Some(json!({"name": "Ours", "shared": true})),
            [401, 403, 403, 403, 201],
        ),
        case(M::GET, "/api/views/{view}", none, [401, 403, 403, 200, 200]),
        case(
            M::PATCH,
            "/api/views/{view}",
            |_| Some(json!({"name": "Renamed"})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/views/{view}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(
            M::GET,
            "/api/canned-replies",
            none,
            [401, 403, 403, 200, 200],
        ),
        case(
            M::POST,
            "/api/canned-replies",
            |_| Some(json!({"title": "Mine", "body": "Hi"})),
            [401, 403, 403, 201, 201],
        ),
        case(
            M::POST,
            "/api/canned-replies",
            |_| Some(json!({"title": "Ours", "body": "Hi", "shared": true})),
            [401, 403, 403, 403, 201],
        ),
        case(
            M::GET,
            "/api/canned-replies/{reply}",
            none,
            [401, 403, 403, 200, 200],
        ),
        case(
            M::PATCH,
            "/api/canned-replies/{reply}",
            |_| Some(json!({"body": "Changed"})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/canned-replies/{reply}",
            none,
            [401, 403, 403, 403, 204],
        ),
        case(M::GET, "/api/users", none, [401, 403, 403, 403, 200]),
        case(
            M::GET,
            "/api/users?role=agent&active=true",
            none,
            [401, 403, 403, 200, 200],
        ),
        case(
            M::POST,
            "/api/users",
            |_| Some(json!({"email": format!("{}@example.com", unique()), "role": "agent"})),
            [401, 403, 403, 403, 201],
        ),
        case(M::GET, "/api/users/{user}", none, [401, 403, 403, 403, 200]),
        case(
            M::PATCH,
            "/api/users/{user}",
            |_| Some(json!({"role": "admin"})),
            [401, 403, 403, 403, 200],
        ),
        case(
            M::DELETE,
            "/api/users/{user}",
            none,
            [401, 403, 403, 403, 200],
        ),
    ]
}
