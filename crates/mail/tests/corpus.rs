//! The email corpus (`tests/corpus`, real messages from many clients and servers, see its
//! README): every message parses, and each meets the expectations of its row in `TABLE` —
//! its class, its new text, its files. Where a message cannot meet what its category asks, the
//! row says why.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use growdesk_mail::inbound::{MailClass, ParsedMail, parse, strip_quoted};

/// What a message is, as `ParsedMail::kind` (and `bulk`/`list_id` for list mail) says.
enum Class {
    Regular,
    /// Regular, sent through a list: `bulk`, with this `list_id` (None: the list sends none).
    List(Option<&'static str>),
    AutoReply,
    Bounce {
        original: Option<&'static str>,
        permanent: bool,
    },
}

/// What `ParsedMail::text` (the new text of the message) holds.
enum Text {
    Exactly(&'static str),
    Contains(&'static str),
    /// Equal once all whitespace is removed (talon's HTML reply expectations).
    Squashed(&'static str),
    /// Empty; the row's `why` says why.
    Empty,
}

/// A file the message carries, in order: its name and whether it is an inline image.
struct File(&'static str, bool);

const fn attached(name: &'static str) -> File {
    File(name, false)
}

const fn inline(name: &'static str) -> File {
    File(name, true)
}

struct Row {
    file: &'static str,
    class: Class,
    text: Text,
    /// A part of the decoded subject ("" when the row does not look at it).
    subject: &'static str,
    files: &'static [File],
    /// Why the row differs from what its manifest category asks, or what it shows.
    why: &'static str,
}

const TALON_HTML_REPLY: &str = "Hi.Iamfine.Thanks,Alex";

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // reply: only the new text is left (talon's test_standard_replies expects "Hello").
    Row { file: "talon-aol.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "Re: Test", files: &[], why: "'-----Original Message-----' separator" },
    Row { file: "talon-apple_mail.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "'On <date>, bob wrote:' and '>' lines" },
    Row { file: "talon-gmail.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "Gmail attribution and '>' lines" },
    Row { file: "talon-hotmail.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "quoted '> From:' header block, no attribution" },
    Row { file: "talon-iphone.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "the 'Sent from my iPhone' signature goes too; strip_quoted alone gives talon's expected text (see iphone_reply_matches_talons_expected_text)" },
    Row { file: "talon-outlook.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "Outlook 'From: … Sent: … To: … Subject:' block" },
    Row { file: "talon-thunderbird.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "bottom-posted: the text under the quote is kept" },
    Row { file: "talon-yahoo.eml", class: Class::Regular, text: Text::Exactly("Hello"), subject: "", files: &[], why: "'----- Original Message -----' separator" },
    Row { file: "talon-reply-quotations-share-block.eml", class: Class::Regular, text: Text::Contains("Let me know what you think will work best"), subject: "", files: &[], why: "'--- On … wrote:' then an unquoted 'From:' block; talon checks no 'From' is left (asserted below)" },
    Row { file: "rubymail-raw_email_reply.eml", class: Class::Regular, text: Text::Exactly("Message body"), subject: "Re: Test reply email", files: &[], why: "threading headers (see replies_carry_their_thread)" },
    // html: HTML bodies become text; talon's HTML replies lose their quote.
    Row { file: "talon-html_replies-gmail.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "div.gmail_quote" },
    Row { file: "talon-html_replies-hotmail.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "hr#stopSpelling then the original's header block" },
    Row { file: "talon-html_replies-ms_outlook_2003.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "<hr> and a bold 'From: … Sent: …' block" },
    Row { file: "talon-html_replies-ms_outlook_2010.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "'From: … On Behalf Of … Sent: …' block" },
    Row { file: "talon-html_replies-thunderbird.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "div.moz-cite-prefix and blockquote" },
    Row { file: "talon-html_replies-yandex_ru.html", class: Class::Regular, text: Text::Squashed(TALON_HTML_REPLY), subject: "", files: &[], why: "attribution without a verb ('date, \"name\" <address>:') before the blockquote" },
    Row { file: "flanker-long-links.eml", class: Class::Regular, text: Text::Contains("http://www.longurlmaker.com/view/?id=UAOJNVKBMQUGPYZKCQZRZKJEXRCRXMRSMFBZBMBODWUSVTDXJCPJMYOKQQBODSGPYHPZURNXNIQIBUGLWVUJUIUKZVYCOFSNMIMHZAEMIVVKPCVMYPVTYPEYLDBAITNUCACBBHOKCKUSMPEKFADEPHCBLEBTXPOZPQBQXPBAZVSMLXXRXAVMIYNTCPNAEBAURBKORMORHHDTEAKBBGOKEBEGRRHVSHPKIAYZNNQUVUOZUYAVEOGJQKQIBXEUEUEM"), subject: "", files: &[], why: "HTML only; the long URL stays on one line" },
    Row { file: "enmime-mail-html-only-inline.eml", class: Class::Regular, text: Text::Exactly("Test of HTML section"), subject: "", files: &[inline("favicon.png")], why: "HTML only with an inline image" },
    Row { file: "stalwart-thirdparty-016.eml", class: Class::Regular, text: Text::Exactly("Search for höhö"), subject: "", files: &[inline("kigaaldcbanejcbi.png")], why: "HTML only with an embedded image" },
    // multipart
    Row { file: "flanker-multipart.eml", class: Class::Regular, text: Text::Exactly("Sasha"), subject: "Welcome", files: &[], why: "" },
    Row { file: "flanker-relative.eml", class: Class::Regular, text: Text::Exactly("This is html and text message, thanks"), subject: "", files: &[], why: "the '-- ' signature is removed" },
    Row { file: "flanker-8bitmime.eml", class: Class::Regular, text: Text::Exactly("Превел\n\n123"), subject: "", files: &[], why: "raw 8-bit UTF-8 Russian" },
    Row { file: "flanker-quoted-printable.eml", class: Class::Regular, text: Text::Contains("https://mailgun.com/signup?plan=priority&__utma=193350514.1157084692.1372904658.1372904658.1373046418.2"), subject: "", files: &[], why: "soft-wrapped quoted-printable URL joined again" },
    Row { file: "nodemailer-nested.eml", class: Class::Regular, text: Text::Exactly("Dear Sir,\n\nGood evening.\n\nThe footer"), subject: "", files: &[], why: "the text of both alternatives' parts, in order" },
    // attachment
    Row { file: "flanker-attached-pdf.eml", class: Class::Regular, text: Text::Exactly("Test - body content"), subject: "", files: &[attached("test.pdf")], why: "" },
    Row { file: "flanker-mailgun-pic.eml", class: Class::Regular, text: Text::Exactly("Мейлган! Хахах!"), subject: "Mailgun rocks!", files: &[attached("mailgun.png")], why: "the file starts with a line of spaces before the headers" },
    Row { file: "rubymail-attachment_pdf.eml", class: Class::Regular, text: Text::Contains("Just attaching another PDF"), subject: "Another PDF with 🎉 Unicode chars in it 🍿", files: &[attached("broken.pdf")], why: "raw UTF-8 emoji in the Subject" },
    Row { file: "rubymail-attachment_with_encoded_name.eml", class: Class::Regular, text: Text::Contains("We should not include these files"), subject: "Fwd: Signed email causes file attachments", files: &[attached("01 Quien Te Dij\u{FFFD}at. Pitbull.mp3")], why: "the RFC 2231 name declares iso-2022-jp but holds the byte 0x8a, which no charset makes readable: it becomes U+FFFD" },
    Row { file: "rubymail-attachment_message_rfc822.eml", class: Class::Regular, text: Text::Exactly("This is the first part."), subject: "", files: &[attached("Another PDF.eml")], why: "the forwarded message/rfc822 is one .eml file named after its subject" },
    Row { file: "stalwart-thirdparty-018.eml", class: Class::Regular, text: Text::Exactly("Search for höhö"), subject: "", files: &[inline("kigaaldcbanejcbi.png"), attached("attach2.png")], why: "" },
    Row { file: "phpmimemailparser-m0028.eml", class: Class::Regular, text: Text::Exactly("This is the plain text content of the email"), subject: "", files: &[attached("789AA8B6-3C8F-4E16-9E55-3CD173C3AE3A.txt"), attached("FC034994-58D9-480F-A28C-3B44C588C44F.txt"), attached("608B96ED-C0D6-4A03-B24E-E082FC507B88.txt"), attached("BDF0169F-8921-4E70-9241-0692C116EEC4.txt"), attached("7ADBF758-DC3B-4413-B0A2-82250147666C.txt"), attached("8343AC09-0026-4ECB-A81C-70E01705D52E.txt"), attached("6A347E5E-9F48-46B9-B7A8-1A5062553F86.txt"), attached("1B2491C4-4FAF-4E47-9B6C-43E47F9594F3.txt"), attached("4BA92D8A-75A6-41A4-9A90-82AC9324077E.txt"), attached("63C34BC2-FBC9-4C47-88C7-78127DE61343.txt")], why: "ten text attachments" },
    Row { file: "phpmimemailparser-m0001.eml", class: Class::Regular, text: Text::Empty, subject: "Mail avec fichier attaché de 1ko", files: &[attached("attach01")], why: "the sender wrote nothing: both alternatives are blank" },
    // charset: every body and header comes out as readable UTF-8 in its script.
    Row { file: "rubymail-japanese_iso_2022.eml", class: Class::Regular, text: Text::Exactly("すみません。"), subject: "まみむめも", files: &[], why: "Japanese, ISO-2022-JP" },
    Row { file: "spamscope-mail_test_12.eml", class: Class::Regular, text: Text::Contains("你好！我公司可代开各类增值税发票"), subject: "代开各地增值税发票", files: &[], why: "Chinese: GB2312 headers; the 8-bit body is labelled GB2312 but its bytes are UTF-8, and read as such" },
    Row { file: "thunderbird-sample04.eml", class: Class::Regular, text: Text::Exactly("Вопрос"), subject: "Алфавит", files: &[], why: "Russian, KOI8-R" },
    Row { file: "stalwart-thirdparty-019.eml", class: Class::Regular, text: Text::Exactly("Search for hähä"), subject: "", files: &[inline("kigaaldcbanejcbi.png"), attached("attach2.png")], why: "windows-1252 quoted-printable" },
    Row { file: "phpmimemailparser-m0023.eml", class: Class::Regular, text: Text::Contains("This email will not be captured correctly"), subject: "If you can read this you understand the example.", files: &[], why: "Subject in encoded words of two charsets" },
    Row { file: "phpmimemailparser-m0021.eml", class: Class::Regular, text: Text::Exactly("mini plain body"), subject: "Путін", files: &[], why: "Cyrillic windows-1251 Subject over three lines" },
    Row { file: "flanker-encoded-header.eml", class: Class::Regular, text: Text::Exactly("hello, world"), subject: "hello", files: &[], why: "From name 'Foo, Bar' (see addresses_are_decoded)" },
    Row { file: "flanker-bilingual-simple.eml", class: Class::Regular, text: Text::Exactly("This line is in English\nА эта линия по-русски."), subject: "Как ты поживаешь?", files: &[], why: "English and Russian" },
    Row { file: "rubymail-ks_c_5601-1987.eml", class: Class::Regular, text: Text::Exactly("스티해"), subject: "", files: &[], why: "Korean, ks_c_5601-1987" },
    Row { file: "stalwart-thirdparty-005.eml", class: Class::Regular, text: Text::Contains("『世界人権宣言』"), subject: "", files: &[], why: "UTF-16LE/BE and EUC-JP (Japanese) parts, one invalid UTF-8 part" },
    // auto-reply: never answered.
    Row { file: "sisimai-rfc3834-01.eml", class: Class::AutoReply, text: Text::Contains("I am currently away"), subject: "", files: &[], why: "Auto-Submitted: auto-replied" },
    Row { file: "sisimai-rfc3834-02.eml", class: Class::AutoReply, text: Text::Contains("I'm out of the office Friday."), subject: "", files: &[], why: "X-Auto-Response-Suppress only" },
    Row { file: "sisimai-rfc3834-04.eml", class: Class::AutoReply, text: Text::Contains("Please stop and read this message."), subject: "", files: &[], why: "X-Auto-Response-Suppress: All" },
    Row { file: "sisimai-rfc3834-06.eml", class: Class::AutoReply, text: Text::Contains("is no longer in use"), subject: "", files: &[], why: "Auto-Submitted and Precedence: bulk" },
    // bounce: the original Message-ID where the report carries it; permanent for 5.x.x.
    Row { file: "flanker-bounce-zed.eml", class: Class::Bounce { original: Some("20090708054735.GC7578@example.com"), permanent: true }, text: Text::Contains("This is the mail system"), subject: "", files: &[attached("attachment-1.txt"), attached("test bounce.eml")], why: "Postfix DSN" },
    Row { file: "flanker-bounce-gmail-invalid-address.eml", class: Class::Bounce { original: Some("CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com"), permanent: true }, text: Text::Contains("failed permanently"), subject: "", files: &[], why: "plain text with X-Failed-Recipients; the id is the inline original's" },
    Row { file: "flanker-bounce-office365.eml", class: Class::Bounce { original: Some("20171013111011.20866.254C2F3A4D7AA526@ninomail.com"), permanent: true }, text: Text::Contains("couldn't be delivered"), subject: "", files: &[attached("attachment-1.txt"), attached("test_bounce 8.eml")], why: "Status 5.1.10" },
    Row { file: "flanker-bounce-mailbox-full.eml", class: Class::Bounce { original: Some("4E326A95.3010907@example.com"), permanent: true }, text: Text::Contains("ATTENTION"), subject: "", files: &[attached("attachment-1.txt"), attached("attachment-2.txt")], why: "the id comes from text/rfc822-headers" },
    Row { file: "flanker-bounce-delayed.eml", class: Class::Bounce { original: None, permanent: false }, text: Text::Contains("Message could not be delivered for 5 days"), subject: "", files: &[attached("attachment-1.txt"), attached("Hello, how are you.eml")], why: "Status 4.0.0 is not permanent; the returned message has no Message-ID" },
    Row { file: "sisimai-lhost-exim-01.eml", class: Class::Bounce { original: Some("E1P1ce6-000Egt-GZ@e1.example.org"), permanent: true }, text: Text::Contains("created automatically by mail delivery software"), subject: "", files: &[], why: "exim, plain text: 550 5.7.0" },
    Row { file: "sisimai-lhost-qmail-01.eml", class: Class::Bounce { original: Some("000000000.9999999999999.JavaMail.postmaster@mailhub"), permanent: true }, text: Text::Contains("qmail-send program"), subject: "", files: &[], why: "qmail 'failure notice', 550 in the text" },
    Row { file: "sisimai-lhost-googlegroups-07.eml", class: Class::Bounce { original: Some("A6E9ACE2-B50D-477F-8D7D-B95BF06E9827@example.jp"), permanent: true }, text: Text::Contains("Queremos informarte"), subject: "", files: &[], why: "Spanish notice without an SMTP code: a '(Failure)' is final" },
    Row { file: "sisimai-dos-lhost-sendmail-01.eml", class: Class::Bounce { original: Some("E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org"), permanent: true }, text: Text::Contains("The original message was received"), subject: "", files: &[attached("attachment-1.txt"), attached("バウンスメールのテスト(日本語).eml")], why: "CRLF; the returned message's raw UTF-8 Subject names its file" },
    Row { file: "rubymail-report_422.eml", class: Class::Bounce { original: Some("15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au"), permanent: false }, text: Text::Contains("THIS IS A WARNING MESSAGE ONLY"), subject: "", files: &[attached("attachment-1.txt"), attached("attachment-2.txt")], why: "delay warning, Status 4.2.2" },
    Row { file: "nodemailer-delivery-status.eml", class: Class::Bounce { original: Some("xxxxx@email.amazonses.com"), permanent: true }, text: Text::Contains("An error occurred while trying to deliver"), subject: "", files: &[attached("attachment-1.txt"), attached("Example Subject.eml")], why: "Amazon SES" },
    // list: a person writing to a list is Regular, flagged bulk.
    Row { file: "stalwart-thirdparty-014.eml", class: Class::List(Some("shapelib.lists.maptools.org")), text: Text::Contains("I am writting my first C application"), subject: "[Shapelib] need some help", files: &[], why: "Precedence: list with List-Id" },
    Row { file: "phpmimemailparser-issue84.eml", class: Class::List(None), text: Text::Exactly("+1 from me."), subject: "", files: &[], why: "ezmlm 'Mailing-List' header, no List-Id; bottom-posted under the quote" },
    Row { file: "flanker-apache-message-news-mime.eml", class: Class::List(None), text: Text::Exactly("Sameer... someone for you to pester...   :-)"), subject: "", files: &[attached("attachment-1.eml")], why: "Precedence: bulk from a majordomo 'owner-' Sender: list mail, not an autoresponder" },
    Row { file: "spamscope-mail_test_13.eml", class: Class::List(Some("3f21937f0f636c8cec1db30bf.140953.list-id.mcsv.net")), text: Text::Contains("Upcoming Webinar"), subject: "New Webinar", files: &[], why: "a newsletter: List-ID and List-Unsubscribe" },
    // malformed: parsed as far as the bytes allow.
    Row { file: "flanker-missing-boundaries.eml", class: Class::Regular, text: Text::Contains("Hi This is a broken message"), subject: "", files: &[], why: "the unseparated sections stay text" },
    Row { file: "flanker-missing-final-boundary.eml", class: Class::Regular, text: Text::Exactly("Some body"), subject: "Test", files: &[], why: "no closing boundary: the part runs to the end of the mail" },
    Row { file: "flanker-mailformed-headers.eml", class: Class::Regular, text: Text::Empty, subject: "", files: &[], why: "the only part's delimiter does not match the declared boundary, so the mail has no body part; the raw 8-bit From name is read" },
    Row { file: "flanker-false-multipart.eml", class: Class::Regular, text: Text::Empty, subject: "Broken MIME", files: &[], why: "declared multipart with no parts, and the body is blank lines" },
    Row { file: "flanker-no-ctype.eml", class: Class::Regular, text: Text::Exactly("Hello,\nI'm just testing message parsing\n\nBR,\nBob"), subject: "", files: &[], why: "no Content-Type: text/plain us-ascii" },
    Row { file: "flanker-spam-broken-ctype.eml", class: Class::Regular, text: Text::Contains("Hello Dear, How are you?"), subject: "", files: &[attached("facejj.jpg")], why: "'Content-Type: ; name=facejj.jpg': the JPEG is decoded as bytes, typed by its name" },
    Row { file: "flanker-bounce-broken-mime.eml", class: Class::Bounce { original: None, permanent: true }, text: Text::Contains("Delivery failed 10 attempts"), subject: "", files: &[], why: "a postmaster's 'Undeliverable Mail' without MIME structure is a bounce; no Message-ID in the pasted original, no SMTP code, final" },
    Row { file: "rubymail-bad_subject.eml", class: Class::Regular, text: Text::Contains("You have a survey waiting!"), subject: "MySurvey.com: You have a survey waiting! 91123105", files: &[], why: "many small encoded words, one empty" },
    Row { file: "enmime-low-quality-bad-header-wrap.eml", class: Class::Regular, text: Text::Exactly("A text section"), subject: "", files: &[attached("7DDA4_foo_9E5D72.zip")], why: "badly folded Content-Type parameter" },
    Row { file: "rubymail-raw_email_with_illegal_boundary.eml", class: Class::Regular, text: Text::Exactly("Hello\nThis is an outlook test\n\nSo there.\n\nMe."), subject: "Testing outlook", files: &[], why: "unquoted boundary with '='" },
    // other
    Row { file: "flanker-signed.eml", class: Class::Regular, text: Text::Empty, subject: "M2Crypto S/MIME testing", files: &[attached("attachment-1.bin"), attached("smime.p7s")], why: "the signed content is declared application/plain, so it is a file, not text" },
    Row { file: "flanker-complaints-yahoo.eml", class: Class::AutoReply, text: Text::Contains("This is an email abuse report"), subject: "", files: &[attached("attachment-1.bin"), attached("Some subject.eml")], why: "an ARF report is machine mail: never answered" },
    Row { file: "flanker-disposition-notification.eml", class: Class::AutoReply, text: Text::Contains("The message sent on 1995 Sep 19"), subject: "", files: &[attached("attachment-1.bin"), attached("Hi.eml")], why: "a read receipt is machine mail: never answered" },
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn read(file: &str) -> Vec<u8> {
    fs::read(corpus_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// talon's HTML replies are bodies only: they arrive as the HTML part of a mail.
fn parse_file(file: &str) -> ParsedMail {
    let bytes = read(file);
    if file.ends_with(".html") {
        let mut mail = b"Content-Type: text/html; charset=utf-8\r\n\r\n".to_vec();
        mail.extend_from_slice(&bytes);
        parse(&mail)
    } else {
        parse(&bytes)
    }
}

/// (file, category) of every row of MANIFEST.tsv.
fn manifest() -> Vec<(String, String)> {
    let manifest = String::from_utf8(read("MANIFEST.tsv")).expect("MANIFEST.tsv is UTF-8");
    manifest
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns[0].to_owned(), columns[5].to_owned())
        })
        .collect()
}

#[test]
fn the_table_covers_every_manifest_message_once() {
    let manifest: BTreeSet<String> = manifest().into_iter().map(|(file, _)| file).collect();
    let table: BTreeSet<String> = TABLE.iter().map(|row| row.file.to_owned()).collect();
    assert_eq!(TABLE.len(), table.len(), "a file is in the table twice");
    assert_eq!(manifest.len(), 74);
    assert_eq!(table, manifest);
}

#[test]
fn each_category_gets_its_class() {
    let manifest = manifest();
    for row in TABLE {
        let (_, category) = manifest
            .iter()
            .find(|(file, _)| file == row.file)
            .expect("in the manifest");
        let matches = match category.as_str() {
            "reply" | "html" | "multipart" | "attachment" | "charset" => {
                matches!(row.class, Class::Regular)
            }
            "auto-reply" => matches!(row.class, Class::AutoReply),
            "bounce" => matches!(row.class, Class::Bounce { .. }),
            "list" => matches!(row.class, Class::List(_)),
            // Broken and unusual mail: whatever the row says, with its reason.
            "malformed" | "other" => !row.why.is_empty(),
            other => panic!("unknown category {other}"),
        };
        assert!(
            matches,
            "{}: category {category} but the table expects otherwise",
            row.file
        );
    }
}

#[test]
fn every_message_meets_its_row() {
    let mut failures = Vec::new();
    for row in TABLE {
        let mail = parse_file(row.file);
        if let Err(problem) = check(row, &mail) {
            failures.push(format!("{}: {problem}\n  (row: {})", row.file, row.why));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check(row: &Row, mail: &ParsedMail) -> Result<(), String> {
    check_class(&row.class, mail)?;
    let text = &mail.text;
    let text_ok = match row.text {
        Text::Exactly(expected) => text == expected,
        Text::Contains(part) => text.contains(part),
        Text::Squashed(expected) => text.split_whitespace().collect::<String>() == expected,
        Text::Empty => text.is_empty(),
    };
    if !text_ok {
        return Err(format!("text {text:?}"));
    }
    if !text.is_empty()
        && !mail
            .full_text
            .contains(text.lines().next().unwrap_or_default())
    {
        return Err("the new text is not part of the full text".into());
    }
    if !mail.subject.contains(row.subject) {
        return Err(format!("subject {:?}", mail.subject));
    }
    let files: Vec<(&str, bool)> = mail
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.inline))
        .collect();
    let expected: Vec<(&str, bool)> = row
        .files
        .iter()
        .map(|File(name, inline)| (*name, *inline))
        .collect();
    if files != expected {
        return Err(format!("files {files:?}"));
    }
    if mail
        .attachments
        .iter()
        .any(|a| a.bytes.is_empty() || a.content_type.is_empty())
    {
        return Err("an attachment without bytes or type".into());
    }
    Ok(())
}

fn check_class(class: &Class, mail: &ParsedMail) -> Result<(), String> {
    let ok = match (class, &mail.kind) {
        (Class::Regular, MailClass::Regular) => !mail.bulk,
        (Class::List(list_id), MailClass::Regular) => {
            mail.bulk && mail.list_id.as_deref() == *list_id
        }
        (Class::AutoReply, MailClass::AutoReply) => true,
        (
            Class::Bounce {
                original,
                permanent,
            },
            MailClass::Bounce {
                original_message_id,
                permanent: found,
                ..
            },
        ) => original_message_id.as_deref() == *original && found == permanent,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "kind {:?}, bulk {}, list {:?}",
            mail.kind, mail.bulk, mail.list_id
        ))
    }
}

#[test]
fn iphone_reply_matches_talons_expected_text() {
    let mail = parse_file("talon-iphone.eml");
    let expected = String::from_utf8(read("talon-iphone_reply_text")).expect("UTF-8");
    assert_eq!(strip_quoted(&mail.full_text), expected.trim_end());
}

#[test]
fn the_share_block_leaves_no_from() {
    let mail = parse_file("talon-reply-quotations-share-block.eml");
    assert!(!mail.text.is_empty());
    assert!(!mail.text.contains("From"), "{}", mail.text);
}

#[test]
fn replies_carry_their_thread() {
    let reply = parse_file("rubymail-raw_email_reply.eml");
    assert_eq!(
        reply.in_reply_to,
        ["348F04F142D69C21-291E56D292BC@xxxx.net"]
    );
    assert_eq!(
        reply.references,
        [
            "473FF3B8.9020707@xxx.org",
            "348F04F142D69C21-291E56D292BC@xxxx.net"
        ]
    );
    let list_reply = parse_file("phpmimemailparser-issue84.eml");
    assert_eq!(
        list_reply.in_reply_to,
        ["CAFMT4NpJxuuqc-wTr1aE4K+wZBT8+04j+9-SsY+nhUMU83fDUg@mail.gmail.com"]
    );
    assert_eq!(
        list_reply.message_id,
        "CAH-PCH47Mx9AiP9yWLK+_nv8hpWHyXDjnn-h0sk66gPFOpRPxA@mail.gmail.com"
    );
}

#[test]
fn addresses_are_decoded() {
    let mail = parse_file("flanker-encoded-header.eml");
    let from = mail.from.expect("a sender");
    assert_eq!(from.name.as_deref(), Some("Foo, Bar"));
    assert_eq!(from.email, from.email.to_lowercase());
    let mail = parse_file("phpmimemailparser-m0023.eml");
    assert!(
        mail.to
            .iter()
            .chain(&mail.cc)
            .all(|a| a.email.contains('@'))
    );
}

#[test]
fn bounces_say_what_the_server_said() {
    for (file, words) in [
        (
            "flanker-bounce-zed.eml",
            "550-5.1.1 The email account that you tried to reach does not exist.",
        ),
        (
            "flanker-bounce-mailbox-full.eml",
            "552 5.2.2 E4.12 user MAILBOX FULL",
        ),
        ("sisimai-lhost-qmail-01.eml", "550 Unknown user"),
    ] {
        let MailClass::Bounce { diagnostic, .. } = parse_file(file).kind else {
            panic!("{file} is a bounce");
        };
        assert!(diagnostic.contains(words), "{file}: {diagnostic}");
    }
}

#[test]
fn files_keep_their_bytes() {
    let jpeg = &parse_file("flanker-spam-broken-ctype.eml").attachments[0];
    assert_eq!(jpeg.content_type, "image/jpeg");
    assert!(jpeg.bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    let pdf = &parse_file("flanker-attached-pdf.eml").attachments[0];
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let forwarded = &parse_file("rubymail-attachment_message_rfc822.eml").attachments[0];
    assert_eq!(forwarded.content_type, "message/rfc822");
    let inner = parse(&forwarded.bytes);
    assert!(
        inner
            .attachments
            .iter()
            .any(|a| a.filename.ends_with(".pdf")),
        "the forwarded mail keeps its PDF"
    );
}
