//! `parse` never panics: every corpus message cut short at many points and with bytes flipped
//! at random (a fixed seed, so a failure repeats), plus inputs built to be hostile.

use std::fs;
use std::path::PathBuf;

use super::{MailClass, parse};

/// A small deterministic generator (SplitMix64): the same damaged inputs on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound as u64).unwrap_or(0)
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .expect("the corpus folder is readable")
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "eml" || ext == "html")
        })
        .map(|path| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, fs::read(&path).expect("a corpus file is readable"))
        })
        .collect();
    files.sort();
    files
}

/// Checks what every parse result must satisfy, whatever the input.
fn check(name: &str, raw: &[u8]) {
    let mail = parse(raw);
    assert!(!mail.message_id.is_empty(), "{name}: empty message id");
    assert!(
        mail.message_id.len() <= 500,
        "{name}: message id too long to index"
    );
    assert!(
        !mail.message_id.contains(char::is_whitespace),
        "{name}: {:?}",
        mail.message_id
    );
    assert!(
        !mail.full_text.contains('\0') && !mail.text.contains('\0'),
        "{name}: NUL in text"
    );
    assert!(
        !mail.subject.contains(char::is_control),
        "{name}: control character in subject"
    );
    for address in mail.from.iter().chain(&mail.to).chain(&mail.cc) {
        assert_eq!(address.email, address.email.to_lowercase(), "{name}");
        assert!(
            !address
                .name
                .as_deref()
                .unwrap_or_default()
                .contains(char::is_control),
            "{name}"
        );
    }
    let mut one_line_fields: Vec<&str> = mail
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    one_line_fields.extend(mail.list_id.as_deref());
    one_line_fields.extend(mail.content_language.as_deref());
    if let MailClass::Bounce { diagnostic, .. } = &mail.kind {
        one_line_fields.push(diagnostic);
    }
    for field in one_line_fields {
        assert!(
            !field.contains(char::is_control),
            "{name}: control character in {field:?}"
        );
    }
    assert!(
        mail.attachments.iter().all(|a| !a.filename.is_empty()),
        "{name}: unnamed file"
    );
}

#[test]
fn truncated_corpus_messages_parse() {
    let files = corpus();
    assert!(files.len() >= 74, "the corpus is in tests/corpus");
    for (name, raw) in &files {
        let step = (raw.len() / 64).max(1);
        for end in (0..raw.len()).step_by(step) {
            check(&format!("{name}[..{end}]"), &raw[..end]);
        }
    }
}

#[test]
fn corpus_messages_with_flipped_bytes_parse() {
    let mut random = SplitMix(0x6D61_696C_2D66_757A);
    for (name, raw) in corpus() {
        for round in 0..24 {
            let mut damaged = raw.clone();
            let flips = 1 + random.below(16);
            for _ in 0..flips {
                let at = random.below(damaged.len().max(1));
                if let Some(byte) = damaged.get_mut(at) {
                    // Structural bytes are the interesting ones: boundaries, separators, encodings.
                    let choices = [b'\r', b'\n', b'-', b':', b'=', b'?', b'<', b'>', 0, 0xFF];
                    *byte = if random.below(2) == 0 {
                        choices[random.below(choices.len())]
                    } else {
                        u8::try_from(random.below(256)).unwrap_or(0)
                    };
                }
            }
            check(&format!("{name} round {round}"), &damaged);
        }
    }
}

#[test]
fn hostile_inputs_parse() {
    let deep_html = format!(
        "Content-Type: text/html\r\n\r\n{}x{}",
        "<div><blockquote>".repeat(100_000),
        "</blockquote></div>".repeat(100_000)
    );
    // Just under html::MAX_START_TAGS: these still go through html5ever and html2text.
    let deep_html_under_limit = format!(
        "Content-Type: text/html\r\n\r\n{}x",
        "<div><blockquote>".repeat(1_999)
    );
    let deep_tables_under_limit = format!(
        "Content-Type: text/html\r\n\r\n{}x",
        "<table><tr><td>".repeat(1_333)
    );
    let deep_multipart = (0..5_000).fold(String::from("body"), |inner, depth| {
        format!("Content-Type: multipart/mixed; boundary=\"b{depth}\"\r\n\r\n--b{depth}\r\n{inner}\r\n--b{depth}--\r\n")
    });
    let nested_messages = (0..2_000).fold(String::from("Subject: last\r\n\r\nx"), |inner, _| {
        format!("Content-Type: message/rfc822\r\n\r\n{inner}")
    });
    let many_lines = format!(
        "Subject: lines\r\n\r\n{}",
        "--\r\n> quoted\r\nOn 1 Jan, a wrote:\r\n\r\nFrom: x\r\nSent from my phone\r\n"
            .repeat(40_000)
    );
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("many lines", many_lines.into_bytes()),
        ("empty", Vec::new()),
        ("nul bytes", vec![0; 4096]),
        ("all bytes", (0..=255).collect()),
        ("only headers", b"From: a@b\r\nSubject: x".to_vec()),
        (
            "broken encoded words",
            b"Subject: =?utf-8?B?###?= =?x?Q?=ZZ?=\r\n\r\n".to_vec(),
        ),
        (
            "bad charset",
            b"Content-Type: text/plain; charset=nope\r\n\r\n\xff\xfe".to_vec(),
        ),
        ("deep html", deep_html.into_bytes()),
        (
            "deep html under the limit",
            deep_html_under_limit.into_bytes(),
        ),
        (
            "deep tables under the limit",
            deep_tables_under_limit.into_bytes(),
        ),
        ("deep multipart", deep_multipart.into_bytes()),
        ("nested messages", nested_messages.into_bytes()),
        (
            "long line",
            format!(
                "Subject: {}\r\n\r\n{}",
                "a".repeat(100_000),
                "b".repeat(1_000_000)
            )
            .into_bytes(),
        ),
    ];
    for (name, raw) in inputs {
        check(name, &raw);
    }
}
