//! The new text of a reply: quoted history removed (attribution lines with their `>` blocks,
//! Outlook-style header blocks, "Original Message" separators), and signatures removed.
//!
//! Mail clients mark the quoted original in a handful of ways, in the sender's language; a reply
//! may be written above the quote (top posting) or below it (bottom posting), so a `>` block is
//! removed where it is, while an unmarked original (a header block) ends the new text.

/// Verbs of attribution lines ("On … wrote:", "El … escribió:", "Le … a écrit :", "Am … schrieb …:").
const ATTRIBUTION_VERBS: &[&str] = &[
    "wrote",
    "writes",
    "escribió",
    "escribio",
    "a écrit",
    "schrieb",
    "schreef",
    "ha scritto",
    "escreveu",
    "skrev",
    "kirjoitti",
    "napisał",
    "написал",
];

/// First words of attribution lines that carry a date, in the languages above.
const ATTRIBUTION_STARTS: &[&str] = &[
    "on ", "el ", "le ", "am ", "op ", "il ", "em ", "w dniu ", "den ",
];

/// The phrase inside "-----Original Message-----" separators.
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "mensaje original",
    "message d'origine",
    "message original",
    "ursprüngliche nachricht",
    "originalnachricht",
    "messaggio originale",
    "mensagem original",
    "oorspronkelijk bericht",
    "исходное сообщение",
];

/// Lines that introduce a forwarded message, in several languages.
const FORWARD_MARKERS: &[&str] = &[
    "forwarded message",
    "begin forwarded message:",
    "mensaje reenviado",
    "inicio del mensaje reenviado:",
    "message transféré",
    "début du message réexpédié :",
    "weitergeleitete nachricht",
    "doorgestuurd bericht",
    "messaggio inoltrato",
    "mensagem encaminhada",
];

/// Lines that sign a mail sent from a phone or a webmail, in several languages.
const DEVICE_SIGNATURES: &[&str] = &[
    "sent from my ",
    "sent from mail for ",
    "sent from outlook",
    "sent from yahoo mail",
    "sent from samsung",
    "get outlook for ",
    "enviado desde mi ",
    "enviado desde outlook",
    "enviado do meu ",
    "envoyé de mon ",
    "envoyé depuis mon ",
    "von meinem ",
    "gesendet von meinem ",
    "inviato da ",
    "verzonden vanaf mijn ",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    To,
    Subject,
    Cc,
}

/// The text without its quoted history (signatures are left: see `strip_signature`).
pub fn strip_quoted(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if is_forward_marker(lines[i]) {
            // A forwarded message is what the sender wants us to read: kept whole.
            kept.extend_from_slice(&lines[i..]);
            break;
        }
        if starts_original(&lines, i) {
            break;
        }
        if let Some((length, strong)) = attribution(&lines, i) {
            let after = next_non_blank(&lines, i + length);
            if after == lines.len() {
                break;
            }
            if is_quoted(lines[after]) {
                i = end_of_quote(&lines, after);
                continue;
            }
            if strong {
                // "On <date>, Ann wrote:" followed by the original without `>` marks.
                break;
            }
        }
        if is_quoted(lines[i]) {
            i = end_of_quote(&lines, i);
            continue;
        }
        kept.push(lines[i]);
        i += 1;
    }
    tidy(&kept)
}

/// The text without its signature: from a "-- " line, or a "Sent from my iPhone"-style line
/// near the end, to the end. Nothing is removed when the signature would be all there is.
pub fn strip_signature(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let written = lines.iter().filter(|line| !is_blank(line)).count();
    let mut written_before = 0;
    let mut starts = None;
    for (i, line) in lines.iter().enumerate() {
        if !is_blank(line) {
            let written_after = written - written_before - 1;
            let delimiter = line.trim_end() == "--";
            let device = written_after <= 2 && is_device_signature(line);
            if written_before > 0 && (delimiter || device) {
                starts = Some(i);
                break;
            }
            written_before += 1;
        }
    }
    tidy(&lines[..starts.unwrap_or(lines.len())])
}

fn is_device_signature(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    lower.chars().count() <= 80
        && DEVICE_SIGNATURES
            .iter()
            .any(|start| lower.starts_with(start))
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn next_non_blank(lines: &[&str], from: usize) -> usize {
    (from..lines.len())
        .find(|&i| !is_blank(lines[i]))
        .unwrap_or(lines.len())
}

/// The index after a block of `>` lines starting at `from` (blank lines inside it included).
fn end_of_quote(lines: &[&str], from: usize) -> usize {
    let mut i = from;
    loop {
        if i < lines.len() && is_quoted(lines[i]) {
            i += 1;
            continue;
        }
        let next = next_non_blank(lines, i);
        if next < lines.len() && is_quoted(lines[next]) {
            i = next;
        } else {
            return i;
        }
    }
}

/// Whether the unmarked original starts at line `i`: an "Original Message" separator, or a
/// header block (From plus two of Date/Sent, To, Subject on the lines that follow).
fn starts_original(lines: &[&str], i: usize) -> bool {
    is_original_separator(lines[i]) || is_header_block(lines, i)
}

fn is_forward_marker(line: &str) -> bool {
    let lower = line
        .trim()
        .trim_matches(|c: char| c == '-' || c.is_whitespace())
        .to_lowercase();
    lower.chars().count() <= 60
        && FORWARD_MARKERS
            .iter()
            .any(|marker| lower.starts_with(marker))
}

fn is_original_separator(line: &str) -> bool {
    let trimmed = line.trim();
    let inner =
        trimmed.trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c.is_whitespace());
    trimmed.starts_with("--")
        && ORIGINAL_MESSAGE
            .iter()
            .any(|phrase| inner.to_lowercase() == *phrase)
}

fn is_header_block(lines: &[&str], i: usize) -> bool {
    if field(lines[i]).is_none() {
        return false;
    }
    let mut seen = Vec::new();
    for line in lines[i..].iter().take(8).take_while(|line| !is_blank(line)) {
        if let Some(field) = field(line) {
            seen.push(field);
        }
    }
    let others = [Field::Date, Field::To, Field::Subject]
        .iter()
        .filter(|f| seen.contains(f))
        .count();
    seen.contains(&Field::From) && others >= 2
}

/// The header field a line of a quoted header block starts with ("From:", "**De:**", "Sent:"…).
fn field(line: &str) -> Option<Field> {
    let line = line.trim_start().trim_start_matches('*');
    let (name, value) = line.split_once(':')?;
    let name = name.trim_end_matches('*').trim().to_lowercase();
    if value.trim_start_matches('*').trim().is_empty() && name != "cc" {
        return None;
    }
    Some(match name.as_str() {
        "from" | "de" | "von" | "van" | "da" | "från" | "fra" | "от" | "od" => Field::From,
        "sent"
        | "date"
        | "enviado"
        | "enviada"
        | "fecha"
        | "envoyé"
        | "gesendet"
        | "datum"
        | "data"
        | "verzonden"
        | "inviato"
        | "отправлено"
        | "дата" => Field::Date,
        "to" | "para" | "à" | "a" | "an" | "aan" | "per" | "till" | "til" | "кому" => {
            Field::To
        }
        "subject" | "asunto" | "objet" | "betreff" | "oggetto" | "assunto" | "onderwerp"
        | "ämne" | "emne" | "тема" => Field::Subject,
        "cc" => Field::Cc,
        _ => return None,
    })
}

/// An attribution line at `i` (or wrapped over lines `i` and `i + 1`): its length in lines, and
/// whether it is certainly one (it starts like "On <date>" and names the verb), which makes an
/// unmarked original after it count as quoted too.
fn attribution(lines: &[&str], i: usize) -> Option<(usize, bool)> {
    if let Some(strong) = attribution_line(lines[i]) {
        return Some((1, strong));
    }
    // Only a line that opens like an attribution ("On Thu, …") is joined with the next, so a
    // sentence is never swallowed by the attribution written under it.
    let next = lines.get(i + 1)?;
    if is_blank(next) || !opens_attribution(&lines[i].to_lowercase()) {
        return None;
    }
    attribution_line(&format!("{} {}", lines[i].trim_end(), next.trim_start()))
        .map(|strong| (2, strong))
}

fn attribution_line(line: &str) -> Option<bool> {
    let trimmed = line.trim();
    if !trimmed.ends_with(':') || trimmed.chars().count() > 400 || is_quoted(trimmed) {
        return None;
    }
    let lower = trimmed.to_lowercase();
    let has_digit = lower.chars().any(|c| c.is_ascii_digit());
    let verb = ATTRIBUTION_VERBS.iter().any(|verb| lower.contains(verb));
    if verb {
        Some(opens_attribution(&lower) && has_digit)
    } else if has_digit && lower.contains('@') {
        // Yandex and others: `26.06.2014, 14:41, "Ann" <ann@example.com>:`
        Some(false)
    } else {
        None
    }
}

fn opens_attribution(lower: &str) -> bool {
    let opening = lower.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
    ATTRIBUTION_STARTS
        .iter()
        .any(|start| opening.starts_with(start))
}

/// Lines joined again: trailing separator rules (left before a cut original), runs of blank
/// lines and blank ends removed.
fn tidy(lines: &[&str]) -> String {
    let mut end = lines.len();
    while end > 0 && (is_blank(lines[end - 1]) || is_rule(lines[end - 1])) {
        end -= 1;
    }
    let mut out: Vec<&str> = Vec::new();
    for line in &lines[..end] {
        let line = line.trim_end();
        if line.is_empty() && out.last().is_none_or(|last| last.is_empty()) {
            continue;
        }
        out.push(line);
    }
    out.join("\n")
}

fn is_rule(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.chars().count() >= 3
        && trimmed
            .chars()
            .all(|c| matches!(c, '-' | '_' | '=' | '─' | '━' | '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_and_quote_are_removed() {
        let text = "Thanks, that fixed it.\n\nOn Thu, Jun 26, 2014 at 2:14 PM, Ann <ann@example.com> wrote:\n\n> Try again\n> please\n";
        assert_eq!(strip_quoted(text), "Thanks, that fixed it.");
    }

    #[test]
    fn an_attribution_wrapped_over_two_lines_is_removed() {
        let text = "Yes.\n\nOn Thu, Jun 26, 2014 at 2:14 PM, Ann Example <\nann@example.com> wrote:\n> Is it fixed?";
        assert_eq!(strip_quoted(text), "Yes.");
    }

    #[test]
    fn spanish_french_and_german_attributions_are_removed() {
        for attribution in [
            "El jue, 26 jun 2014 a las 14:14, Ana <ana@example.com> escribió:",
            "Le 26 juin 2014 à 14:14, Anne <anne@example.com> a écrit :",
            "Am 26.06.2014 um 14:14 schrieb Anna <anna@example.com>:",
        ] {
            let text = format!("Gracias.\n\n{attribution}\n> Hola\n> ¿Qué tal?\n");
            assert_eq!(strip_quoted(&text), "Gracias.", "{attribution}");
        }
    }

    #[test]
    fn a_bottom_posted_reply_keeps_the_text_below_the_quote() {
        let text = "On 04/02/2012 06:26 PM, Megan wrote:\n> Hi\n>\n> there\nHello\n\nand more";
        assert_eq!(strip_quoted(text), "Hello\n\nand more");
    }

    #[test]
    fn an_outlook_header_block_ends_the_new_text() {
        let text = "Works now.\n\n________________________________\nFrom: Soporte <support@example.test>\nSent: Friday, June 27, 2014 12:06 PM\nTo: Ann\nSubject: RE: Login\n\nOld text";
        assert_eq!(strip_quoted(text), "Works now.");
    }

    #[test]
    fn a_spanish_outlook_header_block_ends_the_new_text() {
        let text = "Ya funciona.\n\nDe: Soporte <support@example.test>\nEnviado: viernes, 27 de junio de 2014 12:06\nPara: Ana\nAsunto: RE: Acceso\n\nTexto anterior";
        assert_eq!(strip_quoted(text), "Ya funciona.");
    }

    #[test]
    fn a_spanish_outlook_header_block_with_enviado_el_ends_the_new_text() {
        let text = "Recibido, gracias.\n\n-----Mensaje original-----\nDe: Soporte <support@example.test>\nEnviado el: lunes, 3 de abril de 2023 10:00\nPara: Ana\nAsunto: RE: Factura\n\nTexto anterior";
        assert_eq!(strip_quoted(text), "Recibido, gracias.");
        let text = "Recibido.\n\nDe: Soporte <support@example.test>\nEnviado el: lunes, 3 de abril de 2023 10:00\nPara: Ana\nAsunto: RE: Factura";
        assert_eq!(strip_quoted(text), "Recibido.");
    }

    #[test]
    fn a_forwarded_message_is_kept_whole() {
        let forwarded = "---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\nDate: Mon, Apr 3, 2023 at 10:00 AM\nSubject: Your order\nTo: Ana <ana@example.com>\n\nOrder 123 is late.";
        let text = format!("Can you look at this?\n\n{forwarded}");
        assert_eq!(strip_quoted(&text), text);
        let apple = "See below.\n\nBegin forwarded message:\n\nFrom: Shop <shop@example.com>\nSubject: Your order\nDate: 3 April 2023\nTo: Ana\n\n> not a quote here";
        assert_eq!(strip_quoted(apple), apple);
        let spanish = "Mira esto.\n\n---------- Mensaje reenviado ---------\nDe: Tienda <t@example.com>\nFecha: lun, 3 abr 2023\nAsunto: Pedido\nPara: Ana\n\nEl pedido llega tarde.";
        assert_eq!(strip_quoted(spanish), spanish);
    }

    #[test]
    fn original_message_separators_end_the_new_text() {
        for separator in [
            "-----Original Message-----",
            "----- Original Message -----",
            "-----Mensaje original-----",
        ] {
            let text = format!("Hello\n\n{separator}\nFrom: someone\nold text");
            assert_eq!(strip_quoted(&text), "Hello", "{separator}");
        }
    }

    #[test]
    fn a_share_block_after_an_attribution_is_removed() {
        let text = "Sure.\n\n--- On Wed, 4/4/12, Zoe <zoe@example.com> wrote:\n\nFrom: Booking <b@example.com>\nSubject: Your booking\nTo: Zoe\nDate: Wednesday, April 4, 2012\n\nBooked.";
        assert_eq!(strip_quoted(text), "Sure.");
    }

    #[test]
    fn ordinary_text_that_mentions_writing_is_kept() {
        let text =
            "My colleague wrote:\nthe server is down since Monday.\nFrom: what I see, it is DNS.";
        assert_eq!(strip_quoted(text), text);
    }

    #[test]
    fn a_trailing_yandex_attribution_is_removed() {
        let text = "Hi. I am fine.\n\nThanks,\nAlex\n\n26.06.2014, 14:41, \"Alexander L\" <abc@example.com>:";
        assert_eq!(strip_quoted(text), "Hi. I am fine.\n\nThanks,\nAlex");
    }

    #[test]
    fn signatures_are_removed() {
        assert_eq!(
            strip_signature("Hello\n\n-- \nAnn Example\nACME Corp"),
            "Hello"
        );
        assert_eq!(strip_signature("Hello\n\nSent from my iPhone"), "Hello");
        assert_eq!(
            strip_signature("Hola\n\nEnviado desde mi Samsung Galaxy"),
            "Hola"
        );
        assert_eq!(
            strip_signature("Hallo\n\nVon meinem iPad gesendet"),
            "Hallo"
        );
        assert_eq!(strip_signature("Hello\n\nGet Outlook for Android"), "Hello");
    }

    #[test]
    fn a_signature_alone_or_a_phrase_mid_text_is_kept() {
        assert_eq!(strip_signature("-- \nAnn"), "--\nAnn");
        let text = "Sent from my iPhone it fails\nand also\nfrom the web\nand the app";
        assert_eq!(strip_signature(text), text);
    }
}
