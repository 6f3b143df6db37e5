//! Creating directories that hold password hashes, keys or customers' files: readable by the
//! service user only, whatever the umask.

use std::os::unix::fs::DirBuilderExt as _;
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700. Directories that already exist keep
/// the permissions their owner chose.
///
/// # Errors
/// A directory cannot be created.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn every_new_level_is_owner_only_and_an_existing_one_is_kept() {
        let root = tempfile::tempdir().unwrap();
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir_all(&shared.join("data/attachments")).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(mode(&shared.join("data")), 0o700);
        assert_eq!(mode(&shared.join("data/attachments")), 0o700);
        create_private_dir_all(&shared.join("data")).unwrap();
    }
}
