//! Names that ignore case do so for every script, the same on both backends: category names are
//! unique by their folded key and tags are stored folded; rows written before keys were folded
//! are brought in line when the server starts.

use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_second_instance};

on_both_backends!(
    category_names_and_tags_ignore_case_beyond_ascii,
    user_names_are_searched_ignoring_case_beyond_ascii,
    names_and_tags_stored_before_folding_are_refolded_at_start,
);

/// Runs `statements` on the app's database, outside the app.
pub(crate) async fn run_sql(kind: BackendKind, app: &TestApp, statements: &[&str]) {
    match kind {
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(app.database_url()).await.unwrap();
            for statement in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*statement))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(app.database_url()).await.unwrap();
            for statement in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(*statement))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }
    }
}

async fn category(app: &TestApp, admin: &str, name: &str) -> crate::helpers::Reply {
    app.post("/api/categories", Some(admin), json!({"name": name}))
        .await
}

async fn tagged(app: &TestApp, token: &str, tag: &str) -> Vec<Value> {
    let path = format!("/api/tickets?tag={}", urlencode(tag));
    let page = app.get(&path, token).await.expect(200).body;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect()
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

async fn category_names_and_tags_ignore_case_beyond_ascii(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    for (first, same) in [
        ("Facturación", "FACTURACIÓN"),
        ("élan", "ÉLAN"),
        ("Straße", "STRASSE"),
        ("Ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ"),
    ] {
        category(&app, &admin, first).await.expect(201);
        let problem = category(&app, &admin, same).await.problem(422);
        assert_eq!(problem["errors"][0]["field"], "name", "{same}");
    }
    // The same letters composed another way are the same name.
    category(&app, &admin, "E\u{301}LAN").await.problem(422);
    let other = category(&app, &admin, "Envíos").await.expect(201).body;
    let path = format!("/api/categories/{}", other["id"].as_str().unwrap());
    app.patch(&path, &admin, json!({"name": "facturacion"}))
        .await
        .expect(200);
    app.patch(&path, &admin, json!({"name": "FACTURACIÓN"}))
        .await
        .problem(422);
    // A category may change the case of its own name.
    app.patch(&path, &admin, json!({"name": "FACTURACION"}))
        .await
        .expect(200);

    let ticket = app
        .post(
            "/api/tickets",
            Some(&admin),
            json!({"subject": "Tagged", "description": "Text.", "tags": ["Straße", "E\u{301}LAN"]}),
        )
        .await
        .expect(201)
        .body;
    let mut tags: Vec<&str> = ticket["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, ["strasse", "élan"]);
    for filter in ["STRASSE", "straße", "ÉLAN", "e\u{301}lan"] {
        assert_eq!(
            tagged(&app, &admin, filter).await,
            [ticket["id"].clone()],
            "{filter}"
        );
    }
}

/// Ids of the users whose name or email contains `query`.
async fn users_matching(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/users?q={}", urlencode(query)), admin)
        .await
        .expect(200)
        .body;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect()
}

async fn user_names_are_searched_ignoring_case_beyond_ascii(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    let user = json!({"email": "elodie@example.com", "name": "Élodie Straße", "role": "agent", "password": "user-password-1"});
    let user = app
        .post("/api/users", Some(&admin), user)
        .await
        .expect(201)
        .body;
    for query in ["élodie", "ÉLODIE", "E\u{301}LODIE", "STRASSE", "odie straß"] {
        assert_eq!(
            users_matching(&app, &admin, query).await,
            [user["id"].clone()],
            "{query}"
        );
    }
    let path = format!("/api/users/{}", user["id"].as_str().unwrap());
    app.patch(&path, &admin, json!({"name": "Ødegaard"}))
        .await
        .expect(200);
    assert_eq!(
        users_matching(&app, &admin, "ØDEGAARD").await,
        [user["id"].clone()]
    );
    assert!(users_matching(&app, &admin, "ÉLODIE").await.is_empty());
}

async fn names_and_tags_stored_before_folding_are_refolded_at_start(kind: BackendKind) {
    let app = spawn_app(kind).await;
    let admin = app.admin_token().await;
    category(&app, &admin, "Straße").await.expect(201);
    category(&app, &admin, "Placeholder").await.expect(201);
    let both = json!({"subject": "Both", "description": "Text.", "tags": ["strasse", "old"]});
    let both = app
        .post("/api/tickets", Some(&admin), both)
        .await
        .expect(201)
        .body;
    let legacy = json!({"subject": "Legacy", "description": "Text.", "tags": ["old"]});
    let legacy = app
        .post("/api/tickets", Some(&admin), legacy)
        .await
        .expect(201)
        .body;
    let user = json!({"email": "anna@example.com", "name": "Anna Straße", "role": "agent", "password": "user-password-1"});
    let user = app
        .post("/api/users", Some(&admin), user)
        .await
        .expect(201)
        .body;

    // The state migration 0013 leaves rows written before it in: keys from lower(), which leaves
    // 'ß' alone (the old index let "Straße" and "STRASSE" coexist), and tags lower-cased only.
    run_sql(
        kind,
        &app,
        &[
            "UPDATE categories SET name = 'STRASSE' WHERE name = 'Placeholder'",
            "UPDATE categories SET name_key = lower(name)",
            "UPDATE users SET name_key = lower(name)",
            "INSERT INTO pending_backfills (name) VALUES ('fold_user_names')",
            "UPDATE ticket_tags SET tag = 'straße' WHERE tag = 'old'",
            "INSERT INTO pending_backfills (name) VALUES ('fold_ticket_tags')",
        ],
    )
    .await;

    let restarted = spawn_second_instance(&app).await;
    let listed = restarted
        .get("/api/categories", &admin)
        .await
        .expect(200)
        .body;
    let mut names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["STRASSE (2)", "Straße"],
        "the younger of two names that fold alike is numbered"
    );
    category(&restarted, &admin, "strasse").await.problem(422);
    category(&restarted, &admin, "STRASSE (2)")
        .await
        .problem(422);

    let mut found = tagged(&restarted, &admin, "strasse").await;
    found.sort_by_key(Value::to_string);
    let mut expected = vec![both["id"].clone(), legacy["id"].clone()];
    expected.sort_by_key(Value::to_string);
    assert_eq!(found, expected);
    let both_now = restarted
        .get(
            &format!("/api/tickets/{}", both["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        both_now["tags"],
        json!(["strasse"]),
        "the two spellings merged"
    );
    assert_eq!(
        users_matching(&restarted, &admin, "STRASSE").await,
        [user["id"].clone()]
    );
}
