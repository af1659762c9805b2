//! Why a pipeline could not run: the crate below's error, or a reason.

use std::path::PathBuf;

/// Why a pipeline (training, evaluation, a batch run) failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A dataset, split or table could not be used.
    #[error(transparent)]
    Data(#[from] genreid_data::DataError),
    /// A model could not be built, loaded or saved.
    #[error(transparent)]
    Model(#[from] genreid_models::ModelError),
    /// The job's settings or data cannot work (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// A file could not be written.
    #[error("{path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A batch run's output could not be read or written (the message names the file).
    #[error("{0}")]
    Output(String),
}

/// Result alias of the pipelines.
pub type Result<T> = std::result::Result<T, PipelineError>;

impl From<String> for PipelineError {
    fn from(reason: String) -> Self {
        PipelineError::Invalid(reason)
    }
}

impl From<genreid_features::FeatureError> for PipelineError {
    fn from(e: genreid_features::FeatureError) -> Self {
        PipelineError::Invalid(e.to_string())
    }
}
