//! A throwaway certificate authority for the TLS test servers: made in memory when a test starts
//! (rcgen on aws-lc-rs), never downloaded and never stored in the repository. It issues server
//! certificates for the names a test wants (`127.0.0.1` and `localhost`, or another host to be
//! refused), which Dovecot and the SMTP sink present.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A certificate authority of one test: trust it (its `pem` in an `SSL_CERT_FILE` bundle, or its
/// `der` among a client's extra roots) and every certificate it issued is valid.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

/// A server's certificate and private key, issued by a [`TestCa`].
#[derive(Debug)]
pub struct ServerCert {
    cert: CertificateDer<'static>,
    cert_pem: String,
    key_pkcs8: Vec<u8>,
    key_pem: String,
}

fn failed(error: rcgen::Error) -> io::Error {
    io::Error::other(format!("the test certificate could not be made: {error}"))
}

impl TestCa {
    /// A new authority with a fresh key.
    pub fn new() -> io::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: a client that trusts another test CA finds no issuer for our
        // certificates, where a shared name would make it check them against the wrong key.
        params.distinguished_name.push(
            DnType::CommonName,
            format!("GrowDesk test CA {}", uuid::Uuid::now_v7().simple()),
        );
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().map_err(failed)?;
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(failed)?;
        Ok(Self { issuer })
    }

    /// A server certificate valid for `names` (host names or IP addresses).
    pub fn issue(&self, names: &[&str]) -> io::Result<ServerCert> {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).map_err(failed)?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(failed)?;
        Ok(ServerCert {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key_pkcs8: key.serialize_der(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server certificate for `127.0.0.1` and `localhost`, where the test servers listen.
    pub fn localhost(&self) -> io::Result<ServerCert> {
        self.issue(&["127.0.0.1", "localhost"])
    }

    /// The authority's certificate, PEM: the content of an `SSL_CERT_FILE` that trusts it.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The authority's certificate, DER: a root for a client that takes extra roots.
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }
}

impl ServerCert {
    /// A TLS acceptor presenting this certificate (rustls on aws-lc-rs).
    pub(crate) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .map_err(io::Error::other)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Writes the certificate and its key as PEM files in `dir`, for a server that reads files
    /// (Dovecot); their paths.
    pub(crate) fn write(&self, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join("server-cert.pem");
        let key = dir.join("server-key.pem");
        fs::write(&cert, &self.cert_pem)?;
        fs::write(&key, &self.key_pem)?;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600))?;
        Ok((cert, key))
    }
}
