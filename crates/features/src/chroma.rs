//! Chroma from the STFT (`librosa.feature.chroma_stft`) with librosa's tuning
//! estimate (`estimate_tuning` → `piptrack` → `pitch_tuning`).

use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;
use crate::mel::linspace;
use crate::spectral::TINY_F32;
use crate::stft::fft_frequencies;

/// Octaves above A0-ish reference (`librosa.hz_to_octs`) in `f64`.
fn hz_to_octs(f: f64, tuning: f64, bins_per_octave: usize) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / bins_per_octave as f64);
    (f / (a440 / 16.0)).log2()
}

/// The chroma filterbank `[n_chroma, 1 + n_fft/2]` (`librosa.filters.chroma`
/// with `ctroct=5`, `octwidth=2`, `norm=2`, `base_c=True`).
pub fn chroma_filterbank(sr: f64, n_fft: usize, n_chroma: usize, tuning: f64) -> Matrix {
    let nc = n_chroma as f64;
    // frequencies = linspace(0, sr, n_fft, endpoint=False)[1:]
    let step = sr / n_fft as f64;
    let mut frqbins: Vec<f64> =
        (1..n_fft).map(|i| nc * hz_to_octs(i as f64 * step, tuning, n_chroma)).collect();
    frqbins.insert(0, frqbins[0] - 1.5 * nc);
    let mut binwidth: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    binwidth.push(1.0);
    let half = (nc / 2.0).round_ties_even();
    let mut wts = vec![0f64; n_chroma * n_fft];
    for (f, (&fb, &bw)) in frqbins.iter().zip(&binwidth).enumerate() {
        for c in 0..n_chroma {
            let d = (fb - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
            wts[c * n_fft + f] = (-0.5 * (2.0 * d / bw).powi(2)).exp();
        }
    }
    // L2-normalise each column, then apply the octave-position Gaussian.
    for (f, fb) in frqbins.iter().enumerate() {
        let norm = (0..n_chroma).map(|c| wts[c * n_fft + f].powi(2)).sum::<f64>().sqrt();
        let oct = (-0.5 * ((fb / nc - 5.0) / 2.0).powi(2)).exp();
        for c in 0..n_chroma {
            let w = &mut wts[c * n_fft + f];
            if norm >= f64::MIN_POSITIVE {
                *w /= norm;
            }
            *w *= oct;
        }
    }
    // base_c: roll by -3 * (n_chroma / 12) rows so that row 0 is C.
    let shift = 3 * (n_chroma / 12);
    let bins = 1 + n_fft / 2;
    let mut out = Matrix::zeros(n_chroma, bins);
    for c in 0..n_chroma {
        let src = (c + shift) % n_chroma;
        for f in 0..bins {
            out.data[c * bins + f] = wts[src * n_fft + f] as f32;
        }
    }
    out
}

/// Peak frequencies and magnitudes per frame (`librosa.piptrack` with
/// `fmin=150`, `fmax=4000`, `threshold=0.1`), returned as the list of
/// `(pitch_hz, magnitude)` for every detected peak. Computed in `f32` as
/// librosa does, since the tuning histogram is sensitive to rounding.
pub fn piptrack(s: &Matrix, sr: f64, fmin: f64, fmax: f64, threshold: f32) -> Vec<(f32, f32)> {
    let n_fft = 2 * (s.rows - 1);
    let freq = fft_frequencies(sr, n_fft);
    let (fmin, fmax) = (fmin.max(0.0), fmax.min(sr / 2.0));
    let mut peaks = Vec::new();
    let mut col = vec![0f32; s.rows];
    let mut thresholded = vec![0f32; s.rows];
    for t in 0..s.cols {
        for (r, c) in col.iter_mut().enumerate() {
            *c = s.get(r, t).abs();
        }
        let ref_value = threshold * col.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for (d, &x) in thresholded.iter_mut().zip(&col) {
            *d = if x > ref_value { x } else { 0.0 };
        }
        let n = col.len();
        for i in 1..n {
            let f = freq[i];
            if !(fmin <= f && f < fmax) {
                continue;
            }
            let x = &thresholded;
            let is_max = if i + 1 < n { x[i] > x[i - 1] && x[i] >= x[i + 1] } else { x[i] > x[i - 1] };
            if !is_max {
                continue;
            }
            // Parabolic interpolation (zero at the edges) and np.gradient.
            let (shift, avg) = if i + 1 < n {
                let a = col[i + 1] + col[i - 1] - 2.0 * col[i];
                let b = (col[i + 1] - col[i - 1]) / 2.0;
                let shift = if b.abs() >= a.abs() { 0.0 } else { -b / a };
                (shift, (col[i + 1] - col[i - 1]) / 2.0)
            } else {
                (0.0, col[i] - col[i - 1])
            };
            // int64 index + float32 shift promotes to float64 in NumPy.
            let pitch = ((i as f64 + f64::from(shift)) * sr / n_fft as f64) as f32;
            let mag = col[i] + 0.5 * avg * shift;
            peaks.push((pitch, mag));
        }
    }
    peaks
}

/// Histogram-peak deviation from A440 in fractions of a bin
/// (`librosa.pitch_tuning`, resolution 0.01).
pub fn pitch_tuning(frequencies: &[f32], resolution: f64, bins_per_octave: usize) -> f64 {
    let residuals: Vec<f32> = frequencies
        .iter()
        .filter(|&&f| f > 0.0)
        .map(|&f| {
            // float32 arithmetic, as NumPy does on the float32 pitch array
            let octs = (f / (440.0f32 / 16.0)).log2();
            let mut r = (bins_per_octave as f32 * octs).rem_euclid(1.0);
            if r >= 0.5 {
                r -= 1.0;
            }
            r
        })
        .collect();
    if residuals.is_empty() {
        return 0.0;
    }
    let n_bins = (1.0 / resolution).ceil() as usize;
    let edges = linspace(-0.5, 0.5, n_bins + 1);
    let mut counts = vec![0usize; n_bins];
    for &r in &residuals {
        let r = f64::from(r);
        if r < edges[0] || r > edges[n_bins] {
            continue;
        }
        let mut i = (((r - edges[0]) / (edges[n_bins] - edges[0])) * n_bins as f64) as usize;
        i = i.min(n_bins - 1);
        if r < edges[i] && i > 0 {
            i -= 1;
        }
        if i + 1 < n_bins && r >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
    let best = counts.iter().enumerate().fold(0, |b, (i, &c)| if c > counts[b] { i } else { b });
    edges[best]
}

/// Tuning deviation of a power spectrogram (`librosa.estimate_tuning(S=...)`).
pub fn estimate_tuning(power: &Matrix, sr: f64, bins_per_octave: usize) -> f64 {
    let mut peaks = TuningPeaks::default();
    peaks.add(power, sr);
    peaks.tuning(bins_per_octave)
}

/// [`estimate_tuning`] over a track given frames at a time: keeps the
/// pitch and magnitude of every peak with a positive pitch (8 bytes each),
/// then decides on them all as `estimate_tuning` does on the whole.
#[derive(Debug, Clone, Default)]
pub struct TuningPeaks {
    pitches: Vec<f32>,
    magnitudes: Vec<f32>,
}

impl TuningPeaks {
    /// Adds the peaks of a spectrogram's frames (`piptrack` at `sr`).
    pub fn add(&mut self, spectrogram: &Matrix, sr: f64) {
        for (pitch, magnitude) in piptrack(spectrogram, sr, 150.0, 4000.0, 0.1) {
            if pitch > 0.0 {
                self.pitches.push(pitch);
                self.magnitudes.push(magnitude);
            }
        }
    }

    /// The tuning deviation, in fractions of a bin, of every peak added.
    pub fn tuning(&self, bins_per_octave: usize) -> f64 {
        let threshold = if self.magnitudes.is_empty() { 0.0 } else { median_f32(self.magnitudes.clone()) };
        let chosen: Vec<f32> = self
            .pitches
            .iter()
            .zip(&self.magnitudes)
            .filter(|&(_, &m)| m >= threshold)
            .map(|(&p, _)| p)
            .collect();
        pitch_tuning(&chosen, 0.01, bins_per_octave)
    }
}

/// NumPy's median of `f32` values (mean of the middle two in `f32`).
pub(crate) fn median_f32(mut v: Vec<f32>) -> f32 {
    let n = v.len();
    let mid = n / 2;
    let (_, &mut upper, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (lower + upper) / 2.0
    }
}

/// Chroma energy per pitch class, each frame scaled to max 1
/// (`chroma_stft`), `[n_chroma, frames]`, from a power spectrogram.
/// `tuning = None` estimates it as librosa does.
pub fn chroma_stft(power: &Matrix, sr: f64, n_chroma: usize, tuning: Option<f64>) -> Result<(Matrix, f64)> {
    if n_chroma == 0 {
        return Err(FeatureError::InvalidParameter("n_chroma must be positive".into()));
    }
    let tuning = tuning.unwrap_or_else(|| estimate_tuning(power, sr, n_chroma));
    let n_fft = 2 * (power.rows - 1);
    let fb = chroma_filterbank(sr, n_fft, n_chroma, tuning);
    let mut out = Matrix::zeros(n_chroma, power.cols);
    let mut acc = vec![0f64; power.cols];
    for c in 0..n_chroma {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (f, &w) in fb.row(c).iter().enumerate() {
            let w = f64::from(w);
            for (a, &s) in acc.iter_mut().zip(power.row(f)) {
                *a += w * f64::from(s);
            }
        }
        for (o, a) in out.row_mut(c).iter_mut().zip(&acc) {
            *o = *a as f32;
        }
    }
    for t in 0..out.cols {
        let norm = (0..n_chroma).map(|c| out.get(c, t).abs()).fold(0f32, f32::max);
        if f64::from(norm) >= TINY_F32 {
            for c in 0..n_chroma {
                out.data[c * out.cols + t] /= norm;
            }
        }
    }
    Ok((out, tuning))
}
