//! API integration tests: the real app on port 0, a fresh database per test, every scenario on
//! SQLite and on PostgreSQL. One test binary, so the suite links once.

/// Generates `sqlite::name` and `postgres::name` tests for each scenario `name(BackendKind)`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(growdesk_store::BackendKind::Postgres).await;
            })*
        }
    };
}

mod helpers;

mod accounts;
mod assignment;
mod auth;
mod backup;
mod binary;
mod browser;
mod canned_replies;
mod caseless;
mod catalog;
mod console;
mod cursors;
mod deployment;
mod email;
mod emails;
mod event_wire;
mod faults;
mod fuzz;
mod http_edge;
mod http_errors;
mod identity;
mod matrix;
mod openapi;
mod operations;
mod operator;
mod proxies;
mod readme;
mod realtime;
mod refresh;
mod search;
mod tickets;
mod views;
mod webhooks;
mod widget_promises;
mod widgets;
