//! Times out of the databases' range: a cursor a client altered to name one is refused with 422
//! on every list that takes a time key, never passed on to the database; a lifetime setting that
//! reaches past year 9999 ends sessions at the last time stored instead of failing sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, access, refresh, spawn_app, spawn_app_with,
};

on_both_backends!(
    cursors_with_times_out_of_range_are_refused,
    sessions_longer_than_the_calendar_end_at_its_last_day,
);

/// Microseconds since 1970 of 1 January of `year` (proleptic Gregorian, close enough: every
/// year used here is far from the edge of the range).
fn micros_in_year(year: i64) -> i64 {
    (year - 1970) * 31_556_952 * 1_000_000
}

fn cursor(position: &Value) -> String {
    URL_SAFE_NO_PAD.encode(position.to_string())
}

/// Keys beyond what a ticket's time can be: before PostgreSQL's 4713 BC, year 0, past 9999, and
/// the ends of the key's type.
fn out_of_range_keys() -> [i64; 5] {
    [
        micros_in_year(-6000),
        micros_in_year(0) - 1_000_000,
        micros_in_year(10_001),
        i64::MIN,
        i64::MAX,
    ]
}

async fn cursors_with_times_out_of_range_are_refused(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    for subject in ["First", "Second"] {
        app.post(
            "/api/tickets",
            Some(&admin),
            json!({"subject": subject, "description": "Text."}),
        )
        .await
        .expect(201);
    }
    let widget = app
        .post("/api/widgets", Some(&admin), json!({"name": "Shop"}))
        .await
        .expect(201)
        .body;
    let widget_key = widget["key"].as_str().unwrap();
    let opened = app
        .client
        .post(app.url("/widget/tickets"))
        .header("x-widget-key", widget_key)
        .json(&json!({"name": "Vera", "email": "vera@example.com", "message": "Hello"}))
        .send()
        .await
        .unwrap();
    let opened = TestApp::reply(opened).await.expect(201).body;
    let visitor = opened["visitor_token"].as_str().unwrap();

    for (path, sort) in [
        ("/api/tickets?limit=1", "created_at:desc"),
        (
            "/api/tickets?limit=1&sort=updated_at&order=asc",
            "updated_at:asc",
        ),
        (
            "/api/tickets?limit=1&sort=created_at&order=asc",
            "created_at:asc",
        ),
    ] {
        let first = app.get(path, &admin).await.expect(200).body;
        let issued = first["next_cursor"].as_str().expect("a second page");
        app.get(&format!("{path}&cursor={issued}"), &admin)
            .await
            .expect(200);
        let id = first["items"][0]["id"].clone();
        for key in out_of_range_keys() {
            let tampered = cursor(&json!({"sort": sort, "key": key, "id": id}));
            let problem = app
                .get(&format!("{path}&cursor={tampered}"), &admin)
                .await
                .problem(422);
            assert_eq!(
                problem["errors"][0]["field"], "cursor",
                "{path} {key}: {problem}"
            );
        }
    }

    let id = opened["ticket"]["id"].clone();
    for key in out_of_range_keys() {
        let tampered = cursor(&json!({"sort": "created_at:desc", "key": key, "id": id}));
        let reply = app
            .client
            .get(app.url(&format!("/widget/tickets?cursor={tampered}")))
            .header("x-widget-key", widget_key)
            .bearer_auth(visitor)
            .send()
            .await
            .unwrap();
        let problem = TestApp::reply(reply).await.problem(422);
        assert_eq!(problem["errors"][0]["field"], "cursor", "{key}: {problem}");
    }
}

async fn sessions_longer_than_the_calendar_end_at_its_last_day(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| settings.session_ttl_days = 10_000_000).await;
    let signed_in = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.get("/api/auth/me", &access(&signed_in))
        .await
        .expect(200);
    let refreshed = app
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refresh(&signed_in)}),
        )
        .await
        .expect(200)
        .body;
    app.get("/api/auth/me", &access(&refreshed))
        .await
        .expect(200);
}
