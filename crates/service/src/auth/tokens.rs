//! Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use growdesk_domain::Role;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Who issues our tokens (`iss`).
pub const ISSUER: &str = "growdesk";
/// The staff and customer REST API (`aud`); other token kinds get other audiences.
pub const API_AUDIENCE: &str = "growdesk-api";
/// The JOSE `typ` of access tokens (RFC 9068), so no other JWT can stand in for one.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The audience of widget visitor tokens: never accepted by the staff and customer API.
pub const WIDGET_AUDIENCE: &str = "growdesk-widget";
/// The JOSE `typ` of visitor tokens.
pub const VISITOR_TOKEN_TYPE: &str = "visitor+jwt";
/// How long a visitor token lasts: the browser keeps it to come back to the conversation.
pub const VISITOR_TOKEN_DAYS: i64 = 90;
/// Shortest signing key accepted: 256 bits, as RFC 8725 §3.5 asks for HMAC keys.
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    /// The role when issued; the server still reads the current role from the database.
    pub role: Role,
    /// The session (refresh-token family) the token belongs to; signing out ends it.
    pub sid: Uuid,
    /// The user's token version when issued; bumping it invalidates the token.
    pub ver: i64,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The claims of a widget visitor token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VisitorClaims {
    /// The visitor id.
    pub sub: Uuid,
    /// The widget it was issued for: it works on no other.
    pub wid: Uuid,
    /// The customer whose identity the visitor proved with an identity hash, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idn: Option<Uuid>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why a signing secret was refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long (got {0})")]
    TooShort(usize),
    #[error("the JWT secret is one character repeated; use a random value")]
    Trivial,
}

/// Signs and checks access tokens with one HS256 key. The algorithm is pinned: a token whose
/// header names any other (`none` included) is refused.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    visitor_validation: Validation,
    access_ttl: Duration,
    /// The key mail links (unsubscribe) are signed with: derived from the secret for that use
    /// alone, so a link's MAC can never stand in for a token's signature.
    mail_link_key: [u8; 32],
}

/// What the mail link key is derived for (HMAC-SHA256 of this with the secret).
const MAIL_LINK_KEY_PURPOSE: &[u8] = b"growdesk mail link key v1";

fn validation(audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 10;
    validation
}

impl TokenKeys {
    /// # Errors
    /// A secret shorter than 32 bytes, or one character repeated.
    pub fn new(secret: &[u8], access_ttl: Duration) -> Result<Self, SecretError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort(secret.len()));
        }
        if secret.iter().all(|byte| *byte == secret[0]) {
            return Err(SecretError::Trivial);
        }
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|_| SecretError::TooShort(secret.len()))?;
        derive.update(MAIL_LINK_KEY_PURPOSE);
        Ok(Self {
            mail_link_key: derive.finalize().into_bytes().into(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: validation(API_AUDIENCE),
            visitor_validation: validation(WIDGET_AUDIENCE),
            access_ttl,
        })
    }

    /// The key that signs links sent by mail (unsubscribe).
    pub(crate) fn mail_link_key(&self) -> &[u8; 32] {
        &self.mail_link_key
    }

    /// How long access tokens live.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// A signed access token for this user and session.
    ///
    /// # Errors
    /// Only if signing fails, which it does not for HMAC keys.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        session_id: Uuid,
        version: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            sub: user_id,
            role,
            sid: session_id,
            ver: version,
            iss: ISSUER.to_owned(),
            aud: API_AUDIENCE.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// A signed visitor token for `visitor` on `widget`.
    ///
    /// # Errors
    /// Only if signing fails, which it does not for HMAC keys.
    pub fn issue_visitor(
        &self,
        visitor: Uuid,
        widget: Uuid,
        identity: Option<Uuid>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = VisitorClaims {
            sub: visitor,
            wid: widget,
            idn: identity,
            iss: ISSUER.to_owned(),
            aud: WIDGET_AUDIENCE.to_owned(),
            iat: now,
            exp: now + VISITOR_TOKEN_DAYS * 24 * 60 * 60,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(VISITOR_TOKEN_TYPE.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The claims of a valid visitor token; `None` for anything else (an access token included).
    pub fn verify_visitor(&self, token: &str) -> Option<VisitorClaims> {
        let data =
            jsonwebtoken::decode::<VisitorClaims>(token, &self.decoding, &self.visitor_validation)
                .ok()?;
        (data.header.typ.as_deref() == Some(VISITOR_TOKEN_TYPE)).then_some(data.claims)
    }

    /// The claims of a valid access token; `None` for anything else (bad signature, other
    /// algorithm, wrong issuer, audience or type, expired, malformed).
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        (data.header.typ.as_deref() == Some(ACCESS_TOKEN_TYPE)).then_some(data.claims)
    }
}

/// A new opaque refresh token: 256 random bits, base64url.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token: its SHA-256. `None` for text that cannot be one
/// of ours, refused before any lookup.
pub fn refresh_token_hash(token: &str) -> Option<Vec<u8>> {
    let decoded = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    (decoded.len() == 32).then(|| Sha256::digest(&decoded).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(900),
        )
        .unwrap()
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.issue(user, Role::Agent, session, 3).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.ver, claims.role),
            (user, session, 3, Role::Agent)
        );
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn visitor_and_access_tokens_do_not_stand_in_for_each_other() {
        let keys = keys();
        let (visitor, widget) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.issue_visitor(visitor, widget, None).unwrap();
        let claims = keys.verify_visitor(&token).unwrap();
        assert_eq!((claims.sub, claims.wid), (visitor, widget));
        assert!(
            keys.verify(&token).is_none(),
            "a visitor token is no access token"
        );
        let access = keys
            .issue(Uuid::now_v7(), Role::Customer, Uuid::now_v7(), 0)
            .unwrap();
        assert!(
            keys.verify_visitor(&access).is_none(),
            "an access token is no visitor token"
        );
    }

    #[test]
    fn short_and_trivial_secrets_are_refused() {
        assert!(matches!(
            TokenKeys::new(b"short", Duration::from_secs(1)),
            Err(SecretError::TooShort(5))
        ));
        assert!(matches!(
            TokenKeys::new(&[b'a'; 40], Duration::from_secs(1)),
            Err(SecretError::Trivial)
        ));
    }

    #[test]
    fn tokens_from_another_key_or_tampered_are_refused() {
        let token = keys()
            .issue(Uuid::now_v7(), Role::Customer, Uuid::now_v7(), 0)
            .unwrap();
        let other = TokenKeys::new(
            b"another-key-another-key-another-key",
            Duration::from_secs(900),
        )
        .unwrap();
        assert!(other.verify(&token).is_none());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(keys().verify(&parts.join(".")).is_none());
    }

    #[test]
    fn refresh_tokens_hash_and_garbage_is_refused() {
        let token = new_refresh_token();
        assert_eq!(token.len(), 43);
        assert_eq!(refresh_token_hash(&token).unwrap().len(), 32);
        assert_ne!(
            refresh_token_hash(&token),
            refresh_token_hash(&new_refresh_token())
        );
        for garbage in ["", " ", "abc", "!!!!", &"A".repeat(44)] {
            assert!(refresh_token_hash(garbage).is_none(), "{garbage:?}");
        }
    }
}
