//! The email channel: mail coming in (threading it onto tickets) and going out (replies,
//! acknowledgements, notices, password resets), its templates and its unsubscribe links.

mod automatic;
mod content;
pub mod inbound;
pub mod outbound;
pub mod templates;
mod threading;
pub mod unsubscribe;

pub use inbound::Received;

use std::sync::Arc;

use uuid::Uuid;

use crate::Service;

/// The suppression reason of an address that followed an unsubscribe link: it gets agents'
/// replies still, but no more notices.
pub const UNSUBSCRIBED: &str = "unsubscribed";
/// The suppression reason of an address whose mail bounced for good: it gets nothing.
pub const BOUNCED: &str = "bounced";

/// Whether a user has a live socket open, so a reply reaches them without mail. The server's
/// socket hub answers for its own process; a process without sockets (the sync binary)
/// answers `false`, which errs on the side of sending the mail.
pub trait Presence: Send + Sync {
    /// Whether any socket of `user_id` (or of a widget visitor speaking for them) is open.
    fn is_connected(&self, user_id: Uuid) -> bool;
}

/// The presence of a process that holds no sockets: nobody is ever connected.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSockets;

impl Presence for NoSockets {
    fn is_connected(&self, _user_id: Uuid) -> bool {
        false
    }
}

/// What outgoing mail needs from the settings and the process.
#[derive(Clone)]
pub struct EmailRules {
    /// Where the console is reached from outside: the base of the links put in mail (password
    /// reset, unsubscribe).
    pub public_url: url::Url,
    /// Who has a socket open now, so widget visitors are mailed only when away.
    pub presence: Arc<dyn Presence>,
}

impl std::fmt::Debug for EmailRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailRules")
            .field("public_url", &self.public_url.as_str())
            .finish_non_exhaustive()
    }
}

impl EmailRules {
    /// The link to `path` (segments below the public URL, such as `api/unsubscribe`) carrying
    /// `token`, with the token encoded as a query value.
    pub(crate) fn link(&self, path: &str, token: &str) -> String {
        let mut url = self.public_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path.split('/'));
        }
        url.query_pairs_mut().clear().append_pair("token", token);
        url.into()
    }
}

/// The public URL setting as a base for links: an absolute `http` or `https` URL with a host,
/// no credentials, query or fragment.
///
/// # Errors
/// A sentence saying what is wrong with `text`.
pub fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("{text:?} is not an absolute URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?} must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    Ok(url)
}

/// The email channel's use cases (receiving mail, unsubscribing); from [`Service::email`].
#[derive(Clone, Copy)]
pub struct EmailChannel<'a> {
    pub(crate) service: &'a Service,
}

impl Service {
    /// The email channel's use cases: receiving mail, unsubscribing.
    pub fn email(&self) -> EmailChannel<'_> {
        EmailChannel { service: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(base: &str) -> EmailRules {
        EmailRules {
            public_url: parse_public_url(base).unwrap(),
            presence: Arc::new(NoSockets),
        }
    }

    #[test]
    fn links_sit_below_the_public_url_with_their_token_encoded() {
        assert_eq!(
            rules("https://help.example.com").link("reset-password", "a+b/c="),
            "https://help.example.com/reset-password?token=a%2Bb%2Fc%3D"
        );
        assert_eq!(
            rules("https://example.com/desk/").link("api/unsubscribe", "t"),
            "https://example.com/desk/api/unsubscribe?token=t"
        );
        assert_eq!(
            rules("http://localhost:8080/desk").link("reset-password", "t"),
            "http://localhost:8080/desk/reset-password?token=t"
        );
    }

    #[test]
    fn a_public_url_is_an_absolute_http_url_without_extras() {
        for good in ["http://localhost:8080", "https://help.example.com/desk/"] {
            assert!(parse_public_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "help.example.com",
            "/desk",
            "ftp://example.com",
            "mailto:help@example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=b",
            "https://example.com/#top",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }
}
