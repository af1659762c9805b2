//! Short-time Fourier transform, equal to `librosa.stft` (centred, zero
//! padded, periodic Hann), computed in `f64` and stored as `f32` like
//! librosa's `complex64` output.

use std::sync::Arc;

use realfft::RealToComplex;
use realfft::num_complex::Complex;

use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;
use crate::window::{hann, pad_center};

/// STFT parameters, librosa's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StftConfig {
    /// FFT length (`n_fft`, default 2048).
    pub n_fft: usize,
    /// Samples between frames (`hop_length`, default `n_fft / 4`).
    pub hop_length: usize,
    /// Window length (`win_length`, default `n_fft`); the Hann window is
    /// zero-padded to `n_fft`.
    pub win_length: usize,
    /// Pad `n_fft / 2` zeros on both sides so frame `t` is centred at `t * hop`.
    pub center: bool,
}

impl Default for StftConfig {
    fn default() -> Self {
        Self::new(2048, 512)
    }
}

impl StftConfig {
    /// `n_fft` with `hop_length`, full-length window, centred.
    pub fn new(n_fft: usize, hop_length: usize) -> Self {
        Self { n_fft, hop_length, win_length: n_fft, center: true }
    }

    /// Number of frequency bins, `1 + n_fft / 2`.
    pub fn n_bins(&self) -> usize {
        1 + self.n_fft / 2
    }

    /// Number of frames for `n` input samples.
    pub fn n_frames(&self, n: usize) -> usize {
        let padded = if self.center { n + 2 * (self.n_fft / 2) } else { n };
        if padded < self.n_fft || self.hop_length == 0 {
            0
        } else {
            1 + (padded - self.n_fft) / self.hop_length
        }
    }

    fn validate(&self, n: usize) -> Result<()> {
        if self.n_fft < 2 || self.hop_length == 0 || self.win_length == 0 || self.win_length > self.n_fft {
            return Err(FeatureError::InvalidParameter(format!(
                "need n_fft >= 2, hop_length > 0 and 0 < win_length <= n_fft; got n_fft={}, hop_length={}, win_length={}",
                self.n_fft, self.hop_length, self.win_length
            )));
        }
        if n == 0 || self.n_frames(n) == 0 {
            return Err(FeatureError::TooShort { samples: n, needed: self.n_fft });
        }
        Ok(())
    }
}

/// Frames gathered before they are written out row by row.
const FRAME_BLOCK: usize = 32;

/// A planned STFT: reuse one for many signals of any length.
pub struct Stft {
    config: StftConfig,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft").field("config", &self.config).finish()
    }
}

impl Stft {
    /// Plans the FFT and builds the window for `config`.
    pub fn new(config: StftConfig) -> Self {
        let window = pad_center(&hann(config.win_length), config.n_fft);
        let fft = crate::fft::real_forward(config.n_fft);
        Self { config, window, fft }
    }

    /// The configuration this STFT was planned for.
    pub fn config(&self) -> &StftConfig {
        &self.config
    }

    /// Calls `visit(frame_index, spectrum)` for each frame's complex spectrum
    /// (`n_fft / 2 + 1` bins, `f64`), reusing one buffer.
    pub fn for_each_frame(&self, y: &[f32], mut visit: impl FnMut(usize, &[Complex<f64>])) -> Result<usize> {
        let c = &self.config;
        c.validate(y.len())?;
        let n_frames = c.n_frames(y.len());
        let pad = if c.center { c.n_fft / 2 } else { 0 };
        let mut input = self.fft.make_input_vec();
        let mut output = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for t in 0..n_frames {
            // Frame t covers padded samples [t*hop, t*hop + n_fft), i.e. y[t*hop - pad ..].
            let start = (t * c.hop_length) as isize - pad as isize;
            if start >= 0 && start as usize + c.n_fft <= y.len() {
                let frame = &y[start as usize..start as usize + c.n_fft];
                for ((slot, w), &x) in input.iter_mut().zip(&self.window).zip(frame) {
                    *slot = f64::from(x) * w;
                }
            } else {
                for (i, (slot, w)) in input.iter_mut().zip(&self.window).enumerate() {
                    let j = start + i as isize;
                    *slot = if j >= 0 && (j as usize) < y.len() { f64::from(y[j as usize]) * w } else { 0.0 };
                }
            }
            self.fft
                .process_with_scratch(&mut input, &mut output, &mut scratch)
                .map_err(|e| FeatureError::InvalidParameter(e.to_string()))?;
            visit(t, &output);
        }
        Ok(n_frames)
    }

    /// `|X|^power` as a `[n_bins, n_frames]` matrix (`power` 1 = magnitude,
    /// 2 = power), each value rounded through `f32` like librosa's
    /// `complex64` STFT.
    pub fn spectrogram(&self, y: &[f32], power: f32) -> Result<Matrix> {
        // np.abs of the complex64 value, then `** power` in float32; the
        // power is matched once, so each loop is a plain (vectorised) map.
        let data = if power == 2.0 {
            self.collect_bins(y, |spectrum, out| map_bins(spectrum, out, |m| m * m))
        } else if power == 1.0 {
            self.collect_bins(y, |spectrum, out| map_bins(spectrum, out, |m| m))
        } else {
            self.collect_bins(y, |spectrum, out| map_bins(spectrum, out, |m| m.powf(power)))
        }?;
        Ok(Matrix::from_vec(self.config.n_bins(), self.config.n_frames(y.len()), data))
    }

    /// The complex STFT as `[n_bins, n_frames]` (`complex64` like librosa).
    pub fn complex(&self, y: &[f32]) -> Result<ComplexMatrix> {
        let data = self.collect_bins(y, |spectrum, out| {
            for (d, z) in out.iter_mut().zip(spectrum) {
                *d = Complex::new(z.re as f32, z.im as f32);
            }
        })?;
        Ok(ComplexMatrix { rows: self.config.n_bins(), cols: self.config.n_frames(y.len()), data })
    }

    /// Runs the STFT and stores `values(spectrum, out)` (one value per bin)
    /// in row-major `[bins, frames]` order. Frames come one at a time, so a
    /// block of them is gathered and then written out one contiguous run per
    /// bin (no full-size transpose).
    fn collect_bins<T: Copy + Default>(
        &self,
        y: &[f32],
        values: impl Fn(&[Complex<f64>], &mut [T]),
    ) -> Result<Vec<T>> {
        self.config.validate(y.len())?;
        let (bins, frames) = (self.config.n_bins(), self.config.n_frames(y.len()));
        let mut out = vec![T::default(); bins * frames];
        let mut block = vec![T::default(); FRAME_BLOCK * bins];
        self.for_each_frame(y, |t, spectrum| {
            let slot = t % FRAME_BLOCK;
            values(spectrum, &mut block[slot * bins..(slot + 1) * bins]);
            if slot == FRAME_BLOCK - 1 || t + 1 == frames {
                let t0 = t - slot;
                for b in 0..bins {
                    for (j, d) in out[b * frames + t0..b * frames + t + 1].iter_mut().enumerate() {
                        *d = block[j * bins + b];
                    }
                }
            }
        })?;
        Ok(out)
    }
}

/// `out[b] = f(|spectrum[b]|)`, the magnitude of each bin rounded through
/// `complex64` first (see [`magnitude`]).
#[inline(always)]
fn map_bins(spectrum: &[Complex<f64>], out: &mut [f32], f: impl Fn(f32) -> f32) {
    for (d, z) in out.iter_mut().zip(spectrum) {
        *d = f(magnitude(Complex::new(z.re as f32, z.im as f32)));
    }
}

/// A complex `[n_bins, n_frames]` STFT matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexMatrix {
    /// Frequency bins.
    pub rows: usize,
    /// Frames.
    pub cols: usize,
    /// Row-major values.
    pub data: Vec<Complex<f32>>,
}

/// `|z|` of a complex64 value, correctly rounded to `f32` like NumPy's
/// `np.abs` (computed through `f64`, faster than `hypot`).
#[inline]
pub fn magnitude(z: Complex<f32>) -> f32 {
    let (re, im) = (f64::from(z.re), f64::from(z.im));
    (re * re + im * im).sqrt() as f32
}

/// Frequency in Hz of each STFT bin (`librosa.fft_frequencies`).
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    let n = 1 + n_fft / 2;
    // np.fft.rfftfreq(n=n_fft, d=1.0/sr): i * (sr / n_fft) exactly as NumPy computes it.
    let val = 1.0 / (n_fft as f64 * (1.0 / sr));
    (0..n).map(|i| i as f64 * val).collect()
}

/// Power spectrogram `|STFT|^2` of `y` with `config` (one-shot convenience).
pub fn power_spectrogram(y: &[f32], config: StftConfig) -> Result<Matrix> {
    Stft::new(config).spectrogram(y, 2.0)
}

/// Magnitude spectrogram `|STFT|` of `y` with `config`.
pub fn magnitude_spectrogram(y: &[f32], config: StftConfig) -> Result<Matrix> {
    Stft::new(config).spectrogram(y, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_matches_librosa() {
        let c = StftConfig::new(2048, 512);
        assert_eq!(c.n_frames(661_500), 1292);
        assert_eq!(StftConfig::new(512, 256).n_frames(661_500), 2584);
    }

    #[test]
    fn dc_signal_puts_energy_in_bin_zero() {
        let y = vec![1.0f32; 4096];
        let s = magnitude_spectrogram(&y, StftConfig::new(256, 64)).unwrap();
        // Frame in the middle: the Hann window sums to n/2.
        let mid = s.cols / 2;
        assert!((s.get(0, mid) - 128.0).abs() < 1e-3);
        assert!(s.get(2, mid) < 1e-3);
    }

    #[test]
    fn too_short_or_bad_parameters_are_errors() {
        let c = StftConfig { center: false, ..StftConfig::new(2048, 512) };
        assert!(Stft::new(c).spectrogram(&[0.0; 10], 2.0).is_err());
        let bad = StftConfig { hop_length: 0, ..StftConfig::default() };
        assert!(Stft::new(bad).spectrogram(&[0.0; 10_000], 2.0).is_err());
    }
}
