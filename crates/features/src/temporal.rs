//! Time-domain frame features: zero-crossing rate and RMS energy.

use crate::matrix::Matrix;

/// Frame count for `n` samples with centring (`1 + n / hop`).
fn centred_frames(n: usize, hop: usize) -> usize {
    1 + n / hop
}

/// Fraction of sign changes per frame (`librosa.feature.zero_crossing_rate`:
/// frame 2048, hop 512, centred with edge padding, |x| <= 1e-10 counts as 0,
/// zero counts as positive), `[1, frames]`.
pub fn zero_crossing_rate(y: &[f32], frame_length: usize, hop_length: usize) -> Matrix {
    if y.is_empty() {
        return Matrix::zeros(1, 0);
    }
    let pad = frame_length / 2;
    let n = y.len();
    let frames = centred_frames(n, hop_length);
    // sign bit per padded sample, edge mode
    let negative = |j: isize| -> bool {
        let i = j.clamp(0, n as isize - 1) as usize;
        let x = y[i];
        x.abs() > 1e-10 && x.is_sign_negative()
    };
    let signs: Vec<bool> = (-(pad as isize)..(n + pad) as isize).map(negative).collect();
    // crossings[i] = signs[i] != signs[i-1]; prefix sums make each frame O(1).
    let mut prefix = vec![0u32; signs.len()];
    for i in 1..signs.len() {
        prefix[i] = prefix[i - 1] + u32::from(signs[i] != signs[i - 1]);
    }
    let data = (0..frames)
        .map(|t| {
            let s = t * hop_length;
            let e = (s + frame_length - 1).min(signs.len() - 1);
            (prefix[e] - prefix[s]) as f32 / frame_length as f32
        })
        .collect();
    Matrix::from_vec(1, frames, data)
}

/// Root-mean-square energy per frame from samples (`librosa.feature.rms(y)`:
/// frame 2048, hop 512, centred with zero padding), `[1, frames]`.
pub fn rms(y: &[f32], frame_length: usize, hop_length: usize) -> Matrix {
    let pad = frame_length / 2;
    let n = y.len();
    let frames = centred_frames(n, hop_length);
    // Prefix sums of squares in f64 give each frame's energy in O(1).
    let mut prefix = vec![0f64; n + 1];
    for (i, &x) in y.iter().enumerate() {
        prefix[i + 1] = prefix[i] + f64::from(x) * f64::from(x);
    }
    let data = (0..frames)
        .map(|t| {
            let s = (t * hop_length).saturating_sub(pad).min(n);
            let e = (t * hop_length + frame_length).saturating_sub(pad).min(n);
            ((prefix[e] - prefix[s]).max(0.0) / frame_length as f64).sqrt() as f32
        })
        .collect();
    Matrix::from_vec(1, frames, data)
}

/// RMS per frame from a magnitude spectrogram (`librosa.feature.rms(S=...)`,
/// frame length `2 * (bins - 1)`): Parseval's sum with the DC and Nyquist
/// bins halved, `[1, frames]`.
pub fn rms_from_magnitude(mag: &Matrix) -> Matrix {
    let frame_length = 2 * (mag.rows.saturating_sub(1)) as u64;
    let mut power = vec![0f64; mag.cols];
    for r in 0..mag.rows {
        let weight = if r == 0 || (r + 1 == mag.rows && frame_length.is_multiple_of(2)) { 0.5 } else { 1.0 };
        for (p, &x) in power.iter_mut().zip(mag.row(r)) {
            *p += weight * f64::from(x) * f64::from(x);
        }
    }
    let scale = 2.0 / (frame_length as f64).powi(2).max(1.0);
    Matrix::from_vec(1, mag.cols, power.iter().map(|p| (p * scale).sqrt() as f32).collect())
}
