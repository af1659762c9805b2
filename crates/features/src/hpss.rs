//! Harmonic/percussive source separation by median filtering
//! (`librosa.effects.hpss`: kernel 31, soft masks with power 2, margin 1),
//! with the inverse STFT to return waveforms.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use crate::error::Result;
use crate::stft::{ComplexMatrix, Stft, StftConfig};
use crate::window::{hann, pad_center};

/// Median of each length-`kernel` window of `x`, with SciPy's `reflect`
/// boundary (`d c b a | a b c d | d c b a`), written to `out`.
fn sliding_median(x: &[f32], kernel: usize, out: &mut [f32], padded: &mut Vec<f32>, window: &mut Vec<f32>) {
    let n = x.len();
    let half = kernel / 2;
    padded.clear();
    let reflect = |j: isize| -> f32 {
        let n = n as isize;
        let mut j = j;
        // Reflect repeatedly for kernels longer than the signal.
        loop {
            if j < 0 {
                j = -j - 1;
            } else if j >= n {
                j = 2 * n - j - 1;
            } else {
                return x[j as usize];
            }
        }
    };
    padded.extend((-(half as isize)..(n + half) as isize).map(reflect));
    window.clear();
    window.extend_from_slice(&padded[..kernel]);
    window.sort_unstable_by(f32::total_cmp);
    out[0] = window[half];
    for i in 1..n {
        let gone = padded[i - 1];
        let new = padded[i + kernel - 1];
        let at = window.partition_point(|v| v.total_cmp(&gone).is_lt());
        window.remove(at);
        let put = window.partition_point(|v| v.total_cmp(&new).is_lt());
        window.insert(put, new);
        out[i] = window[half];
    }
}

/// Harmonic and percussive waveforms of `y` (same length as `y`).
pub fn hpss(y: &[f32], kernel: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    let config = StftConfig::new(2048, 512);
    let stft = Stft::new(config).complex(y)?;
    let (h, p) = hpss_spectrogram(&stft, kernel);
    Ok((istft(&h, config, y.len()), istft(&p, config, y.len())))
}

/// Splits a complex STFT into harmonic and percussive parts (soft masks).
pub fn hpss_spectrogram(stft: &ComplexMatrix, kernel: usize) -> (ComplexMatrix, ComplexMatrix) {
    let (rows, cols) = (stft.rows, stft.cols);
    let mag: Vec<f32> = stft.data.iter().map(|z| z.norm()).collect();
    let mut harm = vec![0f32; rows * cols];
    let mut perc = vec![0f32; rows * cols];
    let (mut padded, mut window) = (Vec::new(), Vec::new());
    // Harmonic: median along time within each frequency row.
    for r in 0..rows {
        sliding_median(
            &mag[r * cols..(r + 1) * cols],
            kernel,
            &mut harm[r * cols..(r + 1) * cols],
            &mut padded,
            &mut window,
        );
    }
    // Percussive: median along frequency within each frame.
    let mut column = vec![0f32; rows];
    let mut filtered = vec![0f32; rows];
    for c in 0..cols {
        for r in 0..rows {
            column[r] = mag[r * cols + c];
        }
        sliding_median(&column, kernel, &mut filtered, &mut padded, &mut window);
        for r in 0..rows {
            perc[r * cols + c] = filtered[r];
        }
    }
    let tiny = f32::MIN_POSITIVE;
    let mut h = stft.clone();
    let mut p = stft.clone();
    for i in 0..rows * cols {
        let (x, xr) = (harm[i], perc[i]);
        let z = x.max(xr);
        let (mh, mp) = if z < tiny {
            (0.0, 0.0)
        } else {
            let (a, b) = ((x / z).powi(2), (xr / z).powi(2));
            (a / (a + b), b / (a + b))
        };
        h.data[i] = stft.data[i] * mh;
        p.data[i] = stft.data[i] * mp;
    }
    (h, p)
}

/// Inverse STFT by weighted overlap-add (`librosa.istft` with a Hann window,
/// centred), trimmed or padded to `length` samples.
pub fn istft(stft: &ComplexMatrix, config: StftConfig, length: usize) -> Vec<f32> {
    let n_fft = config.n_fft;
    let hop = config.hop_length;
    let window = pad_center(&hann(config.win_length), n_fft);
    let padded_len = length + if config.center { 2 * (n_fft / 2) } else { 0 };
    let n_frames = stft.cols.min(padded_len.div_ceil(hop));
    let total = n_fft + hop * n_frames.saturating_sub(1);
    let mut y = vec![0f64; total];
    let mut wss = vec![0f64; total];
    let inv = RealFftPlanner::<f64>::new().plan_fft_inverse(n_fft);
    let mut spec = inv.make_input_vec();
    let mut frame = inv.make_output_vec();
    for t in 0..n_frames {
        for (b, s) in spec.iter_mut().enumerate() {
            let z = stft.data[b * stft.cols + t];
            *s = Complex::new(f64::from(z.re), f64::from(z.im));
        }
        // irfft ignores the imaginary parts of the DC and Nyquist bins.
        spec[0].im = 0.0;
        if let Some(last) = spec.last_mut() {
            last.im = 0.0;
        }
        if inv.process(&mut spec, &mut frame).is_err() {
            break;
        }
        let off = t * hop;
        for i in 0..n_fft {
            y[off + i] += frame[i] / n_fft as f64 * window[i];
            wss[off + i] += window[i] * window[i];
        }
    }
    let start = if config.center { n_fft / 2 } else { 0 };
    let mut out: Vec<f32> = (start..total)
        .map(|i| if wss[i] > f64::from(f32::MIN_POSITIVE) { y[i] / wss[i] } else { y[i] } as f32)
        .collect();
    out.resize(length, 0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_median_matches_sorting_with_reflect_edges() {
        let x = [5.0, 1.0, 4.0, 2.0, 3.0];
        let mut out = [0.0; 5];
        sliding_median(&x, 3, &mut out, &mut Vec::new(), &mut Vec::new());
        // reflect: [5 | 5 1 4 2 3 | 3]
        assert_eq!(out, [5.0, 4.0, 2.0, 3.0, 3.0]);
    }

    #[test]
    fn istft_inverts_stft() {
        let y: Vec<f32> = (0..20_000).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect();
        let config = StftConfig::new(2048, 512);
        let s = Stft::new(config).complex(&y).unwrap();
        let back = istft(&s, config, y.len());
        let err = y.iter().zip(&back).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 1e-5, "max error {err}");
    }
}
