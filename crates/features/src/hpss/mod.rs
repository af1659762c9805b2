//! Harmonic/percussive source separation by median filtering
//! (`librosa.effects.hpss`: kernel 31, soft masks with power 2, margin 1),
//! with the inverse STFT to return waveforms.

use realfft::num_complex::Complex;

mod median31;

use median31::{Axis, median_filter_31, reflect};

use crate::error::Result;
use crate::matrix::transpose;
use crate::stft::{ComplexMatrix, Stft, StftConfig, magnitude};
use crate::window::{hann, pad_center};

/// Maps an `f32` to a `u32` with the same order (`total_cmp` order).
#[inline]
fn order_key(x: f32) -> u32 {
    let b = x.to_bits();
    b ^ ((((b as i32) >> 31) as u32) | 0x8000_0000)
}

/// Inverse of [`order_key`].
#[inline]
fn from_order_key(k: u32) -> f32 {
    let b = if k & 0x8000_0000 != 0 { k ^ 0x8000_0000 } else { !k };
    f32::from_bits(b)
}

/// Reusable buffers for [`sliding_median`].
#[derive(Default)]
struct MedianScratch {
    padded: Vec<u32>,
    window: Vec<u32>,
}

/// Median of each length-`kernel` (odd) window of `x`, with SciPy's
/// `reflect` boundary (`d c b a | a b c d | d c b a`), written to `out`.
///
/// Keeps the window sorted as order-preserving integer keys; each step finds
/// the outgoing and incoming positions by branch-free counting and shifts
/// only the elements between them.
fn sliding_median(x: &[f32], kernel: usize, out: &mut [f32], scratch: &mut MedianScratch) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let half = kernel / 2;
    let padded = &mut scratch.padded;
    padded.clear();
    padded.extend((-(half as isize)..(n + half) as isize).map(|j| order_key(x[reflect(j, n)])));
    let window = &mut scratch.window;
    window.clear();
    window.extend_from_slice(&padded[..kernel]);
    window.sort_unstable();
    out[0] = from_order_key(window[half]);
    for i in 1..n {
        step(window, padded[i - 1], padded[i + kernel - 1]);
        out[i] = from_order_key(window[half]);
    }
}

/// Number of values in `window` below `x` (branch-free, vectorises).
#[inline(always)]
fn count_below(window: &[u32], x: u32) -> usize {
    window.iter().fold(0u32, |acc, &v| acc + u32::from(v < x)) as usize
}

/// Replaces one occurrence of `gone` by `new` in the sorted `window`.
#[inline(always)]
fn step(window: &mut [u32], gone: u32, new: u32) {
    if new == gone {
        return;
    }
    // Position of the outgoing value, and how many values lie below the
    // incoming one: counted branch-free so the loops vectorise.
    let at = count_below(window, gone);
    let below_new = count_below(window, new);
    if new > gone {
        let put = below_new - 1;
        for j in at..put {
            window[j] = window[j + 1];
        }
        window[put] = new;
    } else {
        let put = below_new;
        for j in (put..at).rev() {
            window[j + 1] = window[j];
        }
        window[put] = new;
    }
}

/// Median filters of any odd `kernel` along time (`harm`) and along
/// frequency (`perc`), one line at a time.
fn median_filter_any(
    mag: &[f32],
    rows: usize,
    cols: usize,
    kernel: usize,
    harm: &mut [f32],
    perc: &mut [f32],
) {
    let mut scratch = MedianScratch::default();
    // Harmonic: median along time within each frequency row.
    for r in 0..rows {
        sliding_median(
            &mag[r * cols..(r + 1) * cols],
            kernel,
            &mut harm[r * cols..(r + 1) * cols],
            &mut scratch,
        );
    }
    // Percussive: median along frequency within each frame, on the
    // frame-major transpose so each frame is contiguous.
    let mut by_frame = vec![0f32; rows * cols];
    transpose(mag, rows, cols, &mut by_frame);
    let mut filtered = vec![0f32; rows * cols];
    for c in 0..cols {
        let span = c * rows..(c + 1) * rows;
        sliding_median(&by_frame[span.clone()], kernel, &mut filtered[span], &mut scratch);
    }
    transpose(&filtered, cols, rows, perc);
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
    let mag: Vec<f32> = stft.data.iter().map(|&z| magnitude(z)).collect();
    hpss_spectrogram_with_magnitude(stft, &mag, kernel)
}

/// [`hpss_spectrogram`] for a caller that already holds `|stft|` (same
/// row-major layout), so it is not computed twice.
pub fn hpss_spectrogram_with_magnitude(
    stft: &ComplexMatrix,
    mag: &[f32],
    kernel: usize,
) -> (ComplexMatrix, ComplexMatrix) {
    let (rows, cols) = (stft.rows, stft.cols);
    assert_eq!(mag.len(), rows * cols, "one magnitude per STFT bin");
    let mut harm = vec![0f32; rows * cols];
    let mut perc = vec![0f32; rows * cols];
    if kernel == median31::KERNEL {
        median_filter_31(mag, rows, cols, Axis::Rows, &mut harm);
        median_filter_31(mag, rows, cols, Axis::Columns, &mut perc);
    } else {
        median_filter_any(mag, rows, cols, kernel, &mut harm, &mut perc);
    }
    let masked = |own: &[f32], other: &[f32]| ComplexMatrix {
        rows,
        cols,
        data: stft.data.iter().zip(own.iter().zip(other)).map(|(&z, (&x, &r))| z * soft_mask(x, r)).collect(),
    };
    (masked(&harm, &perc), masked(&perc, &harm))
}

/// librosa's `util.softmask(x, x_ref, power=2, split_zeros=False)` for one
/// bin: `(x/z)² / ((x/z)² + (x_ref/z)²)` with `z = max(x, x_ref)`, 0 where
/// `z` is below the smallest normal `f32`. Swapping the arguments gives the
/// other mask, bit for bit (the sum is commutative).
#[inline(always)]
fn soft_mask(x: f32, x_ref: f32) -> f32 {
    let z = x.max(x_ref);
    let (a, b) = ((x / z).powi(2), (x_ref / z).powi(2));
    if z < f32::MIN_POSITIVE { 0.0 } else { a / (a + b) }
}

/// Inverse STFT by weighted overlap-add (`librosa.istft` with a Hann window,
/// centred), trimmed or padded to `length` samples.
pub fn istft(stft: &ComplexMatrix, config: StftConfig, length: usize) -> Vec<f32> {
    istft_slice(&stft.data, stft.rows, stft.cols, config, length)
}

/// [`istft`] of a `[rows, cols]` row-major complex STFT given as a slice
/// (a NumPy array borrowed without a copy).
pub fn istft_slice(
    data: &[Complex<f32>],
    rows: usize,
    cols: usize,
    config: StftConfig,
    length: usize,
) -> Vec<f32> {
    let n_fft = config.n_fft;
    let hop = config.hop_length;
    let window = pad_center(&hann(config.win_length), n_fft);
    let padded_len = length + if config.center { 2 * (n_fft / 2) } else { 0 };
    let n_frames = cols.min(padded_len.div_ceil(hop));
    let total = n_fft + hop * n_frames.saturating_sub(1);
    let bins = n_fft / 2 + 1;
    assert!(data.len() == rows * cols && rows == bins, "istft: {rows} x {cols} for n_fft {n_fft}");
    // Frame after frame: one blocked transpose instead of a strided read
    // of every bin of every frame.
    let mut frames = vec![Complex::new(0f32, 0f32); rows * cols];
    transpose(data, rows, cols, &mut frames);
    let mut y = vec![0f64; total];
    let inv = crate::fft::real_inverse(n_fft);
    let mut spec = inv.make_input_vec();
    let mut frame = inv.make_output_vec();
    let mut scratch = inv.make_scratch_vec();
    let scaled: Vec<f64> = window.iter().map(|w| w / n_fft as f64).collect();
    for t in 0..n_frames {
        for (s, z) in spec.iter_mut().zip(&frames[t * rows..(t + 1) * rows]) {
            *s = Complex::new(f64::from(z.re), f64::from(z.im));
        }
        // irfft ignores the imaginary parts of the DC and Nyquist bins.
        spec[0].im = 0.0;
        if let Some(last) = spec.last_mut() {
            last.im = 0.0;
        }
        if inv.process_with_scratch(&mut spec, &mut frame, &mut scratch).is_err() {
            break;
        }
        let off = t * hop;
        for ((acc, &x), &w) in y[off..off + n_fft].iter_mut().zip(&frame).zip(&scaled) {
            *acc += x * w;
        }
    }
    // librosa's window_sumsquare, then the division where it is not tiny.
    let mut wss = vec![0f64; total];
    let square: Vec<f64> = window.iter().map(|w| w * w).collect();
    for t in 0..n_frames {
        for (acc, &w) in wss[t * hop..t * hop + n_fft].iter_mut().zip(&square) {
            *acc += w;
        }
    }
    let start = if config.center { n_fft / 2 } else { 0 };
    let tiny = f64::from(f32::MIN_POSITIVE);
    let mut out: Vec<f32> = y[start..]
        .iter()
        .zip(&wss[start..])
        .map(|(&v, &w)| if w > tiny { v / w } else { v } as f32)
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
        sliding_median(&x, 3, &mut out, &mut MedianScratch::default());
        // reflect: [5 | 5 1 4 2 3 | 3]
        assert_eq!(out, [5.0, 4.0, 2.0, 3.0, 3.0]);
    }

    #[test]
    fn sliding_median_equals_brute_force_with_ties() {
        let mut state = 12345u32;
        let x: Vec<f32> = (0..500)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((state >> 24) % 13) as f32 - 6.0 // many ties, negatives
            })
            .collect();
        for kernel in [1, 3, 31] {
            let mut out = vec![0.0; x.len()];
            sliding_median(&x, kernel, &mut out, &mut MedianScratch::default());
            let half = kernel as isize / 2;
            for (i, got) in out.iter().enumerate() {
                let mut w: Vec<f32> = (i as isize - half..=i as isize + half)
                    .map(|j| {
                        let n = x.len() as isize;
                        let j = if j < 0 {
                            -j - 1
                        } else if j >= n {
                            2 * n - j - 1
                        } else {
                            j
                        };
                        x[j as usize]
                    })
                    .collect();
                w.sort_by(f32::total_cmp);
                assert_eq!(*got, w[kernel / 2], "kernel {kernel}, index {i}");
            }
        }
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
