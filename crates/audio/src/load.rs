//! `load`: the one call that turns a file into the signal features expect,
//! like `librosa.load` (decode → mono → resample → offset/duration).

use std::path::Path;

use crate::decode::{Source, decode};
use crate::error::{AudioError, Result};
use crate::resample::resample;
use crate::signal::{Signal, fix_length};

/// The sample rate genreid works at unless told otherwise (librosa's default).
pub const DEFAULT_SAMPLE_RATE: u32 = 22_050;

/// How to load a file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Target rate in Hz; `None` keeps the file's own rate.
    pub sample_rate: Option<u32>,
    /// Seconds to skip at the start.
    pub offset_seconds: f64,
    /// Seconds to keep after the offset; `None` keeps all.
    pub duration_seconds: Option<f64>,
    /// Pad with zeros (or cut) the result to exactly this many seconds.
    pub fixed_seconds: Option<f64>,
    /// Safety cap on decoded audio, in seconds: longer files are cut here so
    /// that memory stays bounded whatever a header claims.
    pub max_seconds: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            sample_rate: Some(DEFAULT_SAMPLE_RATE),
            offset_seconds: 0.0,
            duration_seconds: None,
            fixed_seconds: None,
            max_seconds: 4.0 * 3600.0,
        }
    }
}

impl LoadOptions {
    fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f64| {
            Err(AudioError::InvalidParameter(format!("{what} must be finite and non-negative, got {v}")))
        };
        if !(self.offset_seconds.is_finite() && self.offset_seconds >= 0.0) {
            return bad("offset", self.offset_seconds);
        }
        for (what, v) in [("duration", self.duration_seconds), ("fixed length", self.fixed_seconds)] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return bad(what, v);
            }
        }
        if !(self.max_seconds.is_finite() && self.max_seconds > 0.0) {
            return bad("max_seconds", self.max_seconds);
        }
        if self.sample_rate == Some(0) {
            return Err(AudioError::InvalidParameter("sample rate must be positive".into()));
        }
        Ok(())
    }
}

/// Loads a file as a mono [`Signal`] following `options`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Signal> {
    load_source(Source::File(path), options)
}

/// Loads encoded bytes (an upload, say) as a mono [`Signal`].
pub fn load_bytes(name: &str, bytes: Vec<u8>, options: &LoadOptions) -> Result<Signal> {
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    load_source(Source::Bytes { name, bytes, extension }, options)
}

/// Loads audio from a reader that cannot seek (an upload as it arrives),
/// decoding while reading: memory holds the decoded signal, not the encoded
/// bytes. `name` appears in errors, and its extension helps the probe.
pub fn load_reader(
    name: &str,
    reader: Box<dyn std::io::Read + Send + Sync>,
    options: &LoadOptions,
) -> Result<Signal> {
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    load_source(Source::Stream { name, reader, extension }, options)
}

fn load_source(source: Source<'_>, options: &LoadOptions) -> Result<Signal> {
    options.validate()?;
    let source_name = source.display_path();
    // The header rate is unknown until decoding, so bound frames by the
    // highest rate a reader accepts; the exact cut happens below.
    let end_seconds = options.offset_seconds
        + options.duration_seconds.unwrap_or(options.max_seconds).min(options.max_seconds);
    let max_frames = (end_seconds * 1_536_000.0).min(usize::MAX as f64 / 2.0) as usize;
    let decoded = decode(source, max_frames)?;
    let mut native = decoded.signal;
    let sr = f64::from(native.sample_rate);
    let start = ((options.offset_seconds * sr).round() as usize).min(native.len());
    let end = ((end_seconds * sr).round() as usize).clamp(start, native.len());
    if start > 0 || end < native.len() {
        native.samples.truncate(end);
        native.samples.drain(..start);
    }
    if native.samples.iter().any(|x| !x.is_finite()) {
        return Err(AudioError::Decode {
            path: source_name,
            reason: "the file holds NaN or infinite samples".into(),
        });
    }
    let mut signal = match options.sample_rate {
        Some(rate) => resample(&native, rate)?,
        None => native,
    };
    if let Some(seconds) = options.fixed_seconds {
        let n = (seconds * f64::from(signal.sample_rate)).round() as usize;
        fix_length(&mut signal.samples, n);
    }
    Ok(signal)
}
