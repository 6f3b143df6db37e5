//! `/widget/preview`: the widget drawn from the settings in its query, for the console's live
//! preview. It reads nothing and writes nothing, escapes whatever it is given, is framed by the
//! server's own pages only, runs sandboxed, and refuses settings a widget could not be saved
//! with.

use growdesk_store::BackendKind;
use reqwest::Method;

use crate::helpers::{Reply, spawn_app};

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The config the page hands widget.js, read back from its `data-preview` attribute.
fn drawn(reply: &Reply) -> serde_json::Value {
    let html = reply.body.as_str().expect("an HTML page");
    let attribute = html
        .split("data-preview=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries the config");
    let json = attribute
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("the config is JSON")
}

#[tokio::test]
async fn the_preview_draws_any_settings_safely() {
    let app = spawn_app(BackendKind::Sqlite).await;
    let hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)>'&";
    let query = format!(
        "/widget/preview?brand_name={}&color=%23FFFF00&position=left&welcome_message=Hola%0Ay%20bienvenida",
        urlencode(hostile)
    );
    let page = app.call(Method::GET, &query, None, None).await.expect(200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let policy = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "frame-ancestors 'self'",
        "form-action 'none'",
        "sandbox allow-scripts",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("allow-same-origin"), "{policy}");
    assert_eq!(header(&page, "x-frame-options"), "SAMEORIGIN");
    assert_eq!(header(&page, "cache-control"), "no-store");
    let html = page.body.as_str().unwrap();
    assert!(
        !html.contains("<img"),
        "the text never becomes markup: {html}"
    );
    assert_eq!(html.matches("<script").count(), 1, "only widget.js: {html}");
    let config = drawn(&page);
    assert_eq!(config["settings"]["brand_name"], hostile, "kept as text");
    assert_eq!(config["settings"]["color"], "#FFFF00");
    assert_eq!(config["settings"]["position"], "left");
    assert_eq!(config["settings"]["welcome_message"], "Hola\ny bienvenida");
    assert_eq!(config["text_color"], "#000000", "black on yellow");
    assert_eq!(config["agents_online"], false);

    let defaults = app
        .call(Method::GET, "/widget/preview", None, None)
        .await
        .expect(200);
    let config = drawn(&defaults);
    assert_eq!(config["settings"]["color"], "#2563eb");
    assert_eq!(config["text_color"], "#ffffff", "white on the default blue");

    for (bad, field) in [
        ("color=red", "settings.color"),
        ("position=top", "settings.position"),
        (
            &*format!("welcome_message={}", "a".repeat(501)),
            "settings.welcome_message",
        ),
    ] {
        let problem = app
            .call(Method::GET, &format!("/widget/preview?{bad}"), None, None)
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{bad}");
    }
    app.call(Method::GET, "/widget/preview?key=wk_x", None, None)
        .await
        .problem(400);
    app.call(Method::POST, "/widget/preview", None, None)
        .await
        .problem(405);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
