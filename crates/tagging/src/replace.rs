//! Replacing a tagged file: the new bytes go to a hidden temporary file
//! beside it, are read back, receive the old file's permissions, owner and
//! timestamps, and take the name in one rename. Tagging and undoing both
//! replace files this way; the temporary name is fixed per file, so a run
//! that was interrupted leaves one that the next run removes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use filetime::FileTime;
use genreid_core::sync_dir;
use serde::{Deserialize, Serialize};

use crate::{Result, TagError};

/// Permissions and timestamps of a file, restored after each rewrite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Unix mode bits (0 where the platform has none).
    pub mode: u32,
    /// Read-only flag (the portable part of permissions).
    pub readonly: bool,
    /// Modification time: seconds since the epoch and nanoseconds.
    pub mtime: (i64, u32),
    /// Access time: seconds since the epoch and nanoseconds.
    pub atime: (i64, u32),
    /// Owner and group (Unix), restored where the user may (root, or the owner's own group).
    #[serde(default)]
    pub owner: Option<(u32, u32)>,
}

impl FileState {
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        let mtime = FileTime::from_last_modification_time(meta);
        let atime = FileTime::from_last_access_time(meta);
        Self {
            mode: mode_of(meta),
            readonly: meta.permissions().readonly(),
            mtime: (mtime.unix_seconds(), mtime.nanoseconds()),
            atime: (atime.unix_seconds(), atime.nanoseconds()),
            owner: owner_of(meta),
        }
    }

    fn apply(&self, file: &File, path: &Path) -> std::io::Result<()> {
        set_owner(file, self.owner);
        let mut permissions = file.metadata()?.permissions();
        set_mode(&mut permissions, self.mode, self.readonly);
        file.set_permissions(permissions)?;
        filetime::set_file_handle_times(
            file,
            Some(FileTime::from_unix_time(self.atime.0, self.atime.1)),
            Some(FileTime::from_unix_time(self.mtime.0, self.mtime.1)),
        )
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: setting times: {e}", path.display())))
    }
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> u32 {
    0
}

#[cfg(unix)]
fn owner_of(meta: &std::fs::Metadata) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.uid(), meta.gid()))
}

#[cfg(not(unix))]
fn owner_of(_: &std::fs::Metadata) -> Option<(u32, u32)> {
    None
}

/// Best effort: only root may give a file away; a failure leaves the
/// rewriting user as owner, which the platform allows no way around.
#[cfg(unix)]
fn set_owner(file: &File, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        let _ = std::os::unix::fs::fchown(file, Some(uid), Some(gid));
    }
}

#[cfg(not(unix))]
fn set_owner(_: &File, _: Option<(u32, u32)>) {}

/// Number of hard links to a file (1 where the platform cannot tell).
#[cfg(unix)]
pub(crate) fn link_count(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
pub(crate) fn link_count(_: &std::fs::Metadata) -> u64 {
    1
}

#[cfg(unix)]
fn set_mode(permissions: &mut std::fs::Permissions, mode: u32, _readonly: bool) {
    use std::os::unix::fs::PermissionsExt;
    permissions.set_mode(mode);
}

#[cfg(not(unix))]
fn set_mode(permissions: &mut std::fs::Permissions, _mode: u32, readonly: bool) {
    permissions.set_readonly(readonly);
}

/// The temporary file genreid writes beside `path` before renaming it over
/// `path`: hidden, and without an audio extension, so folder walks skip it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.genreid-tmp"))
}

/// Removes a temporary file an interrupted run left beside `path`.
pub(crate) fn remove_stale_temp(path: &Path) {
    let _ = std::fs::remove_file(temp_path(path));
}

/// Replaces `path` by `bytes` in one atomic rename: the bytes go to a
/// temporary file in the same folder, are flushed and read back, receive
/// `state`'s permissions and timestamps, and only then take the name.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], state: &FileState) -> Result<()> {
    let temp = temp_path(path);
    let written = write_temp(&temp, path, bytes, state);
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    std::fs::rename(&temp, path).map_err(|e| TagError::io(path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

fn write_temp(temp: &Path, path: &Path, bytes: &[u8], state: &FileState) -> Result<()> {
    let io = |e| TagError::io(temp, e);
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(temp).map_err(io)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io)?;
    if std::fs::read(temp).map_err(io)? != bytes {
        return Err(TagError::Verification {
            path: path.to_path_buf(),
            reason: "the temporary copy read back differs from what was written".into(),
        });
    }
    state.apply(&file, temp).map_err(io)?;
    file.sync_all().map_err(io)
}
