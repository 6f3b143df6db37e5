//! Search text is only ever words: characters of every Unicode class, including those that
//! PostgreSQL's `unaccent` turns into tsquery operators and those FTS5 reads as syntax, are
//! searched as text on all three search routes.

use futures_util::{StreamExt as _, stream};
use growdesk_store::BackendKind;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

on_both_backends!(every_character_class_is_searched_as_text);

/// Probe words kept in one ticket and one FAQ.
const GROUP: usize = 40;
/// Searches in flight at once.
const PARALLEL_SEARCHES: usize = 8;

/// Code points of each class a search box may receive, generated from their blocks.
fn probe_characters() -> Vec<char> {
    let blocks: [(u32, u32); 16] = [
        (0x21, 0x7e),     // ASCII, whose punctuation is the syntax of tsquery and FTS5
        (0xa1, 0xbf),     // Latin-1 punctuation, symbols, superscripts and fractions
        (0xc6, 0xc6),     // Æ, which unaccent spells out
        (0xdf, 0xdf),     // ß
        (0x132, 0x133),   // Ĳ ĳ, compatibility ligatures
        (0x13f, 0x140),   // Ŀ ŀ
        (0x149, 0x149),   // ŉ, whose decomposition starts with an apostrophe
        (0x1c4, 0x1cc),   // Ǆ … ǌ
        (0x2b0, 0x2ff),   // modifier letters: ʼ, ː (unaccent's ':'), ˂ ˃ …
        (0x300, 0x36f),   // combining marks
        (0x2010, 0x205e), // general punctuation: quotes, dashes, ‹ ›, ⁄ …
        (0x2070, 0x209c), // superscripts and subscripts: ⁽ ⁾ ⁺ …
        (0x2100, 0x218b), // letterlike symbols and number forms: ™, Ⅻ, ½ …
        (0x2460, 0x24ff), // enclosed alphanumerics: ⑴ (unaccent's '(1)'), ⒜, ⓐ …
        (0x3000, 0x303f), // CJK symbols and punctuation
        (0xff01, 0xff65), // full-width and half-width forms: ＆ ｜ ！ （ ） ＜ ＞ ＊ ＇ …
    ];
    let mut characters: Vec<char> = blocks
        .iter()
        .flat_map(|&(first, last)| (first..=last).filter_map(char::from_u32))
        .collect();
    // Private use, emoji, joiners, soft hyphen, a variation selector, other scripts.
    characters.extend([
        '\u{e000}', '😀', '\u{200d}', '\u{ad}', '\u{fe0f}', 'ж', 'ע', '中',
    ]);
    characters.retain(|c| !c.is_whitespace());
    characters
}

/// The word probing `character`: two words that no other probe shares, joined by it.
fn probe_word(index: usize, character: char) -> String {
    format!("k{index}a{character}b{index}")
}

/// Ids of what a search answered with, or the status and body when it failed.
fn ids(reply: crate::helpers::Reply, path: &str) -> Vec<String> {
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.body["items"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Every probe word, searched on its own, finds exactly the ticket and the FAQs that contain it:
/// not a decoy holding only its first half (an OR, a prefix or a phrase operator would find
/// that), and not nothing (a NOT, a weight filter or a syntax error would). Bare characters and
/// the probe's own strings are answered with 200.
async fn every_character_class_is_searched_as_text(kind: BackendKind) {
    let app = spawn_app_with(kind, |settings| {
        settings.widget_requests_per_ip_per_minute = 100_000;
        settings.widget_requests_per_widget_per_minute = 100_000;
    })
    .await;
    let admin = app.admin_token().await;
    let widget = app
        .post("/api/widgets", Some(&admin), json!({"name": "Shop"}))
        .await
        .expect(201)
        .body;
    let key = widget["key"].as_str().unwrap().to_owned();

    let characters = probe_characters();
    let words: Vec<String> = characters
        .iter()
        .enumerate()
        .map(|(index, &character)| probe_word(index, character))
        .collect();
    let mut expected: Vec<(String, String, String)> = Vec::with_capacity(words.len());
    for (group, chunk) in words.chunks(GROUP).enumerate() {
        let first = group * GROUP;
        // A lone `<` between words: PostgreSQL's parser reads a `<` … `>` spanning words (after
        // `unaccent`, `‹`, `〈` or `＜` … `›`) as an HTML tag and indexes none of it; a `<` cuts it off.
        let text = chunk.join(" < ");
        let decoy: String = (first..first + chunk.len())
            .map(|index| format!("k{index}a "))
            .collect();
        let ticket = create_ticket(&app, &admin, &format!("Probe {group}"), &text).await;
        create_ticket(&app, &admin, &format!("Decoy {group}"), &decoy).await;
        let faq = create_faq(&app, &admin, &format!("Probe {group}"), &text).await;
        create_faq(&app, &admin, &format!("Decoy {group}"), &decoy).await;
        for word in chunk {
            expected.push((word.clone(), ticket.clone(), faq.clone()));
        }
    }

    let app = &app;
    let (admin, key) = (admin.as_str(), key.as_str());
    let failures: Vec<String> = stream::iter(expected)
        .map(|(word, ticket, faq)| async move {
            let q = urlencoding(&word);
            let found = search_everywhere(app, admin, key, &q).await;
            let wanted = [vec![ticket], vec![faq.clone()], vec![faq]];
            (found != wanted).then(|| format!("{word:?}: found {found:?}, wanted {wanted:?}"))
        })
        .buffer_unordered(PARALLEL_SEARCHES)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} probes failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let mut bare: Vec<String> = characters.iter().map(char::to_string).collect();
    bare.extend(
        [
            "ʼ",
            "ŉ",
            "aːx",
            "aːb",
            "⑴⑵",
            "a\0b",
            "'a':*",
            "!a | b",
            "\"a\" OR b*",
        ]
        .map(String::from),
    );
    stream::iter(bare)
        .for_each_concurrent(PARALLEL_SEARCHES, |text| async move {
            search_everywhere(app, admin, key, &urlencoding(&text)).await;
        })
        .await;
}

/// The ids `q` finds on the tickets, FAQs and public widget FAQs routes, asserting 200 on each.
async fn search_everywhere(app: &TestApp, admin: &str, key: &str, q: &str) -> [Vec<String>; 3] {
    let tickets = format!("/api/tickets?q={q}");
    let faqs = format!("/api/faqs?q={q}");
    let widget_faqs = format!("/widget/faqs?q={q}");
    let widget_reply = app
        .client
        .get(app.url(&widget_faqs))
        .header("x-widget-key", key)
        .send()
        .await
        .expect("the request is answered");
    [
        ids(app.get(&tickets, admin).await, &tickets),
        ids(app.get(&faqs, admin).await, &faqs),
        ids(TestApp::reply(widget_reply).await, &widget_faqs),
    ]
}

async fn create_ticket(app: &TestApp, token: &str, subject: &str, description: &str) -> String {
    let ticket = app
        .post(
            "/api/tickets",
            Some(token),
            json!({"subject": subject, "description": description}),
        )
        .await
        .expect(201)
        .body;
    id(&ticket)
}

async fn create_faq(app: &TestApp, token: &str, question: &str, answer: &str) -> String {
    let faq = app
        .post(
            "/api/faqs",
            Some(token),
            json!({"question": question, "answer": answer, "published": true}),
        )
        .await
        .expect(201)
        .body;
    id(&faq)
}

fn id(created: &Value) -> String {
    created["id"].as_str().expect("an id").to_owned()
}

/// `text` percent-encoded as a query value: every byte but unreserved ASCII.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
