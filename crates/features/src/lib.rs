//! librosa-equal audio features for genreid.
//!
//! ```
//! use genreid_features::{DbConfig, MelConfig, MelFilterbank, Stft, StftConfig, power_to_db};
//! let y: Vec<f32> = (0..22_050).map(|i| (i as f32 * 0.05).sin()).collect();
//! let power = Stft::new(StftConfig::new(2048, 512)).spectrogram(&y, 2.0)?;
//! let mel = MelFilterbank::new(&MelConfig::new(22_050.0, 2048, 128))?.apply(&power)?;
//! let db = power_to_db(&mel, &DbConfig::ref_max());
//! assert_eq!(db.shape(), [128, 44]);
//! # Ok::<(), genreid_features::FeatureError>(())
//! ```
//!
//! Every function follows librosa 0.11's algorithm, defaults and layout
//! (`[n_features, n_frames]`); the tests compare each against librosa's own
//! output in `shared/fixtures/librosa`.

pub mod augment;
pub mod chroma;
pub mod cqt;
pub mod db;
mod error;
mod fft;
pub mod hpss;
pub mod input;
pub mod matrix;
pub mod mel;
pub mod mfcc;
pub mod musicnn;
pub mod rhythm;
pub mod spectral;
pub mod stft;
pub mod table;
pub mod table_blocks;
pub mod temporal;
pub mod timing;
pub mod window;

pub use augment::{Augmentation, pitch_shift, time_stretch};
pub use chroma::{chroma_stft, estimate_tuning};
pub use cqt::{CqtConfig, chroma_cqt, cqt_magnitude, tonnetz};
pub use db::{DbConfig, DbRef, amplitude_to_db, min_max_normalize, power_to_db};
pub use error::{FeatureError, Result};
pub use hpss::{hpss, istft, istft_slice};
pub use input::{InputKind, SpectrogramInput};
pub use matrix::Matrix;
pub use mel::{MelConfig, MelFilterbank};
pub use mfcc::mfcc_from_db;
pub use musicnn::{MUSICNN_SAMPLE_RATE, musicnn_logmel, musicnn_patches};
pub use rhythm::{Aggregate, beat_track, onset_strength, tempo};
pub use spectral::{
    spectral_bandwidth, spectral_centroid, spectral_contrast, spectral_flatness, spectral_rolloff,
};
pub use stft::{Stft, StftConfig, fft_frequencies, magnitude_spectrogram, power_spectrogram};
pub use table::{GTZAN57_COLUMNS, fma518, fma518_columns, gtzan57};
pub use temporal::{rms, zero_crossing_rate};

/// Mel spectrogram of `y` (`librosa.feature.melspectrogram` with power 2).
pub fn melspectrogram(y: &[f32], sr: f64, stft: StftConfig, n_mels: usize) -> Result<Matrix> {
    let power = Stft::new(stft).spectrogram(y, 2.0)?;
    MelFilterbank::new(&MelConfig::new(sr, stft.n_fft, n_mels))?.apply(&power)
}

/// MFCCs of `y` (`librosa.feature.mfcc`: 128 mel bands, n_fft 2048, hop 512,
/// dB with ref 1 and top_db 80, orthonormal DCT-II).
pub fn mfcc(y: &[f32], sr: f64, n_mfcc: usize) -> Result<Matrix> {
    let mel = melspectrogram(y, sr, StftConfig::new(2048, 512), 128)?;
    mfcc_from_db(&power_to_db(&mel, &DbConfig::default()), n_mfcc)
}
