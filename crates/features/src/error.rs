//! The one error type of the `features` crate.

/// Why a feature could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// A parameter is out of its valid range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The signal is too short for the requested analysis.
    #[error("signal of {samples} samples is too short (need at least {needed})")]
    TooShort {
        /// Samples given.
        samples: usize,
        /// Samples needed.
        needed: usize,
    },
}

/// Result alias for the `features` crate.
pub type Result<T> = std::result::Result<T, FeatureError>;
