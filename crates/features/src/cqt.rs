//! Constant-Q transform and the features built on it (`librosa.cqt`,
//! `chroma_cqt`, `chroma_cens`, `tonnetz`), following librosa's recursive
//! algorithm: one octave of Hann-windowed complex wavelets is applied in the
//! frequency domain, then the signal is halved in rate for the next octave.

use genreid_audio::{Signal, resample};
use realfft::num_complex::Complex;

use crate::chroma::estimate_tuning;
use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;
use crate::spectral::TINY_F32;

/// Frequency of C1 (`librosa.note_to_hz("C1")`), the default lowest bin.
pub const C1_HZ: f64 = 32.703_195_662_574_83;

/// Effective bandwidth of the Hann window in FFT bins (librosa's table).
const HANN_BANDWIDTH: f64 = 1.500_183_105_468_75;

/// Settings of a constant-Q transform (librosa's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CqtConfig {
    /// Samples between frames at the input rate (512).
    pub hop_length: usize,
    /// Lowest bin frequency before tuning (C1).
    pub fmin: f64,
    /// Number of bins (84).
    pub n_bins: usize,
    /// Bins per octave (12).
    pub bins_per_octave: usize,
    /// Tuning in fractions of a bin; `None` estimates it from the audio.
    pub tuning: Option<f64>,
}

impl Default for CqtConfig {
    fn default() -> Self {
        Self { hop_length: 512, fmin: C1_HZ, n_bins: 84, bins_per_octave: 12, tuning: Some(0.0) }
    }
}

/// One octave's filters in the frequency domain, kept sparse: for each
/// filter, its non-negligible `(bin, weight)` pairs.
struct OctaveBasis {
    n_fft: usize,
    filters: Vec<Vec<(usize, Complex<f64>)>>,
}

/// Relative bandwidth of each bin from its neighbours' spacing
/// (`filters._relative_bandwidth`; one bin uses the equal-tempered value).
fn relative_bandwidth(freqs: &[f64], bins_per_octave: usize) -> Vec<f64> {
    let n = freqs.len();
    let from_bpo = |bpo: f64| {
        let p = 2f64.powf(2.0 / bpo);
        (p - 1.0) / (p + 1.0)
    };
    if n == 1 {
        return vec![from_bpo(bins_per_octave as f64)];
    }
    let logf: Vec<f64> = freqs.iter().map(|f| f.log2()).collect();
    (0..n)
        .map(|i| {
            let bpo = if i == 0 {
                1.0 / (logf[1] - logf[0])
            } else if i == n - 1 {
                1.0 / (logf[n - 1] - logf[n - 2])
            } else {
                2.0 / (logf[i + 1] - logf[i - 1])
            };
            from_bpo(bpo)
        })
        .collect()
}

/// Wavelet lengths in samples at rate `sr` (`filters.wavelet_lengths`, gamma 0).
fn wavelet_lengths(freqs: &[f64], alpha: &[f64], sr: f64) -> Vec<f64> {
    freqs.iter().zip(alpha).map(|(f, a)| (1.0 / a) * sr / f).collect()
}

/// Builds the frequency-domain basis of one octave (`__vqt_filter_fft`).
fn octave_basis(freqs: &[f64], alpha: &[f64], sr: f64, scale: f64) -> OctaveBasis {
    let lengths = wavelet_lengths(freqs, alpha, sr);
    let max_len = lengths.iter().copied().fold(0.0, f64::max);
    let n_fft = 2f64.powf(max_len.log2().ceil()) as usize;
    let fft = crate::fft::complex_forward(n_fft);
    let filters = freqs
        .iter()
        .zip(&lengths)
        .map(|(&freq, &ilen)| {
            // np.arange(-ilen // 2, ilen // 2): float floor division.
            let start = (-ilen / 2.0).floor();
            let stop = (ilen / 2.0).floor();
            let len = (stop - start).ceil().max(0.0) as usize;
            let window = crate::window::hann(len);
            let mut sig: Vec<Complex<f64>> = (0..len)
                .map(|i| {
                    let phase = (start + i as f64) * 2.0 * std::f64::consts::PI * freq / sr;
                    Complex::new(phase.cos(), phase.sin()) * window[i]
                })
                .collect();
            let l1: f64 = sig.iter().map(|z| z.norm()).sum();
            if l1 > 0.0 {
                sig.iter_mut().for_each(|z| *z /= l1);
            }
            // pad_center into n_fft, scale by length / n_fft, FFT.
            let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
            let lpad = (n_fft - len) / 2;
            for (i, z) in sig.iter().enumerate() {
                buf[lpad + i] = z * (ilen / n_fft as f64);
            }
            fft.process(&mut buf);
            buf.truncate(n_fft / 2 + 1);
            sparsify(&buf, 0.01).into_iter().map(|(k, z)| (k, z * scale)).collect()
        })
        .collect();
    OctaveBasis { n_fft, filters }
}

/// Drops the smallest-magnitude entries holding `quantile` of the row's
/// total magnitude (`util.sparsify_rows`).
fn sparsify(row: &[Complex<f64>], quantile: f64) -> Vec<(usize, Complex<f64>)> {
    let mags: Vec<f64> = row.iter().map(|z| z.norm()).collect();
    let norm: f64 = mags.iter().sum();
    let mut sorted = mags.clone();
    sorted.sort_by(f64::total_cmp);
    let mut cum = 0.0;
    let mut idx = 0;
    for (i, m) in sorted.iter().enumerate() {
        cum += m / norm;
        if cum >= quantile {
            idx = i;
            break;
        }
    }
    let threshold = sorted[idx];
    row.iter().enumerate().filter(|(i, _)| mags[*i] >= threshold).map(|(i, z)| (i, *z)).collect()
}

/// Applies one octave's basis to `y` (a rectangular-window STFT, centred with
/// zero padding, then the sparse basis), giving the complex response of each
/// filter, frame by frame: `frames` rows of `filters` values.
fn octave_response(y: &[f32], hop: usize, basis: &OctaveBasis) -> Vec<Vec<Complex<f64>>> {
    let n_fft = basis.n_fft;
    let pad = n_fft / 2;
    let n = y.len();
    let frames = if n + 2 * pad < n_fft { 0 } else { 1 + (n + 2 * pad - n_fft) / hop };
    let fft = crate::fft::real_forward(n_fft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut out = Vec::with_capacity(frames);
    for t in 0..frames {
        let start = (t * hop) as isize - pad as isize;
        for (i, slot) in input.iter_mut().enumerate() {
            let j = start + i as isize;
            *slot = if j >= 0 && (j as usize) < n { f64::from(y[j as usize]) } else { 0.0 };
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            break;
        }
        let frame: Vec<Complex<f64>> = basis
            .filters
            .iter()
            .map(|filter| {
                // complex64 STFT, as librosa stores it
                filter
                    .iter()
                    .map(|&(b, w)| {
                        let d = spectrum[b];
                        w * Complex::new(f64::from(d.re as f32), f64::from(d.im as f32))
                    })
                    .sum()
            })
            .collect();
        out.push(frame);
    }
    out
}

/// Magnitude constant-Q transform `|CQT|`, `[n_bins, frames]` (`np.abs(librosa.cqt(...))`).
pub fn cqt_magnitude(y: &[f32], sr: f64, config: &CqtConfig) -> Result<Matrix> {
    let bpo = config.bins_per_octave;
    if config.n_bins == 0 || bpo == 0 || config.hop_length == 0 || y.is_empty() {
        return Err(FeatureError::InvalidParameter("CQT needs bins, a hop and samples".into()));
    }
    let n_octaves = config.n_bins.div_ceil(bpo);
    let n_filters = bpo.min(config.n_bins);
    let tuning = match config.tuning {
        Some(t) => t,
        None => estimate_tuning_from_audio(y, sr, bpo)?,
    };
    let fmin = config.fmin * 2f64.powf(tuning / bpo as f64);
    let freqs: Vec<f64> = (0..config.n_bins)
        .map(|k| {
            let ratio = 2f64.powf((k % bpo) as f64 / bpo as f64);
            fmin * 2f64.powi((k / bpo) as i32) * ratio
        })
        .collect();
    let alpha = relative_bandwidth(&freqs, bpo);
    let cutoff =
        freqs.iter().zip(&alpha).map(|(f, a)| f * (1.0 + 0.5 * HANN_BANDWIDTH * a)).fold(0.0, f64::max);
    if cutoff > sr / 2.0 {
        return Err(FeatureError::InvalidParameter(format!(
            "CQT basis reaches {cutoff:.0} Hz, above the Nyquist frequency {} Hz; use fewer bins",
            sr / 2.0
        )));
    }
    // Early downsampling (librosa's __early_downsample_count).
    let twos = config.hop_length.trailing_zeros() as usize;
    let count1 = (((sr / 2.0 / cutoff).log2().ceil() as i64) - 2).max(0) as usize;
    let count2 = (twos as i64 - n_octaves as i64 + 1).max(0) as usize;
    let early = count1.min(count2);
    let mut my_y: Vec<f32> = y.to_vec();
    let (mut my_sr, mut my_hop) = (sr, config.hop_length);
    if early > 0 {
        let factor = 1u32 << early;
        if y.len() < factor as usize {
            return Err(FeatureError::TooShort { samples: y.len(), needed: factor as usize });
        }
        my_y = halve(&my_y, factor)?;
        my_sr = sr / f64::from(factor);
        my_hop /= factor as usize;
    }
    // librosa rebinds `sr` after early downsampling: scales and lengths use it.
    let base_sr = my_sr;
    let mut responses: Vec<Vec<Vec<Complex<f64>>>> = Vec::with_capacity(n_octaves);
    for i in 0..n_octaves {
        let hi = config.n_bins - n_filters * i;
        let lo = hi.saturating_sub(n_filters);
        let basis = octave_basis(&freqs[lo..hi], &alpha[lo..hi], my_sr, (base_sr / my_sr).sqrt());
        responses.push(octave_response(&my_y, my_hop, &basis));
        if my_hop % 2 == 0 {
            my_hop /= 2;
            my_sr /= 2.0;
            my_y = halve(&my_y, 2)?;
        }
    }
    // Stack octaves bottom-up, trimmed to the shortest, then scale by 1/sqrt(length).
    let frames = responses.iter().map(Vec::len).min().unwrap_or(0);
    let lengths = wavelet_lengths(&freqs, &alpha, base_sr);
    let mut out = Matrix::zeros(config.n_bins, frames);
    let mut end = config.n_bins;
    for octave in &responses {
        let n_oct = octave.first().map_or(0, Vec::len);
        let take = n_oct.min(end);
        for (t, frame) in octave.iter().take(frames).enumerate() {
            for (j, z) in frame[n_oct - take..].iter().enumerate() {
                let bin = end - take + j;
                let z = Complex::new(z.re as f32, z.im as f32);
                out.data[bin * frames + t] = (f64::from(z.norm()) / lengths[bin].sqrt()) as f32;
            }
        }
        end -= take;
    }
    Ok(out)
}

/// Downsamples by `factor` with librosa's `scale=True` energy correction.
fn halve(y: &[f32], factor: u32) -> Result<Vec<f32>> {
    let s = resample(&Signal::new(y.to_vec(), factor), 1)
        .map_err(|e| FeatureError::InvalidParameter(e.to_string()))?;
    let gain = (f64::from(factor)).sqrt() as f32;
    Ok(s.samples.into_iter().map(|x| x * gain).collect())
}

/// `librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=bpo)`: piptrack on
/// the magnitude STFT (n_fft 2048, hop 512).
pub fn estimate_tuning_from_audio(y: &[f32], sr: f64, bins_per_octave: usize) -> Result<f64> {
    let mag = crate::Stft::new(crate::StftConfig::new(2048, 512)).spectrogram(y, 1.0)?;
    Ok(estimate_tuning(&mag, sr, bins_per_octave))
}

/// Folds CQT bins into pitch classes (`filters.cq_to_chroma` with C1 as the
/// lowest bin), `[n_chroma, n_input]`.
pub fn cq_to_chroma(n_input: usize, bins_per_octave: usize, n_chroma: usize) -> Matrix {
    let merge = bins_per_octave / n_chroma;
    let mut m = Matrix::zeros(n_chroma, n_input);
    for col in 0..n_input {
        // repeat(eye, merge) rolled left by merge // 2, tiled per octave
        let within = (col % bins_per_octave + merge / 2) % bins_per_octave;
        m.data[(within / merge) * n_input + col] = 1.0;
    }
    m
}

fn normalize_columns(m: &mut Matrix, norm: Norm) {
    for t in 0..m.cols {
        let len = match norm {
            Norm::Inf => (0..m.rows).map(|r| f64::from(m.get(r, t).abs())).fold(0.0, f64::max),
            Norm::L1 => (0..m.rows).map(|r| f64::from(m.get(r, t).abs())).sum(),
            Norm::L2 => (0..m.rows).map(|r| f64::from(m.get(r, t)).powi(2)).sum::<f64>().sqrt(),
        };
        if len >= TINY_F32 {
            for r in 0..m.rows {
                m.data[r * m.cols + t] = (f64::from(m.data[r * m.cols + t]) / len) as f32;
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Norm {
    Inf,
    L1,
    L2,
}

/// Un-normalised chroma of a magnitude CQT whose lowest bin is C.
fn fold_chroma(cqt: &Matrix, bins_per_octave: usize, n_chroma: usize) -> Matrix {
    let map = cq_to_chroma(cqt.rows, bins_per_octave, n_chroma);
    let mut out = Matrix::zeros(n_chroma, cqt.cols);
    for c in 0..n_chroma {
        let mut acc = vec![0f64; cqt.cols];
        for (b, &w) in map.row(c).iter().enumerate() {
            if w != 0.0 {
                for (a, &x) in acc.iter_mut().zip(cqt.row(b)) {
                    *a += f64::from(x);
                }
            }
        }
        for (o, a) in out.row_mut(c).iter_mut().zip(&acc) {
            *o = *a as f32;
        }
    }
    out
}

/// `chroma_cqt(C=cqt)`: pitch-class energy, each frame scaled to max 1.
pub fn chroma_from_cqt(cqt: &Matrix, bins_per_octave: usize) -> Matrix {
    let mut chroma = fold_chroma(cqt, bins_per_octave, 12);
    normalize_columns(&mut chroma, Norm::Inf);
    chroma
}

/// `librosa.feature.chroma_cqt(y=y, sr=sr)`: 7 octaves at 36 bins per octave
/// from C1, tuning estimated, each frame scaled to max 1.
pub fn chroma_cqt(y: &[f32], sr: f64) -> Result<Matrix> {
    let config = CqtConfig { n_bins: 7 * 36, bins_per_octave: 36, tuning: None, ..CqtConfig::default() };
    Ok(chroma_from_cqt(&cqt_magnitude(y, sr, &config)?, 36))
}

/// `chroma_cens(C=cqt)`: L1-normalised chroma quantised into energy steps,
/// smoothed over 41 frames with a Hann window, then L2-normalised.
pub fn chroma_cens_from_cqt(cqt: &Matrix, bins_per_octave: usize) -> Matrix {
    let mut chroma = fold_chroma(cqt, bins_per_octave, 12);
    normalize_columns(&mut chroma, Norm::L1);
    let quant = chroma
        .map(|x| [0.4f32, 0.2, 0.1, 0.05].iter().map(|&step| if x > step { 0.25 } else { 0.0 }).sum::<f32>());
    // Symmetric Hann of 43 points (fftbins=False), normalised to sum 1.
    let win_len = 41 + 2;
    let win: Vec<f64> = (0..win_len)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (win_len - 1) as f64).cos())
        .collect();
    let total: f64 = win.iter().sum();
    let half = win_len / 2;
    let mut cens = Matrix::zeros(quant.rows, quant.cols);
    for r in 0..quant.rows {
        let row = quant.row(r);
        for t in 0..quant.cols {
            // scipy.ndimage.convolve, mode="constant": centred, zeros outside.
            let mut acc = 0f64;
            for (k, w) in win.iter().enumerate() {
                let j = t as isize + half as isize - k as isize;
                if j >= 0 && (j as usize) < row.len() {
                    acc += w / total * f64::from(row[j as usize]);
                }
            }
            cens.data[r * quant.cols + t] = acc as f32;
        }
    }
    normalize_columns(&mut cens, Norm::L2);
    cens
}

/// Tonal centroid features from a 12-bin chroma (`librosa.feature.tonnetz`),
/// `[6, frames]`: fifths, minor thirds, major thirds (x, y each).
pub fn tonnetz_from_chroma(chroma: &Matrix) -> Matrix {
    let mut normed = chroma.clone();
    normalize_columns(&mut normed, Norm::L1);
    let n = chroma.rows as f64;
    let scale = [7.0 / 6.0, 7.0 / 6.0, 1.5, 1.5, 2.0 / 3.0, 2.0 / 3.0];
    let radius = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5];
    let mut out = Matrix::zeros(6, chroma.cols);
    for p in 0..6 {
        let phi: Vec<f64> = (0..chroma.rows)
            .map(|c| {
                let mut v = scale[p] * (c as f64 * 12.0 / n);
                if p % 2 == 0 {
                    v -= 0.5;
                }
                radius[p] * (std::f64::consts::PI * v).cos()
            })
            .collect();
        for t in 0..chroma.cols {
            let acc: f64 = phi.iter().enumerate().map(|(c, w)| w * f64::from(normed.get(c, t))).sum();
            out.data[p * chroma.cols + t] = acc as f32;
        }
    }
    out
}

/// `librosa.feature.tonnetz(y=y, sr=sr)` (on the default `chroma_cqt`).
pub fn tonnetz(y: &[f32], sr: f64) -> Result<Matrix> {
    Ok(tonnetz_from_chroma(&chroma_cqt(y, sr)?))
}
