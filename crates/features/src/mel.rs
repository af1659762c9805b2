//! Mel scale and mel filterbanks, equal to `librosa.filters.mel` (Slaney or
//! HTK scale, Slaney area normalisation), stored sparsely: each band keeps
//! only its non-zero bins, so applying it costs about two multiplies per
//! FFT bin instead of `n_mels`.

use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;
use crate::stft::fft_frequencies;

/// Hz to mel (`librosa.hz_to_mel`): Slaney's linear-then-log scale, or HTK's
/// `2595 log10(1 + f/700)`.
pub fn hz_to_mel(f: f64, htk: bool) -> f64 {
    if htk {
        return 2595.0 * (1.0 + f / 700.0).log10();
    }
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if f >= min_log_hz { min_log_mel + (f / min_log_hz).ln() / logstep } else { f / f_sp }
}

/// Mel to Hz (`librosa.mel_to_hz`), the inverse of [`hz_to_mel`].
pub fn mel_to_hz(m: f64, htk: bool) -> f64 {
    if htk {
        return 700.0 * (10f64.powf(m / 2595.0) - 1.0);
    }
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if m >= min_log_mel { min_log_hz * (logstep * (m - min_log_mel)).exp() } else { f_sp * m }
}

/// `n` frequencies evenly spaced on the mel scale from `fmin` to `fmax`
/// (`librosa.mel_frequencies`).
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, htk: bool) -> Vec<f64> {
    let (lo, hi) = (hz_to_mel(fmin, htk), hz_to_mel(fmax, htk));
    linspace(lo, hi, n).into_iter().map(|m| mel_to_hz(m, htk)).collect()
}

/// NumPy's `linspace(start, stop, n)` including its rounding.
pub(crate) fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}

/// Mel filterbank settings (librosa's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelConfig {
    /// Sample rate of the audio.
    pub sr: f64,
    /// FFT length the filterbank applies to.
    pub n_fft: usize,
    /// Number of mel bands (default 128).
    pub n_mels: usize,
    /// Lowest frequency (Hz, default 0).
    pub fmin: f64,
    /// Highest frequency (Hz, default `sr / 2`).
    pub fmax: Option<f64>,
    /// HTK mel scale instead of Slaney's.
    pub htk: bool,
    /// Slaney area normalisation (librosa's `norm="slaney"`, the default).
    pub slaney_norm: bool,
}

impl MelConfig {
    /// librosa's defaults for `sr` and `n_fft`.
    pub fn new(sr: f64, n_fft: usize, n_mels: usize) -> Self {
        Self { sr, n_fft, n_mels, fmin: 0.0, fmax: None, htk: false, slaney_norm: true }
    }
}

/// One mel band: its weights over the FFT bins `start..start + weights.len()`.
#[derive(Debug, Clone, PartialEq)]
struct Band {
    start: usize,
    weights: Vec<f32>,
}

/// A mel filterbank, applied to power (or magnitude) spectrograms.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilterbank {
    n_bins: usize,
    bands: Vec<Band>,
}

impl MelFilterbank {
    /// Builds the filterbank exactly as `librosa.filters.mel` does (weights in
    /// `f64`, stored as `f32`).
    pub fn new(config: &MelConfig) -> Result<Self> {
        let fmax = config.fmax.unwrap_or(config.sr / 2.0);
        if config.n_mels == 0 || config.n_fft < 2 || !(config.fmin >= 0.0 && config.fmin < fmax) {
            return Err(FeatureError::InvalidParameter(format!(
                "mel filterbank needs n_mels > 0 and 0 <= fmin < fmax; got n_mels={}, fmin={}, fmax={fmax}",
                config.n_mels, config.fmin
            )));
        }
        let fftfreqs = fft_frequencies(config.sr, config.n_fft);
        let mel_f = mel_frequencies(config.n_mels + 2, config.fmin, fmax, config.htk);
        let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();
        let bands = (0..config.n_mels)
            .map(|i| {
                let enorm = if config.slaney_norm { 2.0 / (mel_f[i + 2] - mel_f[i]) } else { 1.0 };
                let full: Vec<f32> = fftfreqs
                    .iter()
                    .map(|&f| {
                        let lower = -(mel_f[i] - f) / fdiff[i];
                        let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
                        // librosa stores max(0, min(lower, upper)) in a float32
                        // array, then scales it in place by enorm.
                        let w = 0f64.max(lower.min(upper)) as f32;
                        (f64::from(w) * enorm) as f32
                    })
                    .collect();
                let first = full.iter().position(|&w| w != 0.0);
                match first {
                    None => Band { start: 0, weights: Vec::new() },
                    Some(s) => {
                        let e = full.iter().rposition(|&w| w != 0.0).map_or(s, |e| e + 1);
                        Band { start: s, weights: full[s..e].to_vec() }
                    }
                }
            })
            .collect();
        Ok(Self { n_bins: fftfreqs.len(), bands })
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.bands.len()
    }

    /// The dense `[n_mels, n_bins]` weight matrix, as librosa returns it.
    pub fn to_dense(&self) -> Matrix {
        let mut m = Matrix::zeros(self.bands.len(), self.n_bins);
        for (i, b) in self.bands.iter().enumerate() {
            m.row_mut(i)[b.start..b.start + b.weights.len()].copy_from_slice(&b.weights);
        }
        m
    }

    /// Applies the filterbank to a `[n_bins, n_frames]` spectrogram, giving
    /// `[n_mels, n_frames]`. Sums are accumulated in `f64`.
    pub fn apply(&self, spec: &Matrix) -> Result<Matrix> {
        if spec.rows != self.n_bins {
            return Err(FeatureError::InvalidParameter(format!(
                "spectrogram has {} bins, mel filterbank expects {}",
                spec.rows, self.n_bins
            )));
        }
        let frames = spec.cols;
        let mut out = Matrix::zeros(self.bands.len(), frames);
        let mut acc = vec![0f64; frames];
        for (i, band) in self.bands.iter().enumerate() {
            acc.iter_mut().for_each(|a| *a = 0.0);
            for (k, &w) in band.weights.iter().enumerate() {
                let w = f64::from(w);
                for (a, &s) in acc.iter_mut().zip(spec.row(band.start + k)) {
                    *a += w * f64::from(s);
                }
            }
            for (o, a) in out.row_mut(i).iter_mut().zip(&acc) {
                *o = *a as f32;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_1khz() {
        assert!((hz_to_mel(1000.0, false) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0 / 3.0, false) - 1.0).abs() < 1e-12);
        for f in [0.0, 440.0, 1000.0, 4000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(f, false), false) - f).abs() < 1e-9);
            assert!((mel_to_hz(hz_to_mel(f, true), true) - f).abs() < 1e-9);
        }
    }
}
