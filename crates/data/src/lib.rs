//! Data for training and evaluation: audio datasets (GTZAN, FMA,
//! MagnaTagATune, folders, manifests), a spectrogram cache, feature tables
//! read from CSV, and
//! honest splits (stratified hold-out, stratified k-fold, published file
//! lists such as GTZAN's artist-disjoint "fault-filtered" split).

pub mod cache;
pub mod dataset;
pub mod files;
pub mod rows;
mod split;
mod table;
pub mod table_rows;

pub use cache::{CacheEntry, SpectrogramCache};
pub use dataset::{Dataset, DatasetSpec, Part, Track};
pub use files::{FoundFile, audio_files, found_audio_files, parent_name, path_text, relative_name};
pub use genreid_core::SplitMix64;
pub use rows::{FileRows, RowOptions, RowSet, file_rows};
pub use split::{Fold, SplitSpec, folds, group_folds};
pub use table::{BOOKKEEPING, FeatureTable, read_table};
pub use table_rows::{TableRow, TableRows, table_rows};

use std::path::PathBuf;

/// Why data could not be read or split.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}: cannot read: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The table's contents are unusable.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A dataset specification is malformed or names nothing usable.
    #[error("dataset {spec:?}: {reason}")]
    Dataset {
        /// The specification as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// Audio could not be read (the message names the file).
    #[error("{0}")]
    Audio(String),
    /// Options that cannot work (the message says which and why).
    #[error("{0}")]
    Options(String),
    /// The paths given hold no audio files.
    #[error("no audio files found in {0}")]
    NoAudio(String),
    /// A split specification is malformed or impossible for this data.
    #[error("split {spec:?}: {reason}")]
    Split {
        /// The specification as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
}

/// Result alias for the `data` crate.
pub type Result<T> = std::result::Result<T, DataError>;
