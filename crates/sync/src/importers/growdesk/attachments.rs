//! Attachments in a GrowDesk export: their bytes sit in `attachments/` beside the export file,
//! named by their SHA-256, and are checked against it before they are stored.

use growdesk_store::FileStore;
use sha2::Digest as _;

use crate::format::ExportedAttachment;

/// Where an import finds attachments' bytes and puts them.
pub(super) struct Attachments<'a> {
    pub(super) exported: std::path::PathBuf,
    pub(super) files: &'a FileStore,
}

/// An attachment's bytes from the export, refused unless they match its size and SHA-256.
pub(super) fn attachment_bytes(
    attachments: &Attachments<'_>,
    attachment: &ExportedAttachment,
) -> Result<Vec<u8>, String> {
    let named_by_digest = attachment.sha256.len() == 64
        && attachment
            .sha256
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if !named_by_digest {
        return Err(format!(
            "attachment {} has no SHA-256 (64 lower-case hex digits)",
            attachment.id
        ));
    }
    let path = attachments.exported.join(&attachment.sha256);
    let bytes = std::fs::read(&path).map_err(|error| {
        format!(
            "attachment {}: cannot read {}: {error}",
            attachment.id,
            path.display()
        )
    })?;
    let digest: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if digest != attachment.sha256 || i64::try_from(bytes.len()).ok() != Some(attachment.size) {
        return Err(format!(
            "attachment {}: {} does not match its size and SHA-256",
            attachment.id,
            path.display()
        ));
    }
    Ok(bytes)
}
