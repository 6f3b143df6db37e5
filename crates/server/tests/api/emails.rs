//! Email addresses have one normal form (trimmed, NFKC, lower-cased, nothing invisible):
//! look-alikes are one account, identity hashes are of that form, and addresses stored before
//! it are rewritten at start-up.

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, access, spawn_app, spawn_second_instance};
use crate::identity::{ids, open_chat};
use crate::widgets::{SITE, identity_hash, public, visitor_ticket, widget};

on_both_backends!(
    look_alike_emails_are_one_account,
    identity_hashes_are_of_the_normalised_email,
    emails_stored_before_normalisation_are_rewritten_at_start_up,
);

/// Replaces a stored address, as an older version could have stored it.
async fn store_email(app: &TestApp, kind: BackendKind, from: &str, to: &str) {
    let sql = "UPDATE users SET email = $2 WHERE email = $1";
    let changed = match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            let done = sqlx::query(sql)
                .bind(from)
                .bind(to)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected();
            pool.close().await;
            done
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            sqlx::query(sql)
                .bind(from)
                .bind(to)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(changed, 1, "{from}");
}

async fn look_alike_emails_are_one_account(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let registered = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "cy@example.com", "password": "cy-password"}),
        )
        .await
        .expect(201)
        .body;
    let cy = registered["user"]["id"].as_str().unwrap();
    for look_alike in [
        "\u{ff43}\u{ff59}@example.com",
        "\u{ff23}Y@\u{ff45}xample.com",
    ] {
        app.post(
            "/api/auth/register",
            None,
            json!({"email": look_alike, "password": "other-password"}),
        )
        .await
        .problem(409);
        app.post(
            "/api/users",
            Some(&admin),
            json!({"email": look_alike, "role": "agent"}),
        )
        .await
        .problem(409);
        let signed_in = app.login(look_alike, "cy-password").await;
        assert_eq!(signed_in["user"]["id"], cy, "{look_alike:?}");
    }
    for hidden in [
        "cy\u{200b}@example.com",
        "c\u{200d}y@example.com",
        "cy@example.com\u{feff}",
        "c\u{00ad}y@example.com",
    ] {
        let refused = app
            .post(
                "/api/auth/register",
                None,
                json!({"email": hidden, "password": "other-password"}),
            )
            .await
            .problem(422);
        assert_eq!(refused["errors"][0]["field"], "email", "{hidden:?}");
    }
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE]}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    let opened = open_chat(&app, key, "\u{ff43}\u{ff59}@example.com").await;
    assert_eq!(opened["ticket"]["requester"]["id"], cy);
    let tickets = app
        .get("/api/tickets", &access(&registered))
        .await
        .expect(200);
    assert_eq!(
        ids(&tickets.body),
        [opened["ticket"]["id"].as_str().unwrap()]
    );
}

async fn identity_hashes_are_of_the_normalised_email(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let secret = "site-identity-secret-0123";
    let created = widget(
        &app,
        &admin,
        json!({"name": "Shop", "allowed_origins": [SITE], "identity_secret": secret, "enforce_identity": true}),
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

    let normalised = identity_hash(secret, "known@example.com");
    for typed in [
        "Known@Example.COM",
        "\u{ff4b}nown@example.com",
        " known@example.com ",
    ] {
        let mut body = visitor_ticket(typed);
        body["identity_hash"] = json!(normalised);
        let opened = public(&app, Method::POST, "/widget/tickets", key, None, Some(body))
            .await
            .expect(201)
            .body;
        let history = public(
            &app,
            Method::GET,
            "/widget/tickets",
            key,
            Some(opened["visitor_token"].as_str().unwrap()),
            None,
        )
        .await
        .expect(200)
        .body;
        assert!(
            history["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|ticket| ticket["subject"] == "Earlier"),
            "{typed:?}: a hash of the normalised email proves the customer"
        );
    }
    // A hash of another spelling would let a site whose accounts differ only in case (or in
    // width) prove the one GrowDesk folds them into.
    for typed in ["Known@Example.COM", "\u{ff4b}nown@example.com"] {
        let mut body = visitor_ticket(typed);
        body["identity_hash"] = json!(identity_hash(secret, typed));
        public(&app, Method::POST, "/widget/tickets", key, None, Some(body))
            .await
            .problem(401);
    }
}

async fn emails_stored_before_normalisation_are_rewritten_at_start_up(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (_, jose) = app.user_token("legacy@example.com", "customer").await;
    let (_, cy) = app.user_token("cy@example.com", "customer").await;
    let (_, twin) = app.user_token("twin@example.com", "customer").await;
    let (_, hidden) = app.user_token("hidden@example.com", "customer").await;
    // Fullwidth letters and a decomposed accent; a fullwidth twin of another account; a
    // zero-width space.
    let legacy = "\u{ff4a}\u{ff4f}se\u{301}@example.com";
    store_email(&app, kind, "legacy@example.com", legacy).await;
    store_email(
        &app,
        kind,
        "twin@example.com",
        "\u{ff43}\u{ff59}@example.com",
    )
    .await;
    store_email(
        &app,
        kind,
        "hidden@example.com",
        "hid\u{200b}den@example.com",
    )
    .await;

    let restarted = spawn_second_instance(&app).await;
    let signed_in = restarted
        .login("jos\u{e9}@example.com", "user-password-1")
        .await;
    assert_eq!(signed_in["user"]["id"], jose["id"]);
    assert_eq!(signed_in["user"]["email"], "jos\u{e9}@example.com");
    let signed_in = restarted.login("CY@example.com", "user-password-1").await;
    assert_eq!(
        signed_in["user"]["id"], cy["id"],
        "the twin took nobody's place"
    );
    for (user, kept) in [
        (&twin, "\u{ff43}\u{ff59}@example.com"),
        (&hidden, "hid\u{200b}den@example.com"),
    ] {
        let stored = restarted
            .get(
                &format!("/api/users/{}", user["id"].as_str().unwrap()),
                &admin,
            )
            .await
            .expect(200)
            .body;
        assert_eq!(stored["email"], kept, "left for an admin to settle");
    }
}
