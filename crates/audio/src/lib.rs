//! Audio input for genreid: decode any supported file to a mono [`Signal`],
//! resample it, pad or cut it, and split it into segments.
//!
//! ```no_run
//! use genreid_audio::{LoadOptions, load};
//! let signal = load("song.mp3".as_ref(), &LoadOptions::default())?;
//! assert_eq!(signal.sample_rate, 22_050);
//! # Ok::<(), genreid_audio::AudioError>(())
//! ```
//!
//! Formats: WAV, AIFF/AIFF-C, CAF, FLAC, MP3, Ogg Vorbis, AAC and ALAC in
//! MP4/M4A, FLAC/Vorbis/PCM in Matroska through Symphonia; Opus (Ogg and
//! WebM/Matroska) through genreid's Symphonia decoder over `opus-pure`;
//! RF64/BW64 and Sun `.au` (GTZAN's original format) through readers of
//! their own. Every decode is gapless (encoder priming and padding
//! removed). Formats known but not decoded (WMA, APE, WavPack, ...) are an
//! [`AudioError::Unsupported`] that names them. Malformed input is an
//! [`AudioError`] that names the file and the cause, never a panic.

mod decode;
mod error;
pub mod limits;
mod load;
mod mp4;
mod opus;
mod resample;
mod rf64;
mod segment;
mod signal;
mod sniff;
mod stream;
pub mod sun_au;
mod warning;

pub use decode::{Decoded, Source, decode};
pub use error::{AudioError, Result};
pub use limits::{MAX_CHANNELS, MAX_PEAK, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
pub use load::{
    DEFAULT_SAMPLE_RATE, LoadOptions, Loaded, load, load_bytes, load_checked, load_reader,
    load_reader_checked,
};
pub use resample::{resample, resampled_len};
pub use segment::{Segment, segment_samples, segments};
pub use signal::{Level, Signal, downmix_into, fix_length};
pub use stream::{Block, Blocks, MonoStream};
pub use warning::Warning;

/// File extensions genreid treats as audio when walking folders: every
/// format it decodes, plus the ones it names but cannot decode (`wma`,
/// `ape`, `wv`, ...), so that a library's files of those are reported as
/// unsupported rather than silently passed over.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "rf64", "bw64", "flac", "mp3", "mp2", "ogg", "oga", "opus", "m4a", "m4b", "mp4", "aac",
    "alac", "aif", "aiff", "aifc", "caf", "mka", "mkv", "webm", "weba", "au", "snd", "wma", "asf", "ape",
    "wv", "mpc", "dsf", "dff", "tta",
];

/// Whether `path` has one of the [`AUDIO_EXTENSIONS`] (case-insensitive).
pub fn is_audio_path(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}
