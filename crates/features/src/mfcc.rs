//! Mel-frequency cepstral coefficients (`librosa.feature.mfcc`): an
//! orthonormal DCT-II of the dB mel spectrogram.

use crate::error::{FeatureError, Result};
use crate::matrix::Matrix;

/// The first `n_out` rows of the orthonormal DCT-II matrix of size `n`
/// (`scipy.fft.dct(type=2, norm="ortho")`).
pub fn dct_ortho_matrix(n_out: usize, n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n_out * n];
    for k in 0..n_out {
        let scale = if k == 0 { (1.0 / n as f64).sqrt() } else { (2.0 / n as f64).sqrt() };
        for i in 0..n {
            m[k * n + i] =
                scale * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64).cos();
        }
    }
    m
}

/// `n_mfcc` coefficients per frame from a dB mel spectrogram `[n_mels, frames]`.
pub fn mfcc_from_db(mel_db: &Matrix, n_mfcc: usize) -> Result<Matrix> {
    let n = mel_db.rows;
    if n_mfcc == 0 || n_mfcc > n {
        return Err(FeatureError::InvalidParameter(format!("n_mfcc must be in 1..={n}, got {n_mfcc}")));
    }
    let basis = dct_ortho_matrix(n_mfcc, n);
    let frames = mel_db.cols;
    let mut out = Matrix::zeros(n_mfcc, frames);
    let mut acc = vec![0f64; frames];
    for k in 0..n_mfcc {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for i in 0..n {
            let w = basis[k * n + i];
            for (a, &x) in acc.iter_mut().zip(mel_db.row(i)) {
                *a += w * f64::from(x);
            }
        }
        for (o, a) in out.row_mut(k).iter_mut().zip(&acc) {
            *o = *a as f32;
        }
    }
    Ok(out)
}
