//! The GTZAN-57 row of a long track computed block by block, in memory
//! that does not grow with the track, and equal to [`crate::gtzan57`] of
//! the whole track up to float rounding.
//!
//! Most of the row is per-frame features averaged over frames, and a frame
//! depends only on its neighbourhood, so each block (with margins of real
//! audio around its core; see `genreid_audio::Blocks`) gives the whole
//! track's frames for its core. Two quantities are the whole track's:
//! the tuning that `chroma_stft` estimates (from every frame's pitch peaks)
//! and the dB floor of the mel spectrogram (`top_db` below its maximum),
//! which MFCC and onset strength use. A first pass ([`Gtzan57Prepass`])
//! gathers them; the second ([`Gtzan57Blocks`]) accumulates the row. Tempo
//! needs the whole onset envelope, which is small (4 bytes a frame).
//!
//! Margins must cover the STFT window plus HPSS's 31-frame median (2 s is
//! plenty).

use super::{BlockView, HOP, columns};
use crate::chroma::{TuningPeaks, chroma_stft, median_f32};
use crate::db::{DbConfig, power_to_db};
use crate::error::Result;
use crate::hpss::{hpss_spectrogram, istft};
use crate::mel::{MelConfig, MelFilterbank};
use crate::mfcc::mfcc_from_db;
use crate::rhythm::beat_track_onsets;
use crate::spectral::{spectral_bandwidth, spectral_centroid, spectral_rolloff};
use crate::stft::{Stft, StftConfig, magnitude};
use crate::table::mean_var;
use crate::temporal::{rms, zero_crossing_rate};

const N_FFT: usize = 2048;
const TOP_DB: f32 = 80.0;

/// What the whole track decides: its tuning and its mel spectrogram's
/// dB maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gtzan57Globals {
    /// Tuning deviation in fractions of a bin (as `librosa.estimate_tuning`).
    pub tuning: f64,
    /// Largest value of the mel spectrogram in dB (referred to 1.0).
    pub mel_max_db: f32,
}

/// The first pass: pitch peaks of every frame and the mel maximum.
pub struct Gtzan57Prepass {
    sr: f64,
    stft: Stft,
    mel: MelFilterbank,
    /// Every frame's pitch peaks.
    peaks: TuningPeaks,
    mel_max_db: f32,
}

impl Gtzan57Prepass {
    /// A first pass at sample rate `sr`.
    pub fn new(sr: f64) -> Result<Self> {
        Ok(Self {
            sr,
            stft: Stft::new(StftConfig::new(N_FFT, HOP)),
            mel: MelFilterbank::new(&MelConfig::new(sr, N_FFT, 128))?,
            peaks: TuningPeaks::default(),
            mel_max_db: f32::NEG_INFINITY,
        })
    }

    /// Adds a block's core frames.
    pub fn add(&mut self, block: &BlockView<'_>) -> Result<()> {
        let stft = self.stft.complex(block.samples)?;
        let (from, to) = block.core_frames(stft.cols);
        let power = columns(&stft, from, to, |z| {
            let m = magnitude(z);
            m * m
        });
        self.peaks.add(&power, self.sr);
        let mel = self.mel.apply(&power)?;
        let db = power_to_db(&mel, &DbConfig { top_db: None, ..DbConfig::default() });
        self.mel_max_db = self.mel_max_db.max(db.max());
        Ok(())
    }

    /// The whole track's tuning (`estimate_tuning`) and mel maximum.
    pub fn finish(self) -> Gtzan57Globals {
        Gtzan57Globals { tuning: self.peaks.tuning(12), mel_max_db: self.mel_max_db }
    }
}

/// Mean and population variance of many values, merged block by block
/// (Chan et al.'s pairwise update: exact up to rounding, no cancellation).
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn add(&mut self, values: &[f32]) {
        if values.is_empty() {
            return;
        }
        let nb = values.len() as f64;
        let (mb, vb) = mean_var(values);
        let n = self.n + nb;
        let delta = mb - self.mean;
        self.mean += delta * nb / n;
        self.m2 += vb * nb + delta * delta * self.n * nb / n;
        self.n = n;
    }

    fn push(&self, row: &mut Vec<f64>) {
        if self.n == 0.0 {
            row.extend([f64::NAN, f64::NAN]);
        } else {
            row.extend([self.mean, self.m2 / self.n]);
        }
    }
}

/// The second pass: accumulates the row.
pub struct Gtzan57Blocks {
    sr: f64,
    globals: Gtzan57Globals,
    stft: Stft,
    config: StftConfig,
    mel: MelFilterbank,
    /// chroma, rms, centroid, bandwidth, rolloff, zcr, harmonic, percussive, then 20 MFCCs.
    moments: Vec<Moments>,
    /// Spectral flux of frame f against f-1, for every frame f ≥ 1.
    flux: Vec<f32>,
    frames: usize,
}

impl Gtzan57Blocks {
    /// A second pass with the first pass's `globals`.
    pub fn new(sr: f64, globals: Gtzan57Globals) -> Result<Self> {
        let config = StftConfig::new(N_FFT, HOP);
        Ok(Self {
            sr,
            globals,
            stft: Stft::new(config),
            config,
            mel: MelFilterbank::new(&MelConfig::new(sr, N_FFT, 128))?,
            moments: vec![Moments::default(); 28],
            flux: Vec::new(),
            frames: 0,
        })
    }

    /// Adds a block's core.
    pub fn add(&mut self, block: &BlockView<'_>) -> Result<()> {
        let (sr, y) = (self.sr, block.samples);
        let stft = self.stft.complex(y)?;
        let (from, to) = block.core_frames(stft.cols);
        let mag = columns(&stft, from, to, magnitude);
        let power = mag.clone().map(|x| x * x);
        let (chroma, _) = chroma_stft(&power, sr, 12, Some(self.globals.tuning))?;
        self.moments[0].add(&chroma.data);
        self.moments[1].add(&rms(y, N_FFT, HOP).slice_cols(from, to).data);
        let centroid = spectral_centroid(&mag, sr, N_FFT);
        self.moments[2].add(&centroid.data);
        self.moments[3].add(&spectral_bandwidth(&mag, &centroid, sr, N_FFT, 2.0).data);
        self.moments[4].add(&spectral_rolloff(&mag, sr, N_FFT, 0.85).data);
        self.moments[5].add(&zero_crossing_rate(y, N_FFT, HOP).slice_cols(from, to).data);

        let (h, p) = hpss_spectrogram(&stft, 31);
        let (a, b) = (block.core_start - block.start, (block.core_end - block.start).min(y.len()));
        self.moments[6].add(&istft(&h, self.config, y.len())[a..b]);
        self.moments[7].add(&istft(&p, self.config, y.len())[a..b]);
        drop((h, p));

        // The frame before the core too, for the first flux value.
        let lead = usize::from(from > 0);
        let mel_power = if lead == 1 {
            columns(&stft, from - 1, to, |z| {
                let m = magnitude(z);
                m * m
            })
        } else {
            power
        };
        let mut db =
            power_to_db(&self.mel.apply(&mel_power)?, &DbConfig { top_db: None, ..DbConfig::default() });
        let floor = self.globals.mel_max_db - TOP_DB;
        db.data.iter_mut().for_each(|x| *x = x.max(floor));
        for t in 1..db.cols {
            let column: Vec<f32> = (0..db.rows).map(|b| (db.get(b, t) - db.get(b, t - 1)).max(0.0)).collect();
            self.flux.push(median_f32(column));
        }
        let core_db = db.slice_cols(lead, db.cols);
        let mfcc = mfcc_from_db(&core_db, 20)?;
        for k in 0..20 {
            self.moments[8 + k].add(mfcc.row(k));
        }
        self.frames += to - from;
        Ok(())
    }

    /// The 57 features, in [`crate::GTZAN57_COLUMNS`] order.
    pub fn finish(self) -> Vec<f64> {
        let mut row = Vec::with_capacity(57);
        for m in &self.moments[..8] {
            m.push(&mut row);
        }
        // `onset_strength`: flux of frame f lands at f - 1 + pad.
        let pad = 1 + N_FFT / (2 * HOP);
        let mut envelope = vec![0f32; self.frames];
        for (f, &v) in self.flux.iter().enumerate() {
            if let Some(slot) = envelope.get_mut(f + pad) {
                *slot = v;
            }
        }
        row.push(beat_track_onsets(&envelope, self.sr, HOP).0);
        for m in &self.moments[8..] {
            m.push(&mut row);
        }
        row
    }
}
