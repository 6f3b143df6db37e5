//! Writing files that hold secrets or personal data (exports, reports, the signing key): never
//! through a link planted at the target, never readable by others, never seen half-written.

use std::fs::{File, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// A file being written in place of `target`. The data goes to a new file beside the target,
/// created exclusively (so a link planted under its name is never followed) and readable by
/// the owner only; `persist` flushes it to disk and renames it over the target, which replaces
/// a link at the target rather than writing through it. Dropped unpersisted, it is removed.
#[derive(Debug)]
pub struct PrivateFile {
    writer: BufWriter<NamedTempFile>,
    target: PathBuf,
}

impl PrivateFile {
    /// Starts a file that will replace `target`, creating the target's directory if needed.
    ///
    /// # Errors
    /// The directory cannot be created or written.
    pub fn create(target: &Path) -> io::Result<Self> {
        let dir = directory_of(target);
        growdesk_store::private_dir::create_private_dir_all(dir)?;
        let temporary = tempfile::Builder::new()
            .prefix(".growdesk-")
            .suffix(".partial")
            .permissions(Permissions::from_mode(0o600))
            .tempfile_in(dir)?;
        Ok(Self {
            writer: BufWriter::new(temporary),
            target: target.to_owned(),
        })
    }

    /// Puts the written file at the target, replacing whatever is there (a link included).
    ///
    /// # Errors
    /// Writing, syncing or renaming failed; the target is then unchanged.
    pub fn persist(self) -> io::Result<()> {
        let target = self.target.clone();
        let temporary = self.synced()?;
        temporary.persist(&target).map_err(|error| error.error)?;
        sync_directory(&target)
    }

    /// Puts the written file at the target unless something is already there, in which case
    /// the error is `AlreadyExists` and nothing changes (two processes racing keep one file).
    ///
    /// # Errors
    /// The target exists, or writing, syncing or linking failed.
    pub fn persist_new(self) -> io::Result<()> {
        let target = self.target.clone();
        let temporary = self.synced()?;
        temporary
            .persist_noclobber(&target)
            .map_err(|error| error.error)?;
        sync_directory(&target)
    }

    fn synced(self) -> io::Result<NamedTempFile> {
        let temporary = self
            .writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        temporary.as_file().sync_all()?;
        Ok(temporary)
    }
}

impl Write for PrivateFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writer.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Writes `contents` to `target` as a `PrivateFile`.
///
/// # Errors
/// As `PrivateFile::create` and `persist`.
pub fn replace(target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = PrivateFile::create(target)?;
    file.write_all(contents)?;
    file.persist()
}

fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes the rename itself durable: without it, a crash can forget the new name.
fn sync_directory(target: &Path) -> io::Result<()> {
    File::open(directory_of(target))?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let target = dir.path().join("out");
        symlink(&victim, &target).unwrap();
        replace(&target, b"secret").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "secret");
    }

    #[test]
    fn an_open_file_is_replaced_by_an_owner_only_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, Permissions::from_mode(0o644)).unwrap();
        replace(&target, b"new").unwrap();
        assert_eq!(mode(&target), 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn an_unpersisted_file_leaves_the_target_and_no_litter() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::write(&target, "old").unwrap();
        let mut file = PrivateFile::create(&target).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn persist_new_keeps_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key");
        std::fs::write(&target, "first").unwrap();
        let mut file = PrivateFile::create(&target).unwrap();
        file.write_all(b"second").unwrap();
        let error = file.persist_new().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
