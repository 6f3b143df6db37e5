//! The SQLite database file: created private to its owner, in a private directory.

use std::path::Path;

use crate::ConnectError;
use crate::private_dir;

/// Creates the SQLite file's directory and, when the file is new, the file itself, readable by
/// its owner only: it holds password hashes, and SQLite gives its WAL and shared-memory files
/// the database file's permissions. An existing file keeps the permissions its owner chose, but
/// one readable by other users is warned about.
pub(crate) fn prepare(url: &str, file: &Path) -> Result<(), ConnectError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(());
    }
    create_parent_dir(file)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_others_can_read(file);
            Ok(())
        }
        Err(error) => Err(ConnectError::CreateFile {
            path: file.display().to_string(),
            source: error,
        }),
        Ok(_) => Ok(()),
    }
}

/// A database made by an older version, which created it 0644, stays readable by every user of
/// the host until its owner tightens it: say so, with the fix, at each start.
fn warn_if_others_can_read(file: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(metadata) = std::fs::metadata(file) else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %file.display(),
            mode = %format!("{mode:o}"),
            "the database file holds password hashes and other users may read it: \
             chmod 600 it and its -wal and -shm files"
        );
    }
}

fn create_parent_dir(file: &Path) -> Result<(), ConnectError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && file != Path::new(":memory:") => {
            private_dir::create_private_dir_all(dir).map_err(|source| {
                ConnectError::CreateDirectory {
                    path: file.display().to_string(),
                    source,
                }
            })
        }
        _ => Ok(()),
    }
}
