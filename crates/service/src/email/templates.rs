//! Mail templates: the built-in wording of every kind of mail in English and Spanish, admins'
//! overrides of it, and rendering with `{{placeholder}}`s (escaped in HTML, one line in a
//! subject).

use std::borrow::Cow;
use std::fmt::Write as _;

use growdesk_domain::{MailKind, ValidationErrors};
use growdesk_store::Stamp;
use growdesk_store::email_templates::StoredTemplate;
use time::OffsetDateTime;

use crate::policy::{Action, authorize};
use crate::{Principal, Service, ServiceError};

/// The languages mail is written in.
pub const LOCALES: [&str; 2] = ["en", "es"];

/// The language of mail to someone who chose none we write in.
pub const DEFAULT_LOCALE: &str = "en";

/// Most characters of a template's subject.
const MAX_SUBJECT_CHARS: usize = 500;
/// Most characters of a template's text or HTML body.
const MAX_BODY_CHARS: usize = 100_000;

/// The locale mail to someone who prefers `preferred` (a language tag: "es", "es-MX", "EN") is
/// written in: its language when we write it, else English.
pub fn locale_for(preferred: Option<&str>) -> &'static str {
    let language = preferred
        .and_then(|tag| tag.split(['-', '_']).next())
        .map(|language| language.trim().to_ascii_lowercase());
    LOCALES
        .into_iter()
        .find(|locale| language.as_deref() == Some(*locale))
        .unwrap_or(DEFAULT_LOCALE)
}

/// A value a template may ask for, written `{{name}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    RequesterName,
    TicketNumber,
    TicketSubject,
    MessageBody,
    AgentName,
    UnsubscribeUrl,
    ResetUrl,
}

impl Placeholder {
    const ALL: [Self; 7] = [
        Self::RequesterName,
        Self::TicketNumber,
        Self::TicketSubject,
        Self::MessageBody,
        Self::AgentName,
        Self::UnsubscribeUrl,
        Self::ResetUrl,
    ];

    /// The name written between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Self::RequesterName => "requester.name",
            Self::TicketNumber => "ticket.number",
            Self::TicketSubject => "ticket.subject",
            Self::MessageBody => "message.body",
            Self::AgentName => "agent.name",
            Self::UnsubscribeUrl => "unsubscribe_url",
            Self::ResetUrl => "reset_url",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The placeholders mail of `kind` has values for: a password reset is about no ticket,
    /// and only notifications carry an unsubscribe link.
    pub fn offered(kind: MailKind) -> &'static [Self] {
        use Placeholder::*;
        match kind {
            MailKind::Reply => &[
                RequesterName,
                TicketNumber,
                TicketSubject,
                MessageBody,
                AgentName,
            ],
            MailKind::Acknowledgement => {
                &[RequesterName, TicketNumber, TicketSubject, UnsubscribeUrl]
            }
            MailKind::Resolved => &[
                RequesterName,
                TicketNumber,
                TicketSubject,
                AgentName,
                UnsubscribeUrl,
            ],
            MailKind::PasswordReset => &[RequesterName, ResetUrl],
        }
    }
}

/// One run of a template: literal text, or a placeholder to fill.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Slot(Placeholder),
}

/// Splits `source` into literal text and the placeholders `kind` offers.
///
/// # Errors
/// A sentence naming the first unknown placeholder or unbalanced `{{`/`}}`.
fn pieces(source: &str, kind: MailKind) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let open = rest.find("{{");
        if rest
            .find("}}")
            .is_some_and(|close| open.is_none_or(|open| close < open))
        {
            return Err("has a closing }} without an opening {{".to_owned());
        }
        let Some(open) = open else {
            pieces.push(Piece::Text(rest));
            break;
        };
        pieces.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let end = after
            .find("}}")
            .filter(|end| !after[..*end].contains("{{"))
            .ok_or_else(|| "has an opening {{ without a closing }}".to_owned())?;
        let name = after[..end].trim();
        let slot = Placeholder::parse(name)
            .filter(|slot| Placeholder::offered(kind).contains(slot))
            .ok_or_else(|| {
                let offered: Vec<String> = Placeholder::offered(kind)
                    .iter()
                    .map(|slot| format!("{{{{{}}}}}", slot.name()))
                    .collect();
                format!(
                    "uses the unknown placeholder {{{{{name}}}}}; this kind of mail offers {}",
                    offered.join(", ")
                )
            })?;
        pieces.push(Piece::Slot(slot));
        rest = &after[end + 2..];
    }
    Ok(pieces)
}

/// The values a mail's placeholders are filled with; those a kind does not offer stay empty.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub requester_name: String,
    pub ticket_number: Option<i64>,
    pub ticket_subject: String,
    pub message_body: String,
    pub agent_name: String,
    pub unsubscribe_url: String,
    pub reset_url: String,
}

impl Values {
    fn get(&self, slot: Placeholder) -> Cow<'_, str> {
        match slot {
            Placeholder::RequesterName => Cow::Borrowed(&self.requester_name),
            Placeholder::TicketNumber => self
                .ticket_number
                .map_or(Cow::Borrowed(""), |number| Cow::Owned(number.to_string())),
            Placeholder::TicketSubject => Cow::Borrowed(&self.ticket_subject),
            Placeholder::MessageBody => Cow::Borrowed(&self.message_body),
            Placeholder::AgentName => Cow::Borrowed(&self.agent_name),
            Placeholder::UnsubscribeUrl => Cow::Borrowed(&self.unsubscribe_url),
            Placeholder::ResetUrl => Cow::Borrowed(&self.reset_url),
        }
    }
}

/// `text` safe inside HTML text and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A plain-text message body as HTML: escaped, blank lines separating paragraphs and single
/// line breaks kept, so an agent's reply reads in an HTML client as it was written.
fn paragraphs(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<String> = paragraph.lines().map(escape_html).collect();
        let _ = write!(html, "<p>{}</p>", lines.join("<br>\n"));
        html.push('\n');
    }
    html
}

/// Where a template's text goes, which decides how values are written into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Subject,
    Text,
    Html,
}

/// A mail's subject, text and HTML, as rendered or as written with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// The built-in template files of `kind` in `locale`, each with its subject, text and HTML.
macro_rules! built_in {
    ($($kind:literal),* $(,)?) => {
        fn built_in_source(kind: &str, locale: &str) -> Option<[&'static str; 3]> {
            match (kind, locale) {
                $(
                    ($kind, "en") => Some([
                        include_str!(concat!("templates/", $kind, ".en.subject")),
                        include_str!(concat!("templates/", $kind, ".en.txt")),
                        include_str!(concat!("templates/", $kind, ".en.html")),
                    ]),
                    ($kind, "es") => Some([
                        include_str!(concat!("templates/", $kind, ".es.subject")),
                        include_str!(concat!("templates/", $kind, ".es.txt")),
                        include_str!(concat!("templates/", $kind, ".es.html")),
                    ]),
                )*
                _ => None,
            }
        }
    };
}

built_in!("reply", "acknowledgement", "resolved", "password_reset");

impl Template {
    /// GrowDesk's own wording of `kind` in `locale` (English for a locale we do not write).
    pub fn built_in(kind: MailKind, locale: &str) -> Self {
        let [subject, text_body, html_body] = built_in_source(kind.as_str(), locale)
            .or_else(|| built_in_source(kind.as_str(), DEFAULT_LOCALE))
            .unwrap_or_default();
        Self {
            subject: subject.trim().to_owned(),
            text_body: text_body.to_owned(),
            html_body: html_body.to_owned(),
        }
    }

    fn parts(&self) -> [(&'static str, Part, &str); 3] {
        [
            ("subject", Part::Subject, &self.subject),
            ("text_body", Part::Text, &self.text_body),
            ("html_body", Part::Html, &self.html_body),
        ]
    }

    /// Refuses a template that cannot be rendered for `kind`: an empty or over-long part, an
    /// unknown placeholder, unbalanced braces; each error names its field.
    ///
    /// # Errors
    /// `ValidationErrors` naming `subject`, `text_body` or `html_body`.
    pub fn check(&self, kind: MailKind) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for (field, part, source) in self.parts() {
            let limit = if part == Part::Subject {
                MAX_SUBJECT_CHARS
            } else {
                MAX_BODY_CHARS
            };
            if source.trim().is_empty() {
                errors.add(field, "must not be empty");
            } else if source.chars().count() > limit {
                errors.add(field, format!("must be at most {limit} characters"));
            } else if let Err(error) = pieces(source, kind) {
                errors.add(field, error);
            }
        }
        errors.into_result(|| ())
    }

    /// The mail of `kind` this template makes with `values`: in the HTML every value is
    /// escaped (a message body keeps its paragraphs), and the subject is one line.
    ///
    /// # Errors
    /// The name of the first part that does not render (see [`Template::check`]).
    pub fn render(&self, kind: MailKind, values: &Values) -> Result<Self, &'static str> {
        let mut rendered = [String::new(), String::new(), String::new()];
        for ((field, part, source), out) in self.parts().into_iter().zip(&mut rendered) {
            for piece in pieces(source, kind).map_err(|_| field)? {
                match (piece, part) {
                    (Piece::Text(text), _) => out.push_str(text),
                    (Piece::Slot(Placeholder::MessageBody), Part::Html) => {
                        out.push_str(&paragraphs(&values.message_body));
                    }
                    (Piece::Slot(slot), Part::Html) => {
                        out.push_str(&escape_html(&values.get(slot)))
                    }
                    (Piece::Slot(slot), Part::Subject | Part::Text) => {
                        out.push_str(&values.get(slot));
                    }
                }
            }
        }
        let [subject, text_body, html_body] = rendered;
        let subject: String = subject
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Self {
            subject,
            text_body,
            html_body,
        })
    }
}

/// One kind of mail in one language, as it is sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateEntry {
    pub kind: MailKind,
    pub locale: &'static str,
    pub template: Template,
    /// Whether an admin's wording replaces the built-in one.
    pub customised: bool,
    /// When the admin's wording was saved; `None` for the built-in one.
    pub updated_at: Option<OffsetDateTime>,
}

impl TemplateEntry {
    fn built_in(kind: MailKind, locale: &'static str) -> Self {
        Self {
            kind,
            locale,
            template: Template::built_in(kind, locale),
            customised: false,
            updated_at: None,
        }
    }

    fn stored(locale: &'static str, stored: StoredTemplate) -> Self {
        Self {
            kind: stored.kind,
            locale,
            template: Template {
                subject: stored.subject,
                text_body: stored.text_body,
                html_body: stored.html_body,
            },
            customised: true,
            updated_at: Some(stored.updated_at.into_inner()),
        }
    }
}

/// Every kind of mail, in the order the templates are listed.
pub const KINDS: [MailKind; 4] = [
    MailKind::Reply,
    MailKind::Acknowledgement,
    MailKind::Resolved,
    MailKind::PasswordReset,
];

/// The wording of mail: built in, or overridden by admins; from [`Service::email_templates`].
#[derive(Clone, Copy)]
pub struct EmailTemplates<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The wording of mail: built in, or overridden by admins.
    pub fn email_templates(&self) -> EmailTemplates<'_> {
        EmailTemplates { service: self }
    }
}

/// One of our locales, or not found.
fn known_locale(locale: &str) -> Result<&'static str, ServiceError> {
    LOCALES
        .into_iter()
        .find(|known| *known == locale)
        .ok_or(ServiceError::NotFound("email template"))
}

impl EmailTemplates<'_> {
    /// Every kind of mail in every locale, as it is sent now.
    ///
    /// # Errors
    /// `Forbidden` for anyone but admins.
    pub async fn list(self, actor: &Principal) -> Result<Vec<TemplateEntry>, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        let mut stored = self.service.store.email_templates().list().await?;
        let mut entries = Vec::with_capacity(KINDS.len() * LOCALES.len());
        for kind in KINDS {
            for locale in LOCALES {
                let found = stored
                    .iter()
                    .position(|row| row.kind == kind && row.locale == locale);
                entries.push(match found {
                    Some(index) => TemplateEntry::stored(locale, stored.swap_remove(index)),
                    None => TemplateEntry::built_in(kind, locale),
                });
            }
        }
        Ok(entries)
    }

    /// Replaces the wording of `kind` in `locale` with an admin's.
    ///
    /// # Errors
    /// `Forbidden` for anyone but admins; `NotFound` for a locale we do not write;
    /// `Validation` naming the part with an unknown placeholder or unbalanced braces.
    pub async fn put(
        self,
        actor: &Principal,
        kind: MailKind,
        locale: &str,
        template: Template,
    ) -> Result<TemplateEntry, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        let locale = known_locale(locale)?;
        template.check(kind)?;
        let stored = StoredTemplate {
            kind,
            locale: locale.to_owned(),
            subject: template.subject,
            text_body: template.text_body,
            html_body: template.html_body,
            updated_at: Stamp::now(),
        };
        self.service
            .store
            .email_templates()
            .put(stored.clone())
            .await?;
        tracing::info!(kind = kind.as_str(), locale, by = %actor.user.id, "email template customised");
        Ok(TemplateEntry::stored(locale, stored))
    }

    /// Goes back to the built-in wording of `kind` in `locale`, which it answers with.
    ///
    /// # Errors
    /// `Forbidden` for anyone but admins; `NotFound` for a locale we do not write.
    pub async fn delete(
        self,
        actor: &Principal,
        kind: MailKind,
        locale: &str,
    ) -> Result<TemplateEntry, ServiceError> {
        authorize(actor, Action::ManageEmail)?;
        let locale = known_locale(locale)?;
        if self
            .service
            .store
            .email_templates()
            .delete(kind, locale)
            .await?
        {
            tracing::info!(kind = kind.as_str(), locale, by = %actor.user.id, "email template back to built-in");
        }
        Ok(TemplateEntry::built_in(kind, locale))
    }

    /// The mail of `kind` in `locale` made with `values`, from the admins' wording when it
    /// renders, else from the built-in one (an override saved before a placeholder was taken
    /// away must not stop mail from going out).
    pub(crate) async fn render(
        self,
        kind: MailKind,
        locale: &'static str,
        values: &Values,
    ) -> Result<Template, ServiceError> {
        let stored = self
            .service
            .store
            .email_templates()
            .get(kind, locale)
            .await?;
        if let Some(stored) = stored {
            match TemplateEntry::stored(locale, stored)
                .template
                .render(kind, values)
            {
                Ok(rendered) => return Ok(rendered),
                Err(field) => tracing::warn!(
                    kind = kind.as_str(),
                    locale,
                    field,
                    "a customised email template does not render; the built-in one is used"
                ),
            }
        }
        Template::built_in(kind, locale)
            .render(kind, values)
            .map_err(|field| {
                ServiceError::Internal(format!("the built-in {kind:?} template's {field}").into())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            requester_name: "Ana <ana@example.com>".to_owned(),
            ticket_number: Some(42),
            ticket_subject: "Broken\r\nBcc: evil@example.com & more".to_owned(),
            message_body: "First line\nsecond <b>line</b>\n\nNew paragraph & \"quotes\"".to_owned(),
            agent_name: "Bob O'Neil".to_owned(),
            unsubscribe_url: "https://desk.example.com/api/unsubscribe?token=a&b".to_owned(),
            reset_url: "https://desk.example.com/reset-password?token=xyz".to_owned(),
        }
    }

    #[test]
    fn every_built_in_template_checks_and_renders_in_both_locales() {
        for kind in KINDS {
            for locale in LOCALES {
                let template = Template::built_in(kind, locale);
                template
                    .check(kind)
                    .unwrap_or_else(|error| panic!("{kind:?} {locale}: {error}"));
                let rendered = template.render(kind, &values()).unwrap();
                assert!(!rendered.subject.contains("{{"), "{kind:?} {locale}");
                assert!(!rendered.text_body.contains("{{"), "{kind:?} {locale}");
                assert!(!rendered.html_body.contains("{{"), "{kind:?} {locale}");
            }
        }
        assert_ne!(
            Template::built_in(MailKind::Acknowledgement, "en"),
            Template::built_in(MailKind::Acknowledgement, "es"),
            "Spanish has its own wording"
        );
    }

    #[test]
    fn html_values_are_escaped_and_a_body_keeps_its_paragraphs() {
        let rendered = Template::built_in(MailKind::Reply, "en")
            .render(MailKind::Reply, &values())
            .unwrap();
        assert!(rendered.html_body.contains(
            "<p>First line<br>\nsecond &lt;b&gt;line&lt;/b&gt;</p>\n<p>New paragraph &amp; &quot;quotes&quot;</p>"
        ));
        assert!(rendered.html_body.contains("Bob O&#39;Neil"));
        assert!(!rendered.html_body.contains("<b>line"));
        assert!(
            rendered.text_body.contains("second <b>line</b>"),
            "text is not escaped"
        );
        let ack = Template::built_in(MailKind::Acknowledgement, "en")
            .render(MailKind::Acknowledgement, &values())
            .unwrap();
        assert!(ack.html_body.contains("Ana &lt;ana@example.com&gt;"));
        assert!(ack.html_body.contains("token=a&amp;b"));
        assert!(ack.text_body.contains("token=a&b"));
    }

    #[test]
    fn a_subject_is_one_line_whatever_the_values() {
        let rendered = Template::built_in(MailKind::Reply, "es")
            .render(MailKind::Reply, &values())
            .unwrap();
        assert_eq!(
            rendered.subject,
            "Re: Broken Bcc: evil@example.com & more [#42]"
        );
        assert!(!rendered.subject.contains(['\r', '\n']));
    }

    #[test]
    fn the_acknowledgement_names_the_ticket_and_how_to_add_to_it() {
        for (locale, reply) in [
            ("en", "reply to this email"),
            ("es", "responde a este correo"),
        ] {
            let rendered = Template::built_in(MailKind::Acknowledgement, locale)
                .render(MailKind::Acknowledgement, &values())
                .unwrap();
            assert!(rendered.text_body.contains("#42"), "{locale}");
            assert!(rendered.text_body.contains(reply), "{locale}");
        }
    }

    fn custom(subject: &str, text_body: &str, html_body: &str) -> Template {
        Template {
            subject: subject.to_owned(),
            text_body: text_body.to_owned(),
            html_body: html_body.to_owned(),
        }
    }

    fn refused_fields(template: &Template, kind: MailKind) -> Vec<String> {
        let errors = template.check(kind).expect_err("refused");
        errors
            .fields()
            .iter()
            .map(|error| error.field.clone())
            .collect()
    }

    #[test]
    fn unknown_placeholders_and_unbalanced_braces_are_refused_naming_the_field() {
        let ok = custom(
            "Hi {{ ticket.number }}",
            "{{message.body}}",
            "<style>p { x }</style>",
        );
        ok.check(MailKind::Reply).unwrap();

        let unknown = custom("Hi", "{{requester.nmae}}", "<p></p>");
        assert_eq!(refused_fields(&unknown, MailKind::Reply), ["text_body"]);
        let errors = unknown.check(MailKind::Reply).unwrap_err();
        let message = &errors.fields()[0].message;
        assert!(message.contains("{{requester.nmae}}"), "{message}");

        let not_offered = custom("{{reset_url}}", "x", "x");
        assert_eq!(refused_fields(&not_offered, MailKind::Reply), ["subject"]);
        custom("{{reset_url}}", "x", "x")
            .check(MailKind::PasswordReset)
            .unwrap();

        for broken in [
            "{{agent.name",
            "agent.name}}",
            "{{ {{agent.name}}",
            "}} {{agent.name}}",
        ] {
            let template = custom("s", "t", broken);
            assert_eq!(
                refused_fields(&template, MailKind::Reply),
                ["html_body"],
                "{broken}"
            );
            assert!(template.render(MailKind::Reply, &values()).is_err());
        }

        let empty = custom(" ", "", "x");
        assert_eq!(
            refused_fields(&empty, MailKind::Resolved),
            ["subject", "text_body"]
        );
    }

    #[test]
    fn locales_follow_the_language_of_the_tag() {
        assert_eq!(locale_for(Some("es")), "es");
        assert_eq!(locale_for(Some("es-MX")), "es");
        assert_eq!(locale_for(Some("ES_es")), "es");
        assert_eq!(locale_for(Some("fr")), "en");
        assert_eq!(locale_for(Some("")), "en");
        assert_eq!(locale_for(None), "en");
    }
}
