//! Planning and making one file's change: read, edit in memory, verify,
//! journal, then replace the file atomically.

use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::delta;
use crate::fields::{Edit, planned_values};
use crate::journal::{Digest, FieldChange, Journal, Record};
use crate::payload::audio_digest;
use crate::replace::{FileState, link_count, write_atomically};
use crate::store::{Format, Loaded, format_of};
use crate::{Result, TagError};

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
