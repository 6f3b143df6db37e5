//! Unsubscribe links: a token signed with the service's mail link key that names an address
//! and the kind of notice it stops, so following it suppresses that address and nothing else.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_domain::MailKind;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{EmailChannel, UNSUBSCRIBED};
use crate::ServiceError;
use crate::auth::tokens::TokenKeys;

/// What following an unsubscribe link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// The address that gets no more notices.
    pub email: String,
}

/// Longest token accepted: an address of at most 254 characters and a kind, encoded.
const MAX_TOKEN_CHARS: usize = 512;

fn mac(keys: &TokenKeys, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(keys.mail_link_key())
        .expect("HMAC takes a key of any length");
    mac.update(payload);
    mac
}

/// The token of an unsubscribe link for `email` from notices of `kind`:
/// `base64url(kind ":" email) "." base64url(HMAC-SHA256)`.
pub fn token(keys: &TokenKeys, email: &str, kind: MailKind) -> String {
    let payload = format!("{}:{email}", kind.as_str());
    let signature = mac(keys, payload.as_bytes()).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The address and kind a token of ours names; `None` for anything forged, altered or
/// malformed (the signature is compared in constant time).
pub fn verify(keys: &TokenKeys, token: &str) -> Option<(String, MailKind)> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let (payload, signature) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    mac(keys, &payload).verify_slice(&signature).ok()?;
    let payload = String::from_utf8(payload).ok()?;
    let (kind, email) = payload.split_once(':')?;
    Some((email.to_owned(), kind.parse().ok()?))
}

impl EmailChannel<'_> {
    /// Whether an unsubscribe link is one of ours, before its page offers to follow it.
    ///
    /// # Errors
    /// `InvalidLink` for a forged, altered or malformed token.
    pub fn check_unsubscribe(self, token: &str) -> Result<(), ServiceError> {
        verify(&self.service.keys, token)
            .map(drop)
            .ok_or(ServiceError::InvalidLink)
    }

    /// Follows an unsubscribe link: its address gets no more notices (acknowledgements,
    /// "resolved"); agents' replies still reach it. Following it again changes nothing.
    ///
    /// # Errors
    /// `InvalidLink` for a forged, altered or malformed token.
    pub async fn unsubscribe(self, token: &str) -> Result<Unsubscribed, ServiceError> {
        let (email, kind) = verify(&self.service.keys, token).ok_or(ServiceError::InvalidLink)?;
        self.service
            .store
            .mail()
            .suppress(&email, UNSUBSCRIBED)
            .await?;
        tracing::info!(kind = kind.as_str(), "an address unsubscribed from notices");
        Ok(Unsubscribed { email })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key_set(secret: &[u8]) -> TokenKeys {
        TokenKeys::new(secret, Duration::from_secs(900)).unwrap()
    }

    #[test]
    fn a_token_names_its_address_and_kind() {
        let keys = key_set(b"0123456789abcdef0123456789abcdef");
        let token = token(&keys, "ana@example.com", MailKind::Resolved);
        assert_eq!(
            verify(&keys, &token),
            Some(("ana@example.com".to_owned(), MailKind::Resolved))
        );
        assert!(
            !token.contains("ana@example.com"),
            "the address is encoded, not written in the URL as is"
        );
    }

    #[test]
    fn forged_altered_and_malformed_tokens_are_refused() {
        let keys = key_set(b"0123456789abcdef0123456789abcdef");
        let token = token(&keys, "ana@example.com", MailKind::Acknowledgement);
        let (_, signature) = token.split_once('.').unwrap();

        let other_address = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode("acknowledgement:bob@example.com")
        );
        assert_eq!(verify(&keys, &other_address), None, "another address");
        let other_kind = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode("resolved:ana@example.com")
        );
        assert_eq!(verify(&keys, &other_kind), None, "another kind");

        let other_key = key_set(b"another-key-another-key-another-key");
        assert_eq!(verify(&other_key, &token), None, "signed with another key");

        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(&keys, &String::from_utf8(flipped).unwrap()), None);

        for garbage in ["", ".", "abc", "a.b.c", &"A".repeat(600), "%%%.%%%"] {
            assert_eq!(verify(&keys, garbage), None, "{garbage:?}");
        }
    }
}
