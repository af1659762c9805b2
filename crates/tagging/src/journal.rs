//! The journal: one JSON line per change, written and flushed to disk
//! before the change happens, holding what is needed to undo it exactly.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use genreid_core::sync_dir;

use crate::delta::{restore, sha256_hex};
use crate::replace::{FileState, remove_stale_temp, write_atomically};
use crate::{Result, TagError};

/// Identity of one version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self { sha256: sha256_hex(bytes), size: bytes.len() as u64 }
    }
}

/// One field's change, as recorded and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field (`genre` or a custom name).
    pub field: String,
    /// Its values before.
    pub old: Vec<String>,
    /// Its values after; `None` when the field is left as it is.
    pub new: Option<Vec<String>>,
}

/// One journal line: a file changed from `before` to `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// Format version of the record (1).
    pub version: u32,
    /// Seconds since the Unix epoch when the change was made.
    pub time: u64,
    /// The file, as an absolute path.
    pub path: PathBuf,
    /// The settings of the run (model, field, mode), so that a re-run with
    /// the same settings recognises files it already tagged.
    pub settings: String,
    /// What changed.
    pub changes: Vec<FieldChange>,
    /// The file before.
    pub before: Digest,
    /// The file after.
    pub after: Digest,
    /// Permissions and timestamps of the original.
    pub state: FileState,
    /// librsync delta (base64) that rebuilds `before` from `after`.
    pub delta: String,
}

impl Record {
    /// The delta's bytes.
    fn delta_bytes(&self) -> Result<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.delta)
            .map_err(|e| TagError::Journal { path: self.path.clone(), reason: format!("bad delta: {e}") })
    }
}

/// An open journal, appended to by many threads.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for appending, and returns
    /// the records it already holds.
    pub fn open(path: &Path) -> Result<(Self, Vec<Record>)> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| TagError::io(path, e))?;
        if !existed && let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        // A run killed while appending leaves a torn last line: end it, so
        // the next record starts on a line of its own.
        let len = file.metadata().map_err(|e| TagError::io(path, e))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| TagError::io(path, e))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").and_then(|()| file.sync_data()).map_err(|e| TagError::io(path, e))?;
            }
        }
        let records = read_journal(path)?;
        Ok((Self { path: path.to_path_buf(), file: Mutex::new(file) }, records))
    }

    /// Appends `record` and waits until it is on disk.
    pub fn append(&self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| TagError::Journal { path: self.path.clone(), reason: e.to_string() })?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(&line).and_then(|()| file.sync_data()).map_err(|e| TagError::io(&self.path, e))
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of a journal, in order. A torn line (a run killed while
/// writing it, before the change it announced) is skipped; any other
/// unreadable line is an error naming its line number.
pub fn read_journal(path: &Path) -> Result<Vec<Record>> {
    let file = File::open(path).map_err(|e| TagError::io(path, e))?;
    let mut records = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| TagError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(record) => records.push(record),
            Err(_) if is_torn(&line) => {}
            Err(e) => {
                return Err(TagError::Journal {
                    path: path.to_path_buf(),
                    reason: format!("line {}: {e}", i + 1),
                });
            }
        }
    }
    Ok(records)
}

/// A line cut short by a kill: a record's start without its end.
fn is_torn(line: &str) -> bool {
    line.starts_with('{') && !line.trim_end().ends_with('}')
}

/// What undoing one record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// The file was put back to its original bytes.
    Restored,
    /// The file already has its original bytes (undone before, or the
    /// change never reached the file).
    AlreadyOriginal,
}

/// Restores the file of one record to its bytes before the change, if it
/// still holds exactly the bytes the change produced.
pub fn undo_record(record: &Record) -> Result<UndoOutcome> {
    let path = &record.path;
    let current = std::fs::read(path).map_err(|e| TagError::io(path, e))?;
    let digest = Digest::of(&current);
    if digest == record.before {
        remove_stale_temp(path);
        return Ok(UndoOutcome::AlreadyOriginal);
    }
    if digest != record.after {
        return Err(TagError::Journal {
            path: path.clone(),
            reason: "the file changed since genreid tagged it; left as it is".into(),
        });
    }
    let original = restore(&current, &record.delta_bytes()?)
        .filter(|bytes| Digest::of(bytes) == record.before)
        .ok_or_else(|| TagError::Journal {
            path: path.clone(),
            reason: "the recorded delta does not rebuild the original; left as it is".into(),
        })?;
    write_atomically(path, &original, &record.state)?;
    Ok(UndoOutcome::Restored)
}

/// Undoes every record of a journal, newest first, so a file changed twice
/// goes back through each version. A file already back at any earlier
/// version of its history counts as already original for the records
/// after that version. Returns each record's path and result.
pub fn undo_journal(path: &Path) -> Result<Vec<(PathBuf, Result<UndoOutcome>)>> {
    let records = read_journal(path)?;
    let mut results = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate().rev() {
        let earlier = || records[..i].iter().filter(|r| r.path == record.path);
        let result = match undo_record(record) {
            Err(TagError::Journal { .. })
                if std::fs::read(&record.path)
                    .is_ok_and(|bytes| earlier().any(|r| Digest::of(&bytes) == r.before)) =>
            {
                Ok(UndoOutcome::AlreadyOriginal)
            }
            other => other,
        };
        results.push((record.path.clone(), result));
    }
    Ok(results)
}
