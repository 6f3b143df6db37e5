//! The optional DKIM signature of outgoing mail (RFC 6376), made by lettre.
//!
//! A key is read from PEM, in either of the forms `openssl` writes:
//! - Ed25519 (RFC 8463): PKCS#8, `-----BEGIN PRIVATE KEY-----`, as from
//!   `openssl genpkey -algorithm ed25519`;
//! - RSA: PKCS#1, `-----BEGIN RSA PRIVATE KEY-----`, as from
//!   `openssl genrsa 2048 -traditional` (a PKCS#8 RSA key converts with
//!   `openssl rsa -in key.pem -traditional`).
//!
//! The public half is published at `<selector>._domainkey.<domain>` in DNS, which is the
//! operator's part. Signed headers: From, To, Subject, Date, Message-ID, In-Reply-To and
//! References, with relaxed canonicalisation of both headers and body (so that relays which
//! re-fold headers or trailing spaces do not break the signature).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;

use crate::error::MailError;

/// The DER prefix of a PKCS#8 Ed25519 private key (RFC 8410): the 32-byte seed follows it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A DKIM signing key with its selector and domain.
pub struct DkimKey {
    config: DkimConfig,
}

impl std::fmt::Debug for DkimKey {
    // The private key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DkimKey { .. }")
    }
}

impl DkimKey {
    /// Reads `pem` (see the module's documentation for the forms) for signing as `domain` with
    /// the DNS selector `selector`.
    pub fn from_pem(selector: &str, domain: &str, pem: &str) -> Result<Self, MailError> {
        let selector = selector.trim();
        let domain = domain.trim();
        let label = |value: &str| {
            !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        };
        if !label(selector) || !label(domain) {
            return Err(MailError::InvalidDkimKey(
                "the selector and domain must be DNS names".to_owned(),
            ));
        }
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa)
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            DkimSigningKey::new(
                &STANDARD.encode(ed25519_seed(pem)?),
                DkimSigningAlgorithm::Ed25519,
            )
        } else {
            return Err(MailError::InvalidDkimKey(
                "expected a PEM key: BEGIN PRIVATE KEY (Ed25519) or BEGIN RSA PRIVATE KEY"
                    .to_owned(),
            ));
        }
        .map_err(|_| MailError::InvalidDkimKey("the key's contents do not parse".to_owned()))?;
        let headers = [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
        ]
        .into_iter()
        .map(HeaderName::new_from_ascii_str)
        .collect();
        Ok(Self {
            config: DkimConfig::new(
                selector.to_owned(),
                domain.to_owned(),
                key,
                headers,
                DkimCanonicalization {
                    header: DkimCanonicalizationType::Relaxed,
                    body: DkimCanonicalizationType::Relaxed,
                },
            ),
        })
    }

    pub(super) fn sign(&self, message: &mut Message) {
        message.sign(&self.config);
    }
}

/// The seed of a PKCS#8 Ed25519 key (lettre takes the raw seed, base64).
fn ed25519_seed(pem: &str) -> Result<Vec<u8>, MailError> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.trim().chars())
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|_| MailError::InvalidDkimKey("the PEM body is not base64".to_owned()))?;
    match der.strip_prefix(&ED25519_PKCS8_PREFIX[..]) {
        Some(seed) if seed.len() == 32 => Ok(seed.to_vec()),
        _ => Err(MailError::InvalidDkimKey(
            "a PKCS#8 key must be Ed25519; an RSA key must be PKCS#1 (BEGIN RSA PRIVATE KEY)"
                .to_owned(),
        )),
    }
}
