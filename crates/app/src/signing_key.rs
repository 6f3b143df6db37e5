//! Where the token signing key comes from: `GROWDESK_JWT_SECRET`, or a random key generated on
//! first start and kept in the data directory, readable by the owner only.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret as _, SecretString};

use crate::StartError;
use crate::private_file::PrivateFile;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "jwt-secret";

/// Where the key came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    Generated(PathBuf),
    Loaded(PathBuf),
}

/// The configured secret, else the key file's contents, else a new key written to the file.
///
/// # Errors
/// The key file cannot be read or created.
pub fn load_or_create(
    configured: Option<&SecretString>,
    data_dir: &Path,
) -> Result<(SecretString, KeySource), StartError> {
    if let Some(secret) = configured {
        return Ok((secret.clone(), KeySource::Configured));
    }
    let path = data_dir.join(KEY_FILE);
    let io_error = |source| StartError::KeyFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(contents) => {
            return Ok((
                SecretString::from(contents.trim().to_owned()),
                KeySource::Loaded(path),
            ));
        }
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io_error(error)),
        Err(_) => {}
    }
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    let key = URL_SAFE_NO_PAD.encode(bytes);
    // Written aside and linked in only if absent: two instances starting at once keep one key,
    // and a crash mid-write never leaves a short key to be loaded next time.
    let mut file = PrivateFile::create(&path).map_err(io_error)?;
    file.write_all(key.as_bytes()).map_err(io_error)?;
    match file.persist_new() {
        Ok(()) => Ok((SecretString::from(key), KeySource::Generated(path))),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let contents = std::fs::read_to_string(&path).map_err(io_error)?;
            Ok((
                SecretString::from(contents.trim().to_owned()),
                KeySource::Loaded(path),
            ))
        }
        Err(error) => Err(io_error(error)),
    }
}

/// The key's bytes, for the token signer.
pub fn key_bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (first, source) = load_or_create(None, &data).unwrap();
        let path = data.join(KEY_FILE);
        assert_eq!(source, KeySource::Generated(path.clone()));
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(key_bytes(&first).len() >= 64);
        let (second, source) = load_or_create(None, &data).unwrap();
        assert_eq!(source, KeySource::Loaded(path));
        assert_eq!(first.expose_secret(), second.expose_secret());
    }

    #[test]
    fn configured_secret_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretString::from("configured-secret-configured-secret".to_owned());
        let (key, source) = load_or_create(Some(&secret), dir.path()).unwrap();
        assert_eq!(source, KeySource::Configured);
        assert_eq!(key.expose_secret(), secret.expose_secret());
        assert!(!dir.path().join(KEY_FILE).exists());
    }
}
