//! musicnn's network input (Pons & Serra 2019, PORTING.md §2–3): the 96-band
//! Slaney mel power of 16 kHz audio (STFT 512/256, 0–8 kHz), rounded to
//! float16 and compressed as `log10(10000·x + 1)` in float32, cut into
//! 187-frame patches.

use half::f16;

use crate::{FeatureError, Matrix, MelConfig, MelFilterbank, Result, Stft, StftConfig};

/// The only sample rate musicnn's networks accept.
pub const MUSICNN_SAMPLE_RATE: u32 = 16_000;
/// Frames per patch: `time_to_frames(3 s) + 1`.
pub const MUSICNN_PATCH_FRAMES: usize = 187;
/// Mel bands.
pub const MUSICNN_MELS: usize = 96;
const N_FFT: usize = 512;
const HOP: usize = 256;

/// The compressed log-mel spectrogram, time-major: `[frames, 96]`.
/// `y` must be mono audio at [`MUSICNN_SAMPLE_RATE`].
pub fn musicnn_logmel(y: &[f32]) -> Result<Matrix> {
    let power = Stft::new(StftConfig::new(N_FFT, HOP)).spectrogram(y, 2.0)?;
    let config = MelConfig {
        fmax: Some(8_000.0),
        ..MelConfig::new(f64::from(MUSICNN_SAMPLE_RATE), N_FFT, MUSICNN_MELS)
    };
    let mel = MelFilterbank::new(&config)?.apply(&power)?;
    let frames = mel.cols;
    let mut out = Matrix::zeros(frames, MUSICNN_MELS);
    crate::matrix::transpose(&mel.data, MUSICNN_MELS, frames, &mut out.data);
    for v in &mut out.data {
        // NumPy 1.x: float16 * int promotes to float32, one rounding per step.
        let h = f16::from_f32(*v).to_f32();
        *v = (10_000f32 * h + 1f32).log10();
    }
    Ok(out)
}

/// Log-mel patches of `y` (16 kHz mono), one after another, `187 × 96`
/// values each, patch `i` starting at frame `i · hop_frames`; tail frames that
/// do not fill a patch are dropped, as musicnn does. Audio shorter than one
/// patch is repeated until it fills one (musicnn's training `repeat-pad`).
/// Returns the values and the number of patches.
pub fn musicnn_patches(y: &[f32], hop_frames: usize) -> Result<(Vec<f32>, usize)> {
    if y.is_empty() {
        return Err(FeatureError::InvalidParameter("no audio samples".into()));
    }
    if hop_frames == 0 {
        return Err(FeatureError::InvalidParameter("patch hop must be at least one frame".into()));
    }
    let min_len = (MUSICNN_PATCH_FRAMES - 1) * HOP;
    let repeated: Vec<f32>;
    let y = if y.len() < min_len {
        repeated = y.iter().copied().cycle().take(min_len).collect();
        &repeated
    } else {
        y
    };
    let logmel = musicnn_logmel(y)?;
    let n = (logmel.rows - MUSICNN_PATCH_FRAMES) / hop_frames + 1;
    let mut out = Vec::with_capacity(n * MUSICNN_PATCH_FRAMES * MUSICNN_MELS);
    for i in 0..n {
        let start = i * hop_frames * MUSICNN_MELS;
        out.extend_from_slice(&logmel.data[start..start + MUSICNN_PATCH_FRAMES * MUSICNN_MELS]);
    }
    Ok((out, n))
}

/// Start time (seconds) of patch `i` for a patch hop in frames.
pub fn musicnn_patch_start(i: usize, hop_frames: usize) -> f64 {
    (i * hop_frames * HOP) as f64 / f64::from(MUSICNN_SAMPLE_RATE)
}

/// Length of one patch in seconds (≈ 2.99 s).
pub fn musicnn_patch_seconds() -> f64 {
    (MUSICNN_PATCH_FRAMES * HOP) as f64 / f64::from(MUSICNN_SAMPLE_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_count_follows_musicnn() {
        // 30 s at 16 kHz: 1876 frames, 10 patches of 187 (tail dropped).
        let y: Vec<f32> = (0..480_000).map(|i| (i as f32 * 0.01).sin() * 0.1).collect();
        let (values, n) = musicnn_patches(&y, MUSICNN_PATCH_FRAMES).unwrap();
        assert_eq!(n, 10);
        assert_eq!(values.len(), 10 * MUSICNN_PATCH_FRAMES * MUSICNN_MELS);
        assert!(values.iter().all(|v| v.is_finite() && *v >= 0.0));
        // One second is repeated to fill a single patch.
        assert_eq!(musicnn_patches(&y[..16_000], MUSICNN_PATCH_FRAMES).unwrap().1, 1);
        assert!(musicnn_patches(&[], 187).is_err());
    }
}
