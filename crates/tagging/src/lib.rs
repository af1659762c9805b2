//! Writing a model's verdict into music files' own tags without ever
//! losing a byte of the user's music.
//!
//! Every change goes through the same steps ([`tag_file`]):
//!
//! 1. the file is read and its tags parsed strictly with `lofty` (a tag
//!    lofty cannot read completely is never rewritten);
//! 2. the new tags are written into an in-memory copy, which is parsed
//!    again and checked: the edited fields hold the new values, every
//!    other tag item is as before, and the audio frames are bit-identical
//!    ([`audio_digest`]);
//! 3. a journal record (old and new values, SHA-256 of both versions and a
//!    binary delta that rebuilds the original from the new bytes) is
//!    appended and flushed to disk;
//! 4. the copy is written to a temporary file beside the original,
//!    flushed, given the original's permissions and timestamps, and
//!    renamed over it in one atomic step.
//!
//! A kill at any moment leaves each file either as it was or completely
//! tagged; [`undo_journal`] restores every recorded file to its exact
//! original bytes, and is itself safe to interrupt and repeat.

mod apply;
mod delta;
mod fields;
mod journal;
mod payload;
mod replace;
mod store;

pub use apply::{Inspected, Planned, inspect_file, plan_file, tag_file};
pub use fields::{Edit, Field, Mode, display_genre, planned_values};
pub use journal::{
    Digest, FieldChange, Journal, Record, UndoOutcome, read_journal, undo_journal, undo_record,
};
pub use payload::audio_digest;
pub use replace::{FileState, temp_path};
pub use store::{Format, format_of};

use std::path::PathBuf;

/// Why a file was not tagged (or not restored). Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    /// The file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason (in the message, so not also a
        /// `source`: error reports would say it twice).
        cause: std::io::Error,
    },
    /// The file is marked read-only; genreid does not override that.
    #[error("{0}: file is read-only; not touched")]
    ReadOnly(PathBuf),
    /// lofty cannot handle this kind of file, or genreid cannot verify its audio.
    #[error("{path}: unsupported for tagging ({reason})")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The file's existing tags could not be read completely, so rewriting
    /// them could lose data.
    #[error("{path}: existing tags cannot be read completely, not rewriting them: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// lofty's or genreid's reason.
        reason: String,
    },
    /// The rewritten copy failed a check; the original was left untouched.
    #[error("{path}: verification of the rewritten copy failed ({reason}); original left untouched")]
    Verification {
        /// The file.
        path: PathBuf,
        /// Which check failed.
        reason: String,
    },
    /// The journal is damaged or does not match the file.
    #[error("{path}: journal: {reason}")]
    Journal {
        /// The journal or the file it names.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl TagError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), cause: source }
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, TagError>;
