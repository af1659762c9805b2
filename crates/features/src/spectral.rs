//! Spectral shape statistics per frame (`librosa.feature.spectral_*`), all
//! from a magnitude spectrogram `|STFT|` `[n_bins, frames]`.

use crate::db::{DbConfig, power_to_db};
use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;
use crate::stft::fft_frequencies;

/// Smallest positive normal `f32` (`librosa.util.tiny` of float32 input):
/// columns whose norm falls below it are left unnormalised.
pub(crate) const TINY_F32: f64 = f32::MIN_POSITIVE as f64;

fn column_sums(s: &Matrix) -> Vec<f64> {
    let mut sums = vec![0f64; s.cols];
    for r in 0..s.rows {
        for (acc, &x) in sums.iter_mut().zip(s.row(r)) {
            *acc += f64::from(x);
        }
    }
    sums
}

/// Weighted mean frequency of each frame (`spectral_centroid`), `[1, frames]`.
pub fn spectral_centroid(mag: &Matrix, sr: f64, n_fft: usize) -> Matrix {
    let freq = fft_frequencies(sr, n_fft);
    let sums = column_sums(mag);
    let mut acc = vec![0f64; mag.cols];
    for (r, f) in freq.iter().enumerate().take(mag.rows) {
        for (a, &x) in acc.iter_mut().zip(mag.row(r)) {
            *a += f * f64::from(x);
        }
    }
    let data = acc.iter().zip(&sums).map(|(a, &s)| (if s < TINY_F32 { *a } else { a / s }) as f32).collect();
    Matrix::from_vec(1, mag.cols, data)
}

/// `p`-th order spread around the centroid (`spectral_bandwidth`, `p = 2`
/// and `norm=True` by default), `[1, frames]`.
pub fn spectral_bandwidth(mag: &Matrix, centroid: &Matrix, sr: f64, n_fft: usize, p: f64) -> Matrix {
    let freq = fft_frequencies(sr, n_fft);
    let sums = column_sums(mag);
    let mut acc = vec![0f64; mag.cols];
    for (r, f) in freq.iter().enumerate().take(mag.rows) {
        for (t, (a, &x)) in acc.iter_mut().zip(mag.row(r)).enumerate() {
            let dev = (f - f64::from(centroid.data[t])).abs();
            let norm = if sums[t] < TINY_F32 { 1.0 } else { sums[t] };
            let dev_p = if p == 2.0 { dev * dev } else { dev.powf(p) };
            *a += f64::from(x) / norm * dev_p;
        }
    }
    Matrix::from_vec(
        1,
        mag.cols,
        acc.iter().map(|a| if p == 2.0 { a.sqrt() } else { a.powf(1.0 / p) } as f32).collect(),
    )
}

/// Frequency below which `roll_percent` of the energy lies (`spectral_rolloff`,
/// 0.85 by default), `[1, frames]`. Cumulative sums in `f32` as librosa.
pub fn spectral_rolloff(mag: &Matrix, sr: f64, n_fft: usize, roll_percent: f64) -> Matrix {
    let freq = fft_frequencies(sr, n_fft);
    let mut out = vec![0f32; mag.cols];
    let mut col = vec![0f32; mag.rows];
    let mut cum = vec![0f32; mag.rows];
    for (t, o) in out.iter_mut().enumerate() {
        for (r, c) in col.iter_mut().enumerate() {
            *c = mag.get(r, t);
        }
        let mut running = 0f32;
        for (c, &x) in cum.iter_mut().zip(&col) {
            running += x;
            *c = running;
        }
        let threshold = (f64::from(running) * roll_percent) as f32;
        let idx = cum.iter().position(|&c| c >= threshold).unwrap_or(0);
        *o = freq[idx] as f32;
    }
    Matrix::from_vec(1, mag.cols, out)
}

/// Geometric over arithmetic mean of the power spectrum (`spectral_flatness`,
/// `amin = 1e-10`, `power = 2`), `[1, frames]`.
pub fn spectral_flatness(mag: &Matrix, amin: f64) -> Matrix {
    let mut log_sum = vec![0f64; mag.cols];
    let mut sum = vec![0f64; mag.cols];
    for r in 0..mag.rows {
        for (t, &x) in mag.row(r).iter().enumerate() {
            let p = f64::from(x * x).max(amin);
            log_sum[t] += p.ln();
            sum[t] += p;
        }
    }
    let n = mag.rows as f64;
    let data = log_sum.iter().zip(&sum).map(|(l, s)| ((l / n).exp() / (s / n)) as f32).collect();
    Matrix::from_vec(1, mag.cols, data)
}

fn mean_f64(xs: &[f32]) -> f64 {
    xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64
}

/// Octave-band peak-to-valley contrast in dB (`spectral_contrast`: `fmin`
/// 200 Hz, 6 bands, quantile 0.02), `[n_bands + 1, frames]`.
pub fn spectral_contrast(
    mag: &Matrix,
    sr: f64,
    n_fft: usize,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
) -> Result<Matrix> {
    let freq = fft_frequencies(sr, n_fft);
    let mut octa = vec![0f64; n_bands + 2];
    for (k, o) in octa.iter_mut().enumerate().skip(1) {
        *o = fmin * 2f64.powi(k as i32 - 1);
    }
    if fmin <= 0.0 || octa[..n_bands + 1].iter().any(|&f| f >= 0.5 * sr) {
        return Err(FeatureError::InvalidParameter(
            "spectral contrast band exceeds Nyquist; reduce fmin or n_bands".into(),
        ));
    }
    let mut peak = Matrix::zeros(n_bands + 1, mag.cols);
    let mut valley = Matrix::zeros(n_bands + 1, mag.cols);
    let mut sorted = Vec::new();
    for k in 0..=n_bands {
        let (lo, hi) = (octa[k], octa[k + 1]);
        let mut band: Vec<bool> = freq.iter().map(|&f| f >= lo && f <= hi).collect();
        let first = band.iter().position(|&b| b).ok_or_else(|| {
            FeatureError::InvalidParameter(format!("spectral contrast band {k} holds no FFT bin"))
        })?;
        let last = band.iter().rposition(|&b| b).unwrap_or(first);
        if k > 0 && first > 0 {
            band[first - 1] = true;
        }
        if k == n_bands {
            band[last + 1..].iter_mut().for_each(|b| *b = true);
        }
        let mut rows: Vec<usize> = band.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect();
        let n_selected = rows.len();
        if k < n_bands {
            rows.pop();
        }
        let idx = ((quantile * n_selected as f64).round_ties_even() as usize).max(1);
        for t in 0..mag.cols {
            sorted.clear();
            sorted.extend(rows.iter().map(|&r| mag.get(r, t)));
            // Only the idx smallest and idx largest values matter: select, don't sort.
            let len = sorted.len();
            let idx = idx.min(len);
            sorted.select_nth_unstable_by(idx - 1, f32::total_cmp);
            let low = mean_f64(&sorted[..idx]);
            sorted.select_nth_unstable_by(len - idx, f32::total_cmp);
            let high = mean_f64(&sorted[len - idx..]);
            valley.row_mut(k)[t] = low as f32;
            peak.row_mut(k)[t] = high as f32;
        }
    }
    // librosa: power_to_db(peak) - power_to_db(valley), each with ref 1, top_db 80.
    let db = DbConfig::default();
    let (p, v) = (power_to_db(&peak, &db), power_to_db(&valley, &db));
    let data = p.data.iter().zip(&v.data).map(|(a, b)| a - b).collect();
    Ok(Matrix::from_vec(n_bands + 1, mag.cols, data))
}
