//! The FMA-518 row of a long track, block by block.
//!
//! The first pass ([`Fma518Prepass`]) gathers the pitch peaks behind the
//! two estimated tunings (the CQT's, on the magnitude STFT at the track's
//! rate; chroma_stft's, on the power STFT at the assumed 22,050 Hz) and the
//! mel maximum. The second ([`Fma518Blocks`]) computes each block's frames
//! with those and keeps its core's: the seven statistics include the
//! median, so every frame's 74 values are kept until the end.
//!
//! A block's CQT halves its samples octave by octave; the margins
//! ([`FMA518_MARGIN_SECONDS`]) cover the longest CQT filter (about half a
//! second at C1), the resampler's filters, and chroma_cens's 41-frame
//! smoothing, so a core frame sees what it would see in the whole track.

use super::{BlockView, HOP, columns};
use crate::chroma::TuningPeaks;
use crate::db::{DbConfig, power_to_db};
use crate::error::Result;
use crate::mel::{MelConfig, MelFilterbank};
use crate::stft::{Stft, StftConfig, magnitude};
use crate::table::{FMA_ASSUMED_SR, Fma518Globals, fma518_frames, fma518_row};

const N_FFT: usize = 2048;

/// Margins a block needs on each side for FMA-518 (see the module notes).
pub const FMA518_MARGIN_SECONDS: f64 = 4.0;

/// The first pass: pitch peaks of every frame, twice, and the mel maximum.
pub struct Fma518Prepass {
    sr: f64,
    stft: Stft,
    mel: MelFilterbank,
    cqt_peaks: TuningPeaks,
    chroma_peaks: TuningPeaks,
    mel_max_db: f32,
}

impl Fma518Prepass {
    /// A first pass at sample rate `sr`.
    pub fn new(sr: f64) -> Result<Self> {
        Ok(Self {
            sr,
            stft: Stft::new(StftConfig::new(N_FFT, HOP)),
            mel: MelFilterbank::new(&MelConfig::new(sr, N_FFT, 128))?,
            cqt_peaks: TuningPeaks::default(),
            chroma_peaks: TuningPeaks::default(),
            mel_max_db: f32::NEG_INFINITY,
        })
    }

    /// Adds a block's core frames.
    pub fn add(&mut self, block: &BlockView<'_>) -> Result<()> {
        let stft = self.stft.complex(block.samples)?;
        let (from, to) = block.core_frames(stft.cols);
        let mag = columns(&stft, from, to, magnitude);
        drop(stft);
        self.cqt_peaks.add(&mag, self.sr);
        let power = mag.map(|x| x * x);
        self.chroma_peaks.add(&power, FMA_ASSUMED_SR);
        let mel = self.mel.apply(&power)?;
        let db = power_to_db(&mel, &DbConfig { top_db: None, ..DbConfig::default() });
        self.mel_max_db = self.mel_max_db.max(db.max());
        Ok(())
    }

    /// The whole track's tunings and mel maximum.
    pub fn finish(self) -> Fma518Globals {
        Fma518Globals {
            cqt_tuning: self.cqt_peaks.tuning(12),
            chroma_tuning: self.chroma_peaks.tuning(12),
            mel_max_db: self.mel_max_db,
        }
    }
}

/// The second pass: every core frame's 74 values.
pub struct Fma518Blocks {
    sr: f64,
    globals: Fma518Globals,
    /// The 74 per-frame rows in FMA's group order, frames appended block by block.
    rows: Vec<Vec<f32>>,
}

impl Fma518Blocks {
    /// A second pass with the first pass's `globals`.
    pub fn new(sr: f64, globals: Fma518Globals) -> Self {
        Self { sr, globals, rows: Vec::new() }
    }

    /// Adds a block's core frames.
    pub fn add(&mut self, block: &BlockView<'_>) -> Result<()> {
        let groups = fma518_frames(block.samples, self.sr, Some(&self.globals))?;
        let per_frame = groups.iter().flat_map(|m| (0..m.rows).map(move |r| (m, r)));
        if self.rows.is_empty() {
            self.rows = vec![Vec::new(); groups.iter().map(|m| m.rows).sum()];
        }
        for (acc, (m, r)) in self.rows.iter_mut().zip(per_frame) {
            let (from, to) = block.core_frames(m.cols);
            acc.extend_from_slice(&m.row(r)[from..to]);
        }
        Ok(())
    }

    /// The 518 features, in [`crate::fma518_columns`] order.
    pub fn finish(self) -> Vec<f64> {
        fma518_row(self.rows.iter().map(Vec::as_slice))
    }
}
