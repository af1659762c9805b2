//! The one error type of the `audio` crate.

use std::path::PathBuf;

/// Why a file could not be turned into a [`crate::Signal`].
///
/// Every variant names the file, so a message printed on its own tells the
/// user which file is at fault and why.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be opened or read.
    #[error("{path}: {}", io_reason(cause))]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason (in the message, so not also a
        /// `source`: error reports would say it twice).
        cause: std::io::Error,
    },
    /// The file holds no bytes at all.
    #[error("{path}: file is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// No reader recognises the bytes as audio.
    #[error("{path}: not a supported audio file ({reason})")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What the probe said.
        reason: String,
    },
    /// The header is recognised but its values are impossible.
    #[error("{path}: invalid header: {reason}")]
    InvalidHeader {
        /// The file.
        path: PathBuf,
        /// Which value is wrong.
        reason: String,
    },
    /// The stream started but could not be decoded.
    #[error("{path}: decoding failed: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's reason.
        reason: String,
    },
    /// Samples far beyond full scale (see [`crate::MAX_PEAK`]).
    #[error("{path}: samples reach {peak:e}, far beyond full scale (1.0; genreid accepts up to {max}): the file is damaged or wrongly scaled", max = crate::MAX_PEAK)]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// The largest magnitude.
        peak: f32,
    },
    /// The file decoded to zero samples.
    #[error("{path}: no audio samples in file")]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// A parameter given by the caller is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The resampler refused the conversion.
    #[error("resampling {from} Hz to {to} Hz failed: {reason}")]
    Resample {
        /// Input rate.
        from: u32,
        /// Output rate.
        to: u32,
        /// rubato's reason.
        reason: String,
    },
}

/// Result alias for the `audio` crate.
pub type Result<T> = std::result::Result<T, AudioError>;

/// The reason of an [`AudioError::Io`]: the system's, and for a folder
/// what it means here (a folder reaches a decoder only when a folder being
/// searched holds a subfolder that cannot be searched).
fn io_reason(cause: &std::io::Error) -> String {
    if cause.kind() == std::io::ErrorKind::IsADirectory {
        "a folder that could not be searched for audio files (no permission, or a link that loops back)"
            .into()
    } else {
        format!("cannot read file: {cause}")
    }
}
