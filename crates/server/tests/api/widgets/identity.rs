//! Identity hashes: a visitor proven by the site's hash sees their history, and a widget that
//! enforces identity refuses visitors without one.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use super::{SITE, identity_hash, public, visitor_ticket, widget};
use crate::helpers::spawn_app;

on_both_backends!(identity_hashes_grant_history_and_enforce_mode_refuses);

async fn identity_hashes_grant_history_and_enforce_mode_refuses(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let secret = "site-identity-secret-0123";
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE], "identity_secret": secret}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let (customer, _) = app.user_token("known@example.com", "customer").await;
    app.post(
        "/api/tickets",
        Some(&customer),
        json!({"subject": "Earlier", "description": "from the web"}),
    )
    .await
    .expect(201);

    let unproven = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("known@example.com")),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(unproven["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "without a hash, only the new conversation"
    );

    let mut wrong = visitor_ticket("known@example.com");
    wrong["identity_hash"] = json!(identity_hash(
        "another-secret-entirely",
        "known@example.com"
    ));
    let wrong = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(wrong),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(wrong["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "a wrong hash proves nothing"
    );

    let mut proven = visitor_ticket("known@example.com");
    proven["identity_hash"] = json!(identity_hash(secret, "known@example.com"));
    let proven = public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(proven),
    )
    .await
    .expect(201)
    .body;
    let list = public(
        &app,
        Method::GET,
        "/widget/tickets",
        key,
        Some(proven["visitor_token"].as_str().unwrap()),
        None,
    )
    .await
    .expect(200)
    .body;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        4,
        "a valid hash shows the customer's history"
    );

    app.patch(
        &format!("/api/widgets/{}", created["id"].as_str().unwrap()),
        &admin,
        json!({"enforce_identity": true}),
    )
    .await
    .expect(200);
    public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(visitor_ticket("known@example.com")),
    )
    .await
    .problem(401);
    let mut enforced = visitor_ticket("known@example.com");
    enforced["identity_hash"] = json!(identity_hash(secret, "known@example.com"));
    public(
        &app,
        Method::POST,
        "/widget/tickets",
        key,
        None,
        Some(enforced),
    )
    .await
    .expect(201);
}
