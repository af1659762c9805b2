//! `load`: the one call that turns a file into the signal features expect,
//! like `librosa.load` (decode → mono → resample → offset/duration).

use std::path::Path;

use crate::decode::{Source, decode};
use crate::error::{AudioError, Result};
use crate::limits::check_samples;
use crate::resample::resample;
use crate::signal::{Signal, fix_length};
use crate::warning::Warning;

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
        match self.sample_rate {
            Some(rate) => crate::limits::check_target_rate(rate),
            None => Ok(()),
        }
    }
}

/// A loaded signal with what the decode noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The signal.
    pub signal: Signal,
    /// Truncation, damage, a cut at [`LoadOptions::max_seconds`], samples
    /// above full scale; empty for a clean file.
    pub warnings: Vec<Warning>,
}

/// Loads a file as a mono [`Signal`] following `options`.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Signal> {
    load_checked(path, options).map(|l| l.signal)
}

/// [`load`], with the warnings (truncation, damage, a cut at the limit).
pub fn load_checked(path: &Path, options: &LoadOptions) -> Result<Loaded> {
    load_source(Source::File(path), options)
}

/// Loads encoded bytes (an upload, say) as a mono [`Signal`].
pub fn load_bytes(name: &str, bytes: Vec<u8>, options: &LoadOptions) -> Result<Signal> {
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    load_source(Source::Bytes { name, bytes, extension }, options).map(|l| l.signal)
}

/// Loads audio from a reader that cannot seek (an upload as it arrives),
/// decoding while reading: memory holds the decoded signal, not the encoded
/// bytes. `name` appears in errors, and its extension helps the probe.
pub fn load_reader(
    name: &str,
    reader: Box<dyn std::io::Read + Send + Sync>,
    options: &LoadOptions,
) -> Result<Signal> {
    load_reader_checked(name, reader, options).map(|l| l.signal)
}

/// [`load_reader`], with the warnings.
pub fn load_reader_checked(
    name: &str,
    reader: Box<dyn std::io::Read + Send + Sync>,
    options: &LoadOptions,
) -> Result<Loaded> {
    let extension = Path::new(name).extension().and_then(|e| e.to_str());
    load_source(Source::Stream { name, reader, extension }, options)
}

fn load_source(source: Source<'_>, options: &LoadOptions) -> Result<Loaded> {
    options.validate()?;
    let source_name = source.display_path();
    let wanted = options.duration_seconds.unwrap_or(f64::INFINITY);
    let end_seconds = options.offset_seconds + wanted.min(options.max_seconds);
    let decoded = decode(source, end_seconds)?;
    let mut warnings = decoded.warnings;
    // A cut the caller asked for (`duration_seconds`) is no news.
    if wanted <= options.max_seconds {
        warnings.retain(|w| !matches!(w, Warning::Cut { .. }));
    }
    let mut native = decoded.signal;
    let sr = f64::from(native.sample_rate);
    let start = ((options.offset_seconds * sr).round() as usize).min(native.len());
    let end = ((end_seconds * sr).round() as usize).clamp(start, native.len());
    if start > 0 || end < native.len() {
        native.samples.truncate(end);
        native.samples.drain(..start);
    }
    let peak = check_samples(&source_name, &native.samples)?;
    if peak > crate::limits::WARN_PEAK {
        warnings.push(Warning::AboveFullScale { peak });
    }
    let mut signal = match options.sample_rate {
        Some(rate) => resample(&native, rate)?,
        None => native,
    };
    if let Some(seconds) = options.fixed_seconds {
        let n = (seconds * f64::from(signal.sample_rate)).round() as usize;
        fix_length(&mut signal.samples, n);
    }
    Ok(Loaded { signal, warnings })
}
