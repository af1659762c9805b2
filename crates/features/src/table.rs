//! Feature tables: one row of summary statistics per clip.
//!
//! [`gtzan57`] reproduces the 57 features of the Kaggle GTZAN
//! `features_30_sec.csv` (mean and variance over frames of each librosa
//! feature, plus tempo), computing the STFT once and sharing it.

use crate::chroma::chroma_stft;
use crate::db::{DbConfig, power_to_db};
use crate::error::Result;
use crate::hpss::hpss_spectrogram;
use crate::hpss::istft;
use crate::matrix::Matrix;
use crate::mel::{MelConfig, MelFilterbank};
use crate::mfcc::mfcc_from_db;
use crate::rhythm::{Aggregate, beat_track_onsets, onset_strength_from_db};
use crate::spectral::{spectral_bandwidth, spectral_centroid, spectral_rolloff};
use crate::stft::{Stft, StftConfig};
use crate::temporal::{rms, zero_crossing_rate};

/// The 57 feature column names of `features_30_sec.csv`, in order (the
/// table adds `filename` and `length` before and `label` after).
pub const GTZAN57_COLUMNS: [&str; 57] = [
    "chroma_stft_mean",
    "chroma_stft_var",
    "rms_mean",
    "rms_var",
    "spectral_centroid_mean",
    "spectral_centroid_var",
    "spectral_bandwidth_mean",
    "spectral_bandwidth_var",
    "rolloff_mean",
    "rolloff_var",
    "zero_crossing_rate_mean",
    "zero_crossing_rate_var",
    "harmony_mean",
    "harmony_var",
    "perceptr_mean",
    "perceptr_var",
    "tempo",
    "mfcc1_mean",
    "mfcc1_var",
    "mfcc2_mean",
    "mfcc2_var",
    "mfcc3_mean",
    "mfcc3_var",
    "mfcc4_mean",
    "mfcc4_var",
    "mfcc5_mean",
    "mfcc5_var",
    "mfcc6_mean",
    "mfcc6_var",
    "mfcc7_mean",
    "mfcc7_var",
    "mfcc8_mean",
    "mfcc8_var",
    "mfcc9_mean",
    "mfcc9_var",
    "mfcc10_mean",
    "mfcc10_var",
    "mfcc11_mean",
    "mfcc11_var",
    "mfcc12_mean",
    "mfcc12_var",
    "mfcc13_mean",
    "mfcc13_var",
    "mfcc14_mean",
    "mfcc14_var",
    "mfcc15_mean",
    "mfcc15_var",
    "mfcc16_mean",
    "mfcc16_var",
    "mfcc17_mean",
    "mfcc17_var",
    "mfcc18_mean",
    "mfcc18_var",
    "mfcc19_mean",
    "mfcc19_var",
    "mfcc20_mean",
    "mfcc20_var",
];

/// Mean and population variance (ddof 0) in `f64` of all values.
pub fn mean_var(values: &[f32]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = values.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

fn push_stats(row: &mut Vec<f64>, values: &[f32]) {
    let (m, v) = mean_var(values);
    row.push(m);
    row.push(v);
}

/// The 57 GTZAN features of `y` at sample rate `sr`, in [`GTZAN57_COLUMNS`] order.
pub fn gtzan57(y: &[f32], sr: f64) -> Result<Vec<f64>> {
    let config = StftConfig::new(2048, 512);
    let stft = Stft::new(config).complex(y)?;
    let mag = Matrix::from_vec(
        stft.rows,
        stft.cols,
        stft.data.iter().map(|z| (f64::from(z.re).powi(2) + f64::from(z.im).powi(2)).sqrt() as f32).collect(),
    );
    let power = mag.clone().map(|x| x * x);
    let mut row = Vec::with_capacity(57);

    let (chroma, _) = chroma_stft(&power, sr, 12, None)?;
    push_stats(&mut row, &chroma.data);
    push_stats(&mut row, &rms(y, 2048, 512).data);
    let centroid = spectral_centroid(&mag, sr, 2048);
    push_stats(&mut row, &centroid.data);
    push_stats(&mut row, &spectral_bandwidth(&mag, &centroid, sr, 2048, 2.0).data);
    push_stats(&mut row, &spectral_rolloff(&mag, sr, 2048, 0.85).data);
    push_stats(&mut row, &zero_crossing_rate(y, 2048, 512).data);

    let (h, p) = hpss_spectrogram(&stft, 31);
    push_stats(&mut row, &istft(&h, config, y.len()));
    push_stats(&mut row, &istft(&p, config, y.len()));

    let mel = MelFilterbank::new(&MelConfig::new(sr, 2048, 128))?.apply(&power)?;
    let mel_db = power_to_db(&mel, &DbConfig::default());
    let onsets = onset_strength_from_db(&mel_db, 2048, 512, Aggregate::Median);
    row.push(beat_track_onsets(&onsets, sr, 512).0);

    let mfcc = mfcc_from_db(&mel_db, 20)?;
    for k in 0..20 {
        push_stats(&mut row, mfcc.row(k));
    }
    Ok(row)
}
