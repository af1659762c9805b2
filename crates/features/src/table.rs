//! Feature tables: one row of summary statistics per clip.
//!
//! [`gtzan57`] reproduces the 57 features of the Kaggle GTZAN
//! `features_30_sec.csv` (mean and variance over frames of each librosa
//! feature, plus tempo), computing the STFT once and sharing it.

use crate::chroma::chroma_stft;
use crate::cqt::{CqtConfig, chroma_cens_from_cqt, chroma_from_cqt, cqt_magnitude, tonnetz_from_chroma};
use crate::db::{DbConfig, power_to_db};
use crate::error::Result;
use crate::hpss::hpss_spectrogram_with_magnitude;
use crate::hpss::istft;
use crate::matrix::Matrix;
use crate::mel::{MelConfig, MelFilterbank};
use crate::mfcc::mfcc_from_db;
use crate::rhythm::{Aggregate, beat_track_onsets, onset_strength_from_db};
use crate::spectral::{spectral_bandwidth, spectral_centroid, spectral_contrast, spectral_rolloff};
use crate::stft::{Stft, StftConfig, magnitude};
use crate::temporal::{rms, rms_from_magnitude, zero_crossing_rate};

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
    let mag = Matrix::from_vec(stft.rows, stft.cols, stft.data.iter().map(|&z| magnitude(z)).collect());
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

    let (h, p) = hpss_spectrogram_with_magnitude(&stft, &mag.data, 31);
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

/// The 11 feature groups of FMA's `features.csv` with their widths, in the
/// file's (alphabetical) order.
pub const FMA_GROUPS: [(&str, usize); 11] = [
    ("chroma_cens", 12),
    ("chroma_cqt", 12),
    ("chroma_stft", 12),
    ("mfcc", 20),
    ("rmse", 1),
    ("spectral_bandwidth", 1),
    ("spectral_centroid", 1),
    ("spectral_contrast", 7),
    ("spectral_rolloff", 1),
    ("tonnetz", 6),
    ("zcr", 1),
];

/// The 7 statistics of each FMA feature row, in the file's order.
pub const FMA_STATISTICS: [&str; 7] = ["kurtosis", "max", "mean", "median", "min", "skew", "std"];

/// The 518 FMA column names, flattened from FMA's three header rows
/// (feature, statistic, number) as `feature_statistic_NN`, in file order.
pub fn fma518_columns() -> Vec<String> {
    let mut names = Vec::with_capacity(518);
    for (group, width) in FMA_GROUPS {
        for stat in FMA_STATISTICS {
            for k in 1..=width {
                names.push(format!("{group}_{stat}_{k:02}"));
            }
        }
    }
    names
}

/// The seven statistics of one row of values, in [`FMA_STATISTICS`] order:
/// excess kurtosis and skewness as `scipy.stats` computes them (biased; NaN
/// for a constant row), max, mean, median, min, population std.
pub fn fma_statistics(values: &[f32]) -> [f64; 7] {
    if values.is_empty() {
        return [f64::NAN; 7];
    }
    let n = values.len() as f64;
    let (mean, var) = mean_var(values);
    let (mut m3, mut m4) = (0.0, 0.0);
    for &x in values {
        let d = f64::from(x) - mean;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    let (m3, m4) = (m3 / n, m4 / n);
    let constant = var <= (f64::EPSILON * mean).powi(2);
    let skew = if constant { f64::NAN } else { m3 / var.powf(1.5) };
    let kurtosis = if constant { f64::NAN } else { m4 / (var * var) - 3.0 };
    let mut sorted: Vec<f32> = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        f64::from(sorted[mid])
    } else {
        (f64::from(sorted[mid - 1]) + f64::from(sorted[mid])) / 2.0
    };
    let (min, max) = (f64::from(sorted[0]), f64::from(sorted[sorted.len() - 1]));
    [kurtosis, max, mean, median, min, skew, var.sqrt()]
}

/// FMA's 518 features of `y` at its own rate `sr` (FMA computes them at the
/// file's native rate), in [`fma518_columns`] order. Follows FMA's
/// `features.py`: one 84-bin CQT (12 per octave, tuning estimated) feeds
/// chroma_cqt, chroma_cens and tonnetz (with librosa's default 36 bins per
/// octave for the folding, as FMA did); one magnitude STFT feeds the rest.
/// FMA called the STFT-based spectral features and chroma_stft without the
/// sample rate, so librosa assumed 22,050 Hz there; we do the same, or the
/// table would not be FMA's.
pub fn fma518(y: &[f32], sr: f64) -> Result<Vec<f64>> {
    let groups = fma518_frames(y, sr, None)?;
    Ok(fma518_row(groups.iter().flat_map(|m| (0..m.rows).map(move |r| m.row(r)))))
}

/// The rate FMA's STFT features assumed (librosa's default).
pub(crate) const FMA_ASSUMED_SR: f64 = 22_050.0;

/// What FMA-518 takes from the whole track: the CQT's tuning, chroma_stft's
/// tuning and the mel spectrogram's dB maximum. `None` estimates them from
/// `y` itself, as a whole-track call does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fma518Globals {
    /// Tuning of the 84-bin CQT (`estimate_tuning` on the magnitude STFT at `sr`).
    pub cqt_tuning: f64,
    /// Tuning of chroma_stft (on the power STFT at the assumed 22,050 Hz).
    pub chroma_tuning: f64,
    /// Largest value of the mel spectrogram in dB (referred to 1.0).
    pub mel_max_db: f32,
}

/// FMA's 74 per-frame features of `y`, as the 11 matrices of
/// [`FMA_GROUPS`] in order.
pub(crate) fn fma518_frames(y: &[f32], sr: f64, globals: Option<&Fma518Globals>) -> Result<Vec<Matrix>> {
    let cqt_config = CqtConfig {
        n_bins: 84,
        bins_per_octave: 12,
        tuning: globals.map(|g| g.cqt_tuning),
        ..CqtConfig::default()
    };
    let cqt = cqt_magnitude(y, sr, &cqt_config)?;
    let chroma_cqt = chroma_from_cqt(&cqt, 36);
    let chroma_cens = chroma_cens_from_cqt(&cqt, 36);
    let tonnetz = tonnetz_from_chroma(&chroma_cens);
    drop(cqt);

    let mag = Stft::new(StftConfig::new(2048, 512)).spectrogram(y, 1.0)?;
    let power = mag.clone().map(|x| x * x);
    let (chroma_stft, _) = chroma_stft(&power, FMA_ASSUMED_SR, 12, globals.map(|g| g.chroma_tuning))?;
    let rmse = rms_from_magnitude(&mag);
    let centroid = spectral_centroid(&mag, FMA_ASSUMED_SR, 2048);
    let bandwidth = spectral_bandwidth(&mag, &centroid, FMA_ASSUMED_SR, 2048, 2.0);
    let contrast = spectral_contrast(&mag, FMA_ASSUMED_SR, 2048, 200.0, 6, 0.02)?;
    let rolloff = spectral_rolloff(&mag, FMA_ASSUMED_SR, 2048, 0.85);
    let mel = MelFilterbank::new(&MelConfig::new(sr, 2048, 128))?.apply(&power)?;
    let db = match globals {
        None => power_to_db(&mel, &DbConfig::default()),
        Some(g) => {
            let mut db = power_to_db(&mel, &DbConfig { top_db: None, ..DbConfig::default() });
            let floor = g.mel_max_db - DbConfig::default().top_db.unwrap_or(80.0);
            db.data.iter_mut().for_each(|x| *x = x.max(floor));
            db
        }
    };
    let mfcc = mfcc_from_db(&db, 20)?;
    let zcr = zero_crossing_rate(y, 2048, 512);
    Ok(vec![
        chroma_cens,
        chroma_cqt,
        chroma_stft,
        mfcc,
        rmse,
        bandwidth,
        centroid,
        contrast,
        rolloff,
        tonnetz,
        zcr,
    ])
}

/// The 518 statistics of FMA's 74 per-frame rows, given in group order.
pub(crate) fn fma518_row<'a>(rows: impl IntoIterator<Item = &'a [f32]>) -> Vec<f64> {
    let stats: Vec<[f64; 7]> = rows.into_iter().map(fma_statistics).collect();
    let mut row = Vec::with_capacity(518);
    let mut at = 0;
    for (_, width) in FMA_GROUPS {
        for s in 0..7 {
            row.extend(stats[at..at + width].iter().map(|st| st[s]));
        }
        at += width;
    }
    row
}
