//! Planning and making one file's change: read, edit in memory, verify,
//! journal, then replace the file atomically.

use std::fs::{File, OpenOptions};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use filetime::FileTime;
use serde::{Deserialize, Serialize};

use crate::delta;
use crate::fields::{Edit, planned_values};
use crate::journal::{Digest, FieldChange, Journal, Record, sync_dir};
use crate::payload::audio_digest;
use crate::store::{Format, Loaded, format_of};
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
    fn of(meta: &std::fs::Metadata) -> Self {
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
fn link_count(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn link_count(_: &std::fs::Metadata) -> u64 {
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

/// A file read and parsed, with the change the edits would make.
pub struct Planned {
    /// The file (absolute).
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Each edited field: old values and, where it changes, new ones.
    pub changes: Vec<FieldChange>,
    /// The file as read.
    pub before: Digest,
    bytes: Vec<u8>,
    loaded: Loaded,
    state: FileState,
    edits: Vec<(crate::Field, Vec<String>)>,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned").field("path", &self.path).field("changes", &self.changes).finish()
    }
}

impl Planned {
    /// Whether the file already holds what the edits ask for.
    pub fn is_unchanged(&self) -> bool {
        self.changes.iter().all(|c| c.new.is_none())
    }
}

/// A file read, checked and parsed, ready to plan edits on.
pub struct Inspected {
    /// The file (absolute).
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The file as read.
    pub before: Digest,
    bytes: Vec<u8>,
    loaded: Loaded,
    state: FileState,
}

impl std::fmt::Debug for Inspected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inspected").field("path", &self.path).field("format", &self.format).finish()
    }
}

/// Reads and parses `path`, refusing read-only and hard-linked files,
/// formats genreid cannot tag or verify, and tags lofty cannot read completely.
pub fn inspect_file(path: &Path) -> Result<Inspected> {
    // Symbolic links are followed: the file they point to is the one tagged,
    // and the link stays a link.
    let path = std::fs::canonicalize(path).map_err(|e| TagError::io(path, e))?;
    let meta = std::fs::metadata(&path).map_err(|e| TagError::io(&path, e))?;
    if !meta.is_file() {
        return Err(TagError::Unsupported { path, reason: "not a regular file".into() });
    }
    if link_count(&meta) > 1 {
        // Replacing the file by rename would leave the other names with the old bytes.
        let reason =
            format!("the file has {} hard links; tagging one name would split them", link_count(&meta));
        return Err(TagError::Unsupported { path, reason });
    }
    if meta.permissions().readonly() {
        return Err(TagError::ReadOnly(path));
    }
    let bytes = std::fs::read(&path).map_err(|e| TagError::io(&path, e))?;
    let format = format_of(&bytes).map_err(|reason| TagError::Unsupported { path: path.clone(), reason })?;
    // The audio must be locatable, or the after-write check could not run.
    audio_digest(format, &bytes).map_err(|reason| TagError::Unsupported { path: path.clone(), reason })?;
    let loaded = Loaded::parse(format, &bytes)
        .map_err(|reason| TagError::Unreadable { path: path.clone(), reason })?;
    Ok(Inspected { before: Digest::of(&bytes), state: FileState::of(&meta), path, format, bytes, loaded })
}

impl Inspected {
    /// The current values of a field.
    pub fn values(&self, field: &crate::Field) -> Vec<String> {
        self.loaded.values(field)
    }

    /// Works out what `edits` would change, without writing.
    pub fn plan(self, edits: &[Edit]) -> Planned {
        let mut changes = Vec::with_capacity(edits.len());
        let mut planned_edits = Vec::new();
        for edit in edits {
            let old = self.loaded.values(&edit.field);
            let new = planned_values(&old, &edit.value, edit.mode);
            if let Some(values) = &new {
                planned_edits.push((edit.field.clone(), values.clone()));
            }
            changes.push(FieldChange { field: edit.field.to_string(), old, new });
        }
        let Inspected { path, format, before, bytes, loaded, state } = self;
        Planned { path, format, changes, before, bytes, loaded, state, edits: planned_edits }
    }
}

/// [`inspect_file`] then [`Inspected::plan`].
pub fn plan_file(path: &Path, edits: &[Edit]) -> Result<Planned> {
    Ok(inspect_file(path)?.plan(edits))
}

/// Makes the planned change: edits a copy in memory, verifies it (tags as
/// intended, every other tag item and the audio bit-identical), journals
/// it, and renames it over the file. Returns the journal record.
pub fn tag_file(planned: Planned, journal: &Journal, settings: &str) -> Result<Record> {
    let Planned { path, format, changes, before, bytes, mut loaded, state, edits } = planned;
    let failed = |reason: String| TagError::Verification { path: path.clone(), reason };
    for (field, values) in &edits {
        loaded.set(field, values).map_err(|reason| TagError::Unsupported { path: path.clone(), reason })?;
    }
    let expected = loaded.snapshot();
    let mut copy = Cursor::new(bytes.clone());
    loaded.save(&mut copy).map_err(|e| failed(format!("writing tags: {e}")))?;
    let new_bytes = copy.into_inner();

    let reread = Loaded::parse(format, &new_bytes).map_err(|e| failed(format!("re-reading: {e}")))?;
    for (field, values) in &edits {
        let found = reread.values(field);
        if &found != values {
            return Err(failed(format!("{field} reads back as {found:?}, not {values:?}")));
        }
    }
    if reread.snapshot() != expected {
        return Err(failed("other tag items changed".into()));
    }
    let audio_before = audio_digest(format, &bytes).map_err(&failed)?;
    let audio_after = audio_digest(format, &new_bytes).map_err(&failed)?;
    if audio_before != audio_after {
        return Err(failed("audio bytes changed".into()));
    }

    let delta = delta::make(&bytes, &new_bytes);
    let record = Record {
        version: 1,
        time: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        path: path.clone(),
        settings: settings.to_string(),
        changes,
        before,
        after: Digest::of(&new_bytes),
        state: state.clone(),
        delta: base64::engine::general_purpose::STANDARD.encode(&delta),
    };
    // One writer at a time per file: an exclusive advisory lock on the file
    // until its replacement is in place, so two `tag` runs over one folder
    // never write the same temporary file. A run that waited finds the
    // file changed by the other and says so.
    let held = File::open(&path).map_err(|e| TagError::io(&path, e))?;
    held.lock().map_err(|e| TagError::io(&path, e))?;
    // The file must still be the one planned on: another program, or
    // another `tag` run, may have written it meanwhile.
    let now = std::fs::read(&path).map_err(|e| TagError::io(&path, e))?;
    if Digest::of(&now) != record.before {
        return Err(failed(
            "the file changed while it was being tagged (by another program or another `genreid tag` run); \
             run again to tag it"
                .into(),
        ));
    }
    journal.append(&record)?;
    write_atomically(&path, &new_bytes, &state)?;
    drop(held);
    Ok(record)
}
