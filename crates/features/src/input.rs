//! The time-frequency picture a trained network sees: a mel, linear (STFT)
//! or MFCC spectrogram in dB, computed once per track and cut into segments
//! of whole frames, each min-max normalised to `[0, 1]` (seed 000's recipe:
//! `librosa.feature.melspectrogram` with n_fft 2048 and hop 512, then
//! `power_to_db`, then min-max).

use serde::{Deserialize, Serialize};

use crate::db::{DbConfig, DbRef, power_to_db};
use crate::matrix::Matrix;
use crate::mel::{MelConfig, MelFilterbank};
use crate::mfcc::mfcc_from_db;
use crate::stft::{Stft, StftConfig};
use crate::{FeatureError, Result};

/// Which spectrogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    /// Mel power spectrogram in dB (`n_mels` bands).
    Mel,
    /// Linear-frequency power spectrogram in dB (`n_fft / 2 + 1` bins).
    Stft,
    /// MFCCs of the mel spectrogram (`n_mfcc` coefficients).
    Mfcc,
    /// musicnn's input: 96-band mel of 16 kHz audio compressed as
    /// `log10(10000·x + 1)`, not normalised (for fine-tuning musicnn).
    Musicnn,
}

impl std::str::FromStr for InputKind {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mel" => Ok(Self::Mel),
            "stft" => Ok(Self::Stft),
            "mfcc" => Ok(Self::Mfcc),
            "musicnn" => Ok(Self::Musicnn),
            other => Err(FeatureError::InvalidParameter(format!(
                "input {other:?}: expected mel, stft, mfcc or musicnn"
            ))),
        }
    }
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mel => "mel",
            Self::Stft => "stft",
            Self::Mfcc => "mfcc",
            Self::Musicnn => "musicnn",
        })
    }
}

/// Every setting that shapes a network input (part of cache keys and model files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrogramInput {
    /// Which spectrogram.
    pub kind: InputKind,
    /// Sample rate audio is resampled to (Hz).
    pub sample_rate: u32,
    /// FFT size.
    pub n_fft: usize,
    /// Hop between frames (samples).
    pub hop_length: usize,
    /// Mel bands (mel and MFCC inputs).
    pub n_mels: usize,
    /// Coefficients (MFCC input).
    pub n_mfcc: usize,
}

impl SpectrogramInput {
    /// Seed 000's settings: 22,050 Hz, n_fft 2048, hop 512, 128 mel bands, 20 MFCCs.
    pub fn new(kind: InputKind) -> Self {
        if kind == InputKind::Musicnn {
            return Self::musicnn();
        }
        Self { kind, sample_rate: 22_050, n_fft: 2048, hop_length: 512, n_mels: 128, n_mfcc: 20 }
    }

    /// musicnn's input settings (16 kHz, STFT 512/256, 96 bands; PORTING.md §2–3).
    pub fn musicnn() -> Self {
        Self {
            kind: InputKind::Musicnn,
            sample_rate: crate::musicnn::MUSICNN_SAMPLE_RATE,
            n_fft: 512,
            hop_length: 256,
            n_mels: crate::musicnn::MUSICNN_MELS,
            n_mfcc: 20,
        }
    }

    /// Whether segments are min-max normalised (every kind but musicnn's,
    /// whose network normalises its own input).
    pub fn normalized(&self) -> bool {
        self.kind != InputKind::Musicnn
    }

    /// Rows of the picture (frequency bins, bands or coefficients).
    pub fn bins(&self) -> usize {
        match self.kind {
            InputKind::Mel | InputKind::Musicnn => self.n_mels,
            InputKind::Stft => self.n_fft / 2 + 1,
            InputKind::Mfcc => self.n_mfcc,
        }
    }

    /// Frames of a segment of `seconds`: what librosa gives for a snippet that
    /// long (`1 + ⌊samples / hop⌋`, centred frames), e.g. 130 for 3 s, 1292 for 30 s.
    pub fn segment_frames(&self, seconds: f64) -> usize {
        1 + self.hop_frames(seconds)
    }

    /// Frames between the starts of consecutive segments `seconds` apart.
    pub fn hop_frames(&self, seconds: f64) -> usize {
        ((seconds * f64::from(self.sample_rate)).round() as usize / self.hop_length).max(1)
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(FeatureError::InvalidParameter(m));
        if !(1_000..=384_000).contains(&self.sample_rate)
            || !(16..=1 << 16).contains(&self.n_fft)
            || !(1..=1 << 16).contains(&self.hop_length)
            || self.n_mels > 1024
        {
            return bad(format!(
                "spectrogram settings out of range: rate {} (1000..=384000 Hz), n_fft {} (16..=65536), hop {} (1..=65536), n_mels {} (at most 1024)",
                self.sample_rate, self.n_fft, self.hop_length, self.n_mels
            ));
        }
        if self.kind != InputKind::Stft && self.n_mels == 0 {
            return bad("n_mels must be positive".into());
        }
        if self.kind == InputKind::Musicnn && *self != Self::musicnn() {
            return bad("musicnn input has fixed settings (16 kHz, n_fft 512, hop 256, 96 bands)".into());
        }
        if self.kind == InputKind::Mfcc && !(1..=self.n_mels).contains(&self.n_mfcc) {
            return bad(format!("n_mfcc must lie in 1..={}", self.n_mels));
        }
        Ok(())
    }

    /// The whole track's picture in dB, `[bins, frames]` (not yet normalised;
    /// see [`normalize_segment`]). Power is referred to 1.0 without a floor, so
    /// that cutting segments later gives the same values as cutting first.
    pub fn compute(&self, y: &[f32]) -> Result<Matrix> {
        self.validate()?;
        if self.kind == InputKind::Musicnn {
            let time_major = crate::musicnn::musicnn_logmel(y)?;
            let (frames, bins) = (time_major.rows, time_major.cols);
            let mut out = Matrix::zeros(bins, frames);
            crate::matrix::transpose(&time_major.data, frames, bins, &mut out.data);
            return Ok(out);
        }
        let stft = StftConfig::new(self.n_fft, self.hop_length);
        let power = Stft::new(stft).spectrogram(y, 2.0)?;
        let absolute = DbConfig { reference: DbRef::Value(1.0), amin: 1e-10, top_db: None };
        match self.kind {
            InputKind::Stft => Ok(power_to_db(&power, &absolute)),
            InputKind::Mel | InputKind::Mfcc | InputKind::Musicnn => {
                let sr = f64::from(self.sample_rate);
                let mel = MelFilterbank::new(&MelConfig::new(sr, self.n_fft, self.n_mels))?.apply(&power)?;
                if self.kind == InputKind::Mel {
                    Ok(power_to_db(&mel, &absolute))
                } else {
                    mfcc_from_db(&power_to_db(&mel, &DbConfig::default()), self.n_mfcc)
                }
            }
        }
    }
}

/// Min-max normalises one segment in place to `[0, 1]` (all zeros when flat).
pub fn normalize_segment(values: &mut [f32]) {
    let (lo, hi) = values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    let range = hi - lo;
    if range > 0.0 && range.is_finite() {
        values.iter_mut().for_each(|v| *v = (*v - lo) / range);
    } else {
        values.iter_mut().for_each(|v| *v = 0.0);
    }
}

/// Copies frames `start..start + frames` of a time-major picture
/// (`[frames_total, bins]`) into `out`, repeating the picture from its start
/// when the track is shorter (GTZAN's few short clips, 1-s inputs), then
/// min-max normalises it when `normalize` (see [`SpectrogramInput::normalized`]).
pub fn cut_segment(
    time_major: &[f32],
    bins: usize,
    start: usize,
    frames: usize,
    normalize: bool,
    out: &mut Vec<f32>,
) {
    out.clear();
    let total = time_major.len() / bins.max(1);
    if total == 0 {
        out.resize(frames * bins, 0.0);
        return;
    }
    for f in 0..frames {
        let src = (start + f) % total;
        out.extend_from_slice(&time_major[src * bins..(src + 1) * bins]);
    }
    if normalize {
        normalize_segment(out);
    }
}

/// Segment start frames over a track of `total` frames: every `hop` frames
/// while a whole segment fits, and at least one.
pub fn segment_starts(total: usize, frames: usize, hop: usize) -> Vec<usize> {
    if total <= frames {
        return vec![0];
    }
    (0..=(total - frames)).step_by(hop.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_match_librosa_snippets() {
        let s = SpectrogramInput::new(InputKind::Mel);
        assert_eq!(s.segment_frames(3.0), 130);
        assert_eq!(s.segment_frames(30.0), 1292);
        assert_eq!(s.segment_frames(10.0), 431);
        assert_eq!(s.hop_frames(3.0), 129);
    }

    #[test]
    fn segments_cover_and_short_tracks_repeat() {
        assert_eq!(segment_starts(1293, 1292, 1291), vec![0]);
        assert_eq!(segment_starts(400, 130, 129), vec![0, 129, 258]);
        assert_eq!(segment_starts(100, 130, 129), vec![0]);
        let pic: Vec<f32> = (0..6).map(|v| v as f32).collect(); // 3 frames × 2 bins
        let mut out = Vec::new();
        cut_segment(&pic, 2, 0, 4, true, &mut out);
        assert_eq!(out.len(), 8);
        assert_eq!(out[6], 0.0); // frame 3 repeats frame 0
        assert!((out[5] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn shapes_per_kind() {
        let y: Vec<f32> = (0..22_050).map(|i| (i as f32 * 0.03).sin()).collect();
        for (kind, bins) in [(InputKind::Mel, 128), (InputKind::Stft, 1025), (InputKind::Mfcc, 20)] {
            let m = SpectrogramInput::new(kind).compute(&y).unwrap();
            assert_eq!(m.shape(), [bins, 44]);
            assert!(m.data.iter().all(|v| v.is_finite()));
        }
    }
}
