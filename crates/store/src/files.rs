//! Attachment bytes on disk, stored once per content under their SHA-256.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A directory of files named by the hex SHA-256 of their content (`ab/cd/abcd…`).
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| {
            self.root
                .join(&sha256[..2])
                .join(&sha256[2..4])
                .join(sha256)
        })
    }

    /// Stores `bytes` and returns their hex SHA-256. Writing goes to a temporary file that is
    /// renamed into place, so a file under its hash is always complete. Blocking: call it off
    /// the async threads.
    ///
    /// # Errors
    /// The directory cannot be written.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        self.put_new(bytes).map(|(sha256, _)| sha256)
    }

    /// As [`put`](Self::put), and whether this call wrote the file (it was not there before):
    /// only a file a write created may be removed when that write is not committed.
    ///
    /// # Errors
    /// The directory cannot be written.
    pub fn put_new(&self, bytes: &[u8]) -> std::io::Result<(String, bool)> {
        let sha256 = hex(&Sha256::digest(bytes));
        let Some(path) = self.path_of(&sha256) else {
            return Err(std::io::Error::other("bad digest"));
        };
        if path.exists() {
            return Ok((sha256, false));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        crate::private_dir::create_private_dir_all(dir)?;
        let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
        temporary.write_all(bytes)?;
        temporary.as_file().sync_all()?;
        temporary.persist(&path).map_err(|error| error.error)?;
        Ok((sha256, true))
    }

    /// Removes stored content; content that is not there is not an error. Blocking.
    ///
    /// # Errors
    /// The file is there and cannot be removed.
    pub fn remove(&self, sha256: &str) -> std::io::Result<()> {
        match self.path_of(sha256).map(std::fs::remove_file) {
            Some(Err(error)) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// The hashes of everything stored, sorted: for tests to compare the directory with the
    /// records that name its files.
    ///
    /// # Errors
    /// The directory cannot be read.
    #[cfg(feature = "testkit")]
    pub fn stored(&self) -> std::io::Result<std::collections::BTreeSet<String>> {
        let mut found = std::collections::BTreeSet::new();
        if !self.root.exists() {
            return Ok(found);
        }
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    dirs.push(entry.path());
                } else {
                    found.insert(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        Ok(found)
    }

    /// The path of stored content, if it is there.
    pub fn locate(&self, sha256: &str) -> Option<PathBuf> {
        self.path_of(sha256).filter(|path| path.is_file())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_stored_once_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::new(dir.path());
        let first = files.put(b"hello").unwrap();
        assert_eq!(
            first,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(files.put(b"hello").unwrap(), first);
        let path = files.locate(&first).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"hello");
        assert_eq!(files.put_new(b"hello").unwrap(), (first.clone(), false));
        files.remove(&first).unwrap();
        assert!(files.locate(&first).is_none());
        files.remove(&first).unwrap();
        assert_eq!(files.put_new(b"hello").unwrap(), (first, true));
        assert!(files.locate("../../etc/passwd").is_none());
        assert!(files.locate(&"0".repeat(64)).is_none());
    }
}
