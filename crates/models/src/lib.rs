//! The kinds of model genreid has, each with its self-describing file:
//! classical models on feature tables ([`classical`], a JSON
//! [`ModelFile`]), pretrained taggers ([`pretrained`]) and networks trained
//! here ([`neural`]), both safetensors files.
//!
//! Layers, bottom up: shared primitives ([`Cancel`], [`tensor_file`],
//! [`builtin`], the matrix kernel), then the model kinds. Nothing here
//! imports upward; what picks a model by name and turns audio into a
//! verdict (the registry, verdicts, batch runs) is the `genreid-pipeline`
//! crate above this one.

pub mod builtin;
pub mod classical;
pub mod matmul;
pub mod neural;
pub mod pretrained;
pub mod tensor_file;

pub use builtin::BUILTIN_MODELS;
pub use classical::{Classifier, ClassifierKind, FORMAT, ModelFile, Preprocessing, StandardScaler};
pub use genreid_core::{Cancel, CancelOnDrop};

use std::path::PathBuf;

/// Why a model could not be trained, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Training data or parameters are unusable.
    #[error("{0}")]
    InvalidInput(String),
    /// A model file could not be read or written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The work was cancelled (see [`Cancel`]).
    #[error("cancelled")]
    Cancelled,
}

impl ModelError {
    /// `e` as an error about the file `path`, naming it once: a message
    /// that already starts with the file's name is kept as it is.
    pub fn about(path: &std::path::Path, e: ModelError) -> ModelError {
        match e {
            ModelError::Cancelled | ModelError::File { .. } => e,
            ModelError::InvalidInput(reason) if reason.starts_with(&path.display().to_string()) => {
                ModelError::InvalidInput(reason)
            }
            e => ModelError::File { path: path.to_path_buf(), reason: e.to_string() },
        }
    }
}

impl From<genreid_core::Cancelled> for ModelError {
    fn from(_: genreid_core::Cancelled) -> Self {
        ModelError::Cancelled
    }
}

/// Result alias for the `models` crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// Writes `bytes` to `path` atomically (`genreid_core::write_atomic`), so
/// a reader never sees half a model and a failure leaves the old file.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    genreid_core::write_bytes_atomic(path, bytes)
        .map_err(|e| ModelError::File { path: path.to_path_buf(), reason: e.to_string() })
}
