//! The admin's account management, and who may not do it (agents list their active colleagues
//! only).

use growdesk_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, access, refresh, spawn_app};

on_both_backends!(
    admin_creates_lists_reads_and_changes_users,
    users_are_listed_in_pages,
    deactivation_stops_tokens_at_once,
    role_change_invalidates_tokens_and_admin_reset_signs_out,
    the_last_admin_cannot_be_demoted_or_deactivated,
    only_admins_manage_users_and_refusals_change_nothing,
    agents_list_only_their_active_colleagues,
);

fn id_of(user: &Value) -> &str {
    user["id"].as_str().unwrap()
}

async fn admin_creates_lists_reads_and_changes_users(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let agent = app
        .post("/api/users", Some(&admin), json!({"email": "Agent.Smith@Example.com", "role": "agent", "name": "Smith", "password": "agent-password"}))
        .await
        .expect(201)
        .body;
    assert_eq!(
        (
            agent["email"].as_str(),
            agent["role"].as_str(),
            agent["active"].as_bool()
        ),
        (Some("agent.smith@example.com"), Some("agent"), Some(true))
    );
    app.post(
        "/api/users",
        Some(&admin),
        json!({"email": "agent.smith@example.com", "role": "customer"}),
    )
    .await
    .problem(409);
    let invalid = app
        .post(
            "/api/users",
            Some(&admin),
            json!({"email": "x", "role": "root"}),
        )
        .await
        .problem(422);
    assert_eq!(invalid["errors"][0]["field"], "role");

    let read = app
        .get(&format!("/api/users/{}", id_of(&agent)), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(read, agent);
    let changed = app
        .patch(
            &format!("/api/users/{}", id_of(&agent)),
            &admin,
            json!({"name": "Agent Smith", "role": "admin"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        (changed["name"].as_str(), changed["role"].as_str()),
        (Some("Agent Smith"), Some("admin"))
    );
    app.patch(
        &format!("/api/users/{}", id_of(&agent)),
        &admin,
        json!({"id": "00000000-0000-0000-0000-000000000000"}),
    )
    .await
    .problem(422);
    app.patch(
        &format!("/api/users/{}", id_of(&agent)),
        &admin,
        json!({"name": ""}),
    )
    .await
    .problem(422);

    app.get("/api/users/not-a-uuid", &admin).await.problem(404);
    app.get(&format!("/api/users/{}", uuid::Uuid::now_v7()), &admin)
        .await
        .problem(404);
    app.patch(
        &format!("/api/users/{}", uuid::Uuid::now_v7()),
        &admin,
        json!({"name": "Nobody"}),
    )
    .await
    .problem(404);

    let customer = app
        .post(
            "/api/users",
            Some(&admin),
            json!({"email": "no-password@example.com", "role": "customer"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(customer["name"], "no-password");
    let listed = app
        .get("/api/users?role=customer", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let searched = app.get("/api/users?q=SMITH", &admin).await.expect(200).body;
    assert_eq!(searched["items"][0]["id"], agent["id"]);
}

async fn users_are_listed_in_pages(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.post(
            "/api/users",
            Some(&admin),
            json!({"email": format!("u{i}@example.com"), "role": "customer"}),
        )
        .await
        .expect(201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/users?limit=2".to_owned();
    loop {
        let page = app.get(&path, &admin).await.expect(200).body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|user| user["email"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            ADMIN_EMAIL,
            "u0@example.com",
            "u1@example.com",
            "u2@example.com",
            "u3@example.com"
        ]
    );
    for bad in ["limit=0", "limit=101", "limit=1000000", "cursor=bogus"] {
        app.get(&format!("/api/users?{bad}"), &admin)
            .await
            .problem(422);
    }
    app.get("/api/users?limit=abc", &admin).await.problem(400);
    app.get("/api/users?active=false", &admin).await.expect(200);
}

async fn deactivation_stops_tokens_at_once(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let (token, user) = app.user_token("leaver@example.com", "customer").await;
    let tokens = app.login("leaver@example.com", "user-password-1").await;
    app.get("/api/auth/me", &token).await.expect(200);
    let admin = app.admin_token().await;
    let deactivated = app
        .delete(&format!("/api/users/{}", id_of(&user)), &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(deactivated["active"], false);
    app.get("/api/auth/me", &token).await.problem(401);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&tokens)}),
    )
    .await
    .problem(401);
    app.post(
        "/api/auth/login",
        None,
        json!({"email": "leaver@example.com", "password": "user-password-1"}),
    )
    .await
    .problem(401);
    // The account and its history stay; an admin can bring it back.
    app.get(&format!("/api/users/{}", id_of(&user)), &admin)
        .await
        .expect(200);
    app.patch(
        &format!("/api/users/{}", id_of(&user)),
        &admin,
        json!({"active": true}),
    )
    .await
    .expect(200);
    app.login("leaver@example.com", "user-password-1").await;
}

async fn role_change_invalidates_tokens_and_admin_reset_signs_out(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (token, user) = app.user_token("promoted@example.com", "agent").await;
    app.patch(
        &format!("/api/users/{}", id_of(&user)),
        &admin,
        json!({"role": "admin"}),
    )
    .await
    .expect(200);
    app.get("/api/auth/me", &token).await.problem(401);
    let fresh = app.login("promoted@example.com", "user-password-1").await;
    assert_eq!(fresh["user"]["role"], "admin");

    app.patch(
        &format!("/api/users/{}", id_of(&user)),
        &admin,
        json!({"password": "reset-password-9"}),
    )
    .await
    .expect(200);
    app.get("/api/auth/me", &access(&fresh)).await.problem(401);
    app.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh(&fresh)}),
    )
    .await
    .problem(401);
    app.login("promoted@example.com", "reset-password-9").await;
}

async fn the_last_admin_cannot_be_demoted_or_deactivated(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = access(&tokens);
    let me = id_of(&tokens["user"]).to_owned();
    app.delete(&format!("/api/users/{me}"), &admin)
        .await
        .problem(409);
    app.patch(
        &format!("/api/users/{me}"),
        &admin,
        json!({"role": "agent"}),
    )
    .await
    .problem(409);
    app.get("/api/auth/me", &admin).await.expect(200);

    let second = app
        .post(
            "/api/users",
            Some(&admin),
            json!({"email": "second@example.com", "role": "admin", "password": "second-admin-pw"}),
        )
        .await
        .expect(201)
        .body;
    app.delete(&format!("/api/users/{me}"), &admin)
        .await
        .expect(200);
    let other = access(&app.login("second@example.com", "second-admin-pw").await);
    app.delete(&format!("/api/users/{}", id_of(&second)), &other)
        .await
        .problem(409);
}

async fn only_admins_manage_users_and_refusals_change_nothing(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, agent_user) = app.user_token("agent@example.com", "agent").await;
    let (customer, _) = app.user_token("customer@example.com", "customer").await;
    let before = app
        .get("/api/users?limit=100", &admin)
        .await
        .expect(200)
        .body;
    let target = format!("/api/users/{}", id_of(&agent_user));

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/users".to_owned(), None),
        (
            Method::POST,
            "/api/users".to_owned(),
            Some(json!({"email": "new@example.com", "role": "admin", "password": "new-admin-pw"})),
        ),
        (Method::GET, target.clone(), None),
        (
            Method::PATCH,
            target.clone(),
            Some(json!({"role": "admin"})),
        ),
        (Method::DELETE, target.clone(), None),
    ];
    for (method, path, body) in &routes {
        for (who, token, status) in [
            ("anonymous", None, 401),
            ("customer", Some(customer.as_str()), 403),
            ("agent", Some(agent.as_str()), 403),
        ] {
            let reply = app.call(method.clone(), path, token, body.clone()).await;
            assert_eq!(
                reply.status.as_u16(),
                status,
                "{who} {method} {path}: {}",
                reply.body
            );
            reply.problem(status);
        }
    }
    let after = app
        .get("/api/users?limit=100", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(before, after, "refused requests changed nothing");
    app.get("/api/auth/me", &agent).await.expect(200);
}

async fn agents_list_only_their_active_colleagues(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let (agent, _) = app.user_token("agent@example.com", "agent").await;
    let (_, gone) = app.user_token("gone@example.com", "agent").await;
    let (customer, _) = app.user_token("customer@example.com", "customer").await;
    app.delete(&format!("/api/users/{}", id_of(&gone)), &admin)
        .await
        .expect(200);
    let emails = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let agents = app
        .get("/api/users?role=agent&active=true", &agent)
        .await
        .expect(200)
        .body;
    assert_eq!(emails(&agents), ["agent@example.com"]);
    let admins = app
        .get("/api/users?role=admin&active=true&q=admin", &agent)
        .await
        .expect(200)
        .body;
    assert_eq!(emails(&admins), [ADMIN_EMAIL]);
    for other in [
        "/api/users?role=agent",
        "/api/users?role=agent&active=false",
        "/api/users?role=customer&active=true",
        "/api/users?active=true",
    ] {
        app.get(other, &agent).await.problem(403);
    }
    app.get("/api/users?role=agent&active=true", &customer)
        .await
        .problem(403);
}
