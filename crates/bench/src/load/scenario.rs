//! The scenarios of `load`: their names, the floor each is compared with, and the request each
//! sends.

use rand::Rng;
use rand::rngs::StdRng;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use super::setup::Context;
use crate::corpus::Exchange;
use crate::seed::{agent_email, first_chars, order_reference};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    SignIn,
    CreateTicket,
    ListFirstPage,
    ListDeepPage,
    FilterStatus,
    FilterPriority,
    FilterCategory,
    FilterAssignee,
    FilterUnassigned,
    FilterRequester,
    FilterTag,
    SearchWord,
    SearchOrder,
    GetTicket,
    ListMessages,
    PostMessage,
    WidgetTicket,
    Stats,
    FloorConstant,
    FloorSelect,
    FloorPage,
    FloorInsert,
    FloorStoreTicket,
    FloorStorePage,
}

impl Scenario {
    pub(crate) const ALL: [Self; 24] = [
        Self::FloorConstant,
        Self::FloorSelect,
        Self::FloorPage,
        Self::FloorInsert,
        Self::FloorStoreTicket,
        Self::FloorStorePage,
        Self::GetTicket,
        Self::ListFirstPage,
        Self::ListDeepPage,
        Self::ListMessages,
        Self::FilterStatus,
        Self::FilterPriority,
        Self::FilterCategory,
        Self::FilterAssignee,
        Self::FilterUnassigned,
        Self::FilterRequester,
        Self::FilterTag,
        Self::SearchWord,
        Self::SearchOrder,
        Self::Stats,
        Self::CreateTicket,
        Self::PostMessage,
        Self::WidgetTicket,
        Self::SignIn,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::CreateTicket => "create_ticket",
            Self::ListFirstPage => "list_first_page",
            Self::ListDeepPage => "list_page_1000",
            Self::FilterStatus => "filter_status",
            Self::FilterPriority => "filter_priority",
            Self::FilterCategory => "filter_category",
            Self::FilterAssignee => "filter_assignee_me",
            Self::FilterUnassigned => "filter_unassigned",
            Self::FilterRequester => "filter_requester",
            Self::FilterTag => "filter_tag",
            Self::SearchWord => "search_word",
            Self::SearchOrder => "search_order",
            Self::GetTicket => "get_ticket",
            Self::ListMessages => "list_messages",
            Self::PostMessage => "post_message",
            Self::WidgetTicket => "widget_ticket",
            Self::Stats => "stats",
            Self::FloorConstant => "floor_constant",
            Self::FloorSelect => "floor_select",
            Self::FloorPage => "floor_page",
            Self::FloorInsert => "floor_insert",
            Self::FloorStoreTicket => "floor_store_ticket",
            Self::FloorStorePage => "floor_store_page",
        }
    }

    /// Whether the floor serves this scenario, not the server.
    pub(crate) fn on_floor(self) -> bool {
        matches!(
            self,
            Self::FloorConstant
                | Self::FloorSelect
                | Self::FloorPage
                | Self::FloorInsert
                | Self::FloorStoreTicket
                | Self::FloorStorePage
        )
    }

    /// The floor a scenario is compared with: writes with one INSERT, pages of 25 (tickets or
    /// messages) with one SELECT of a page, the rest with one SELECT of a row.
    pub(crate) fn floor(name: &str) -> &'static str {
        match name {
            "create_ticket" | "post_message" | "widget_ticket" => "floor_insert",
            "get_ticket" | "stats" | "sign_in" => "floor_select",
            _ => "floor_page",
        }
    }

    pub(super) fn request(
        self,
        client: &Client,
        context: &Context,
        rng: &mut StdRng,
    ) -> RequestBuilder {
        let api = |method: Method, path: &str| {
            client
                .request(method, format!("{}{path}", context.target))
                .bearer_auth(&context.agent_token)
        };
        let list = |filter: &[(&str, String)]| {
            api(Method::GET, "/api/tickets")
                .query(&[("limit", "25")])
                .query(filter)
        };
        let ticket = context.ticket_ids[rng.random_range(0..context.ticket_ids.len())];
        let exchange = &context.exchanges[rng.random_range(0..context.exchanges.len())];
        match self {
            Self::SignIn => client
                .post(format!("{}/api/auth/login", context.target))
                .json(&json!({
                    "email": agent_email(rng.random_range(0..context.agents)),
                    "password": context.password,
                })),
            Self::CreateTicket => api(Method::POST, "/api/tickets").json(&new_ticket(exchange)),
            Self::ListFirstPage => list(&[]),
            Self::ListDeepPage => match &context.deep_cursor {
                Some(cursor) => list(&[("cursor", cursor.clone())]),
                None => list(&[]),
            },
            Self::FilterStatus => list(&[("status", "open".to_owned())]),
            Self::FilterPriority => list(&[("priority", "urgent".to_owned())]),
            Self::FilterCategory => list(&[("category_id", context.category_id.to_string())]),
            Self::FilterAssignee => list(&[("assignee_id", "me".to_owned())]),
            Self::FilterUnassigned => list(&[("assignee_id", "none".to_owned())]),
            Self::FilterRequester => list(&[("requester_id", context.requester_id.to_string())]),
            Self::FilterTag => list(&[("tag", context.tag.clone())]),
            Self::SearchWord => {
                let word = &context.search_words[rng.random_range(0..context.search_words.len())];
                list(&[("q", word.clone())])
            }
            Self::SearchOrder => list(&[(
                "q",
                order_reference(rng.random_range(1..=context.seeded_tickets)),
            )]),
            Self::GetTicket => api(Method::GET, &format!("/api/tickets/{ticket}")),
            Self::ListMessages => api(
                Method::GET,
                &format!("/api/tickets/{ticket}/messages?limit=25"),
            ),
            Self::PostMessage => {
                let ticket =
                    context.open_ticket_ids[rng.random_range(0..context.open_ticket_ids.len())];
                api(Method::POST, &format!("/api/tickets/{ticket}/messages"))
                    .json(&json!({"body": exchange.response}))
            }
            Self::WidgetTicket => client
                .post(format!("{}/widget/tickets", context.target))
                .header("x-widget-key", &context.widget_key)
                .header("origin", "https://bench.example")
                .json(&json!({
                    "name": "Vera Visitor",
                    "email": format!("visitor{}@bench.example", rng.random_range(0..1_000_000)),
                    "message": exchange.request,
                })),
            Self::Stats => api(Method::GET, "/api/tickets/stats"),
            Self::FloorConstant => client.get(format!("{}/floor/constant", context.floor)),
            Self::FloorSelect => client.get(format!("{}/floor/select/{ticket}", context.floor)),
            Self::FloorPage => client.get(format!("{}/floor/page", context.floor)),
            Self::FloorInsert => client.post(format!("{}/floor/insert", context.floor)),
            Self::FloorStoreTicket => {
                client.get(format!("{}/floor/store/ticket/{ticket}", context.floor))
            }
            Self::FloorStorePage => client.get(format!("{}/floor/store/page", context.floor)),
        }
    }
}

/// The body of `POST /api/tickets` for a ticket asking what `exchange` asks.
pub(super) fn new_ticket(exchange: &Exchange) -> Value {
    json!({
        "subject": first_chars(&exchange.request, 200),
        "description": exchange.request,
        "tags": [exchange.tag()],
    })
}
