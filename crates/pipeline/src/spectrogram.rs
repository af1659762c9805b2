//! One file's spectrogram (STFT, mel, MFCC, chroma, CQT, CQT chroma) in
//! memory that does not grow with the file: the file is read in blocks,
//! and each block's frames go to a sink (a `.npy` writer) or are pooled
//! into a picture's columns ([`spectrogram_picture`]).
//!
//! What depends on the whole track (the maximum that `ref=np.max` dB
//! refers to, MFCC's dB floor, an estimated tuning) comes from a first
//! pass over the blocks; a file that fits in one block is computed whole,
//! exactly as librosa would. Block margins cover the STFT window and the
//! CQT's longest filter, so the frames equal the whole file's up to float
//! rounding.

use std::path::Path;

use genreid_audio::{Block, Blocks, LoadOptions, MonoStream, Warning, limits};
use genreid_features::chroma::TuningPeaks;
use genreid_features::table_blocks::FMA518_MARGIN_SECONDS;
use genreid_features::{
    CqtConfig, DbConfig, DbRef, Matrix, MelConfig, MelFilterbank, Stft, StftConfig, amplitude_to_db,
    chroma_stft, cqt_magnitude, mfcc_from_db, power_to_db,
};

use crate::{PipelineError, Result};

/// Which representation to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectrogramKind {
    /// Magnitude STFT `|X|` (`librosa.stft`), `[1 + n_fft/2, frames]`.
    Stft,
    /// Mel power spectrogram (`librosa.feature.melspectrogram`).
    Mel,
    /// MFCCs (`librosa.feature.mfcc`).
    Mfcc,
    /// Chroma from the STFT with estimated tuning (`chroma_stft`).
    Chroma,
    /// Magnitude constant-Q transform (`np.abs(librosa.cqt)`: 84 bins from C1, 12 per octave).
    Cqt,
    /// Chroma from the CQT (`chroma_cqt`: 7 octaves, 36 bins per octave, estimated tuning, hop 512).
    ChromaCqt,
}

/// How a spectrogram is computed; librosa's defaults by [`Default`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrogramOptions {
    /// The representation.
    pub kind: SpectrogramKind,
    /// FFT length (STFT-based kinds).
    pub n_fft: usize,
    /// Hop between frames, in samples (`ChromaCqt` always uses 512, as librosa's `chroma_cqt`).
    pub hop: usize,
    /// Mel bands (mel and MFCC).
    pub n_mels: usize,
    /// MFCC coefficients.
    pub n_mfcc: usize,
    /// STFT, mel or CQT in dB relative to the maximum (`ref=np.max`, `top_db=80`).
    pub db: bool,
    /// Rate to analyse at.
    pub sample_rate: u32,
    /// Longest audio read; longer files are cut there, with a warning.
    pub max_seconds: f64,
    /// Seconds of audio a block holds (plus margins).
    pub block_seconds: f64,
}

impl Default for SpectrogramOptions {
    fn default() -> Self {
        Self {
            kind: SpectrogramKind::Mel,
            n_fft: 2048,
            hop: 512,
            n_mels: 128,
            n_mfcc: 20,
            db: false,
            sample_rate: genreid_audio::DEFAULT_SAMPLE_RATE,
            max_seconds: LoadOptions::default().max_seconds,
            block_seconds: 30.0,
        }
    }
}

/// Largest FFT length (about 3 s at 22,050 Hz).
pub const MAX_N_FFT: usize = 65_536;

impl SpectrogramOptions {
    /// Checks the options before any file is read; each error names the option.
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(PipelineError::Invalid(m));
        limits::check_target_rate(self.sample_rate)
            .map_err(|e| PipelineError::Invalid(format!("--sr: {e}")))?;
        if !(16..=MAX_N_FFT).contains(&self.n_fft) {
            return invalid(format!("--n-fft must be within 16 to {MAX_N_FFT}, got {}", self.n_fft));
        }
        if !(1..=MAX_N_FFT).contains(&self.hop) {
            return invalid(format!("--hop must be within 1 to {MAX_N_FFT}, got {}", self.hop));
        }
        let bins = self.n_fft / 2 + 1;
        let mel = matches!(self.kind, SpectrogramKind::Mel | SpectrogramKind::Mfcc);
        if mel && !(1..=bins).contains(&self.n_mels) {
            return invalid(format!(
                "--n-mels must be within 1 to {bins} (n_fft / 2 + 1), got {}",
                self.n_mels
            ));
        }
        if self.kind == SpectrogramKind::Mfcc && !(1..=self.n_mels).contains(&self.n_mfcc) {
            return invalid(format!(
                "--n-mfcc must be within 1 to --n-mels ({}), got {}",
                self.n_mels, self.n_mfcc
            ));
        }
        if !(self.max_seconds > 0.0 && self.block_seconds > 0.0) {
            return invalid("the length limit and the block length must be positive".into());
        }
        Ok(())
    }

    /// Samples between frames.
    pub fn frame_hop(&self) -> usize {
        match self.kind {
            SpectrogramKind::ChromaCqt => 512,
            _ => self.hop,
        }
    }

    /// The y axis and the unit of values, for a picture.
    pub fn labels(&self) -> (&'static str, &'static str) {
        use SpectrogramKind::*;
        match (self.kind, self.db) {
            (Stft, true) | (Mel, true) | (Cqt, true) => (self.y_label(), "dB"),
            (Stft, false) | (Cqt, false) => (self.y_label(), "magnitude"),
            (Mel, false) => (self.y_label(), "power"),
            (Mfcc, _) => (self.y_label(), "coefficient"),
            (Chroma, _) | (ChromaCqt, _) => (self.y_label(), "chroma"),
        }
    }

    fn y_label(&self) -> &'static str {
        match self.kind {
            SpectrogramKind::Stft => "Frequency bin",
            SpectrogramKind::Mel => "Mel band",
            SpectrogramKind::Mfcc => "MFCC",
            SpectrogramKind::Chroma | SpectrogramKind::ChromaCqt => "Pitch class (C at bottom)",
            SpectrogramKind::Cqt => "CQT bin (C1 at bottom)",
        }
    }

    /// Whether the frames depend on the whole track (a first pass is needed).
    fn needs_prepass(&self) -> bool {
        use SpectrogramKind::*;
        match self.kind {
            Mfcc | Chroma | ChromaCqt => true,
            Stft | Mel | Cqt => self.db,
        }
    }

    fn margin_seconds(&self) -> f64 {
        let window = self.n_fft as f64 / f64::from(self.sample_rate);
        match self.kind {
            SpectrogramKind::Cqt | SpectrogramKind::ChromaCqt => FMA518_MARGIN_SECONDS,
            _ => window.max(0.1),
        }
    }
}

/// What the whole track decides.
#[derive(Debug, Clone, Copy, Default)]
struct Globals {
    /// Largest value before dB (magnitude, mel power or CQT magnitude).
    max: f32,
    /// Estimated tuning, in fractions of a bin.
    tuning: f64,
}

/// The frames of one block, or of the whole signal when `globals` is `None`.
struct Computer<'a> {
    options: &'a SpectrogramOptions,
    sr: f64,
    stft: Stft,
    mel: MelFilterbank,
}

impl<'a> Computer<'a> {
    fn new(options: &'a SpectrogramOptions) -> Result<Self> {
        let sr = f64::from(options.sample_rate);
        Ok(Self {
            options,
            sr,
            stft: Stft::new(StftConfig::new(options.n_fft, options.hop)),
            mel: MelFilterbank::new(&MelConfig::new(sr, options.n_fft, options.n_mels.max(1)))?,
        })
    }

    /// The representation before any whole-track step: magnitude, mel
    /// power, CQT magnitude (MFCC: mel power; chroma: power STFT).
    fn raw(&self, y: &[f32], tuning: Option<f64>) -> Result<Matrix> {
        use SpectrogramKind::*;
        Ok(match self.options.kind {
            Stft => self.stft.spectrogram(y, 1.0)?,
            Mel | Mfcc => self.mel.apply(&self.stft.spectrogram(y, 2.0)?)?,
            Chroma => self.stft.spectrogram(y, 2.0)?,
            Cqt => cqt_magnitude(
                y,
                self.sr,
                &CqtConfig { hop_length: self.options.hop, ..CqtConfig::default() },
            )?,
            ChromaCqt => {
                let config =
                    CqtConfig { n_bins: 7 * 36, bins_per_octave: 36, tuning, ..CqtConfig::default() };
                cqt_magnitude(y, self.sr, &config)?
            }
        })
    }

    /// The finished frames; `None` decides the whole-track quantities from `y`.
    fn frames(&self, y: &[f32], globals: Option<Globals>) -> Result<Matrix> {
        use SpectrogramKind::*;
        let raw = self.raw(y, globals.map(|g| g.tuning))?;
        let db = |m: &Matrix, amplitude: bool| {
            let floor = -TOP_DB;
            match (globals, amplitude) {
                (None, true) => amplitude_to_db(m, DbRef::Max, Some(TOP_DB)),
                (None, false) => power_to_db(m, &DbConfig::ref_max()),
                (Some(g), amplitude) => {
                    let mut out = if amplitude {
                        amplitude_to_db(m, DbRef::Value(g.max), None)
                    } else {
                        power_to_db(
                            m,
                            &DbConfig { reference: DbRef::Value(g.max), top_db: None, ..DbConfig::default() },
                        )
                    };
                    out.data.iter_mut().for_each(|x| *x = x.max(floor));
                    out
                }
            }
        };
        Ok(match self.options.kind {
            Stft | Cqt if self.options.db => db(&raw, true),
            Mel if self.options.db => db(&raw, false),
            Stft | Mel | Cqt => raw,
            Mfcc => {
                let db = match globals {
                    None => power_to_db(&raw, &DbConfig::default()),
                    Some(g) => {
                        let mut db = power_to_db(&raw, &DbConfig { top_db: None, ..DbConfig::default() });
                        let floor = mel_db(g.max) - TOP_DB;
                        db.data.iter_mut().for_each(|x| *x = x.max(floor));
                        db
                    }
                };
                mfcc_from_db(&db, self.options.n_mfcc)?
            }
            Chroma => chroma_stft(&raw, self.sr, 12, globals.map(|g| g.tuning))?.0,
            ChromaCqt => genreid_features::cqt::chroma_from_cqt(&raw, 36),
        })
    }
}

const TOP_DB: f32 = 80.0;

/// A mel power in dB referred to 1.0, rounded as `power_to_db` rounds it.
fn mel_db(power: f32) -> f32 {
    power_to_db(&Matrix::from_vec(1, 1, vec![power]), &DbConfig { top_db: None, ..DbConfig::default() }).data
        [0]
}

/// What a spectrogram run read and produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrogramSummary {
    /// Rows of every frame.
    pub rows: usize,
    /// Frames produced.
    pub frames: usize,
    /// Seconds between frames.
    pub seconds_per_frame: f64,
    /// What the decoder noticed, and a cut at the length limit.
    pub warnings: Vec<Warning>,
}

fn bad(path: &Path) -> impl Fn(genreid_audio::AudioError) -> PipelineError + '_ {
    move |e| PipelineError::Invalid(format!("{}: {e}", path.display()))
}

/// Computes the spectrogram of `path`, handing `sink` its frames in time
/// order, a block's worth (`[rows, frames]`) at a time.
pub fn spectrogram_frames(
    path: &Path,
    options: &SpectrogramOptions,
    mut sink: impl FnMut(&Matrix) -> Result<()>,
) -> Result<SpectrogramSummary> {
    options.validate()?;
    let computer = Computer::new(options)?;
    let hop = options.frame_hop();
    let open = || {
        let stream = MonoStream::open(path).map_err(bad(path))?;
        let margin = options.margin_seconds();
        Blocks::new(
            stream,
            options.sample_rate,
            hop,
            options.block_seconds,
            (margin, margin),
            options.max_seconds,
        )
        .map_err(bad(path))
    };
    let mut blocks = open()?;
    let Some(first) = blocks.next_block().map_err(bad(path))? else {
        return Err(PipelineError::Invalid(format!("{}: no audio samples", path.display())));
    };
    let summary = |rows, frames, blocks: &Blocks| SpectrogramSummary {
        rows,
        frames,
        seconds_per_frame: hop as f64 / f64::from(options.sample_rate),
        warnings: blocks.warnings(),
    };
    let with_path = |e: PipelineError| PipelineError::Invalid(format!("{}: {e}", path.display()));
    if first.last {
        let m = computer.frames(&first.samples, None).map_err(with_path)?;
        sink(&m)?;
        return Ok(summary(m.rows, m.cols, &blocks));
    }
    let globals = if options.needs_prepass() {
        let mut prepass = Prepass::new(options);
        let mut block = first;
        loop {
            prepass.add(&computer, &block).map_err(with_path)?;
            if block.last {
                break;
            }
            match blocks.next_block().map_err(bad(path))? {
                Some(b) => block = b,
                None => break,
            }
        }
        blocks = open()?;
        let Some(again) = blocks.next_block().map_err(bad(path))? else {
            return Err(PipelineError::Invalid(format!("{}: the file changed while read", path.display())));
        };
        (prepass.finish(), again)
    } else {
        (Globals::default(), first)
    };
    let (globals, mut block) = globals;
    let (mut rows, mut frames) = (0, 0);
    loop {
        let m = computer.frames(&block.samples, Some(globals)).map_err(with_path)?;
        let (from, to) = core_frames(&block, hop, m.cols);
        let core = m.slice_cols(from, to);
        rows = rows.max(core.rows);
        frames += core.cols;
        sink(&core)?;
        if block.last {
            break;
        }
        match blocks.next_block().map_err(bad(path))? {
            Some(b) => block = b,
            None => break,
        }
    }
    Ok(summary(rows, frames, &blocks))
}

/// A block's frames that belong to its core, as local `(first, end)`.
fn core_frames(block: &Block, hop: usize, frames: usize) -> (usize, usize) {
    let first = (block.core_start - block.start) / hop;
    let end = if block.last { frames } else { (block.core_end - block.start).div_ceil(hop) };
    (first.min(frames), end.min(frames))
}

/// The first pass: the maximum, or an estimated tuning's pitch peaks.
struct Prepass {
    kind: SpectrogramKind,
    max: f32,
    peaks: TuningPeaks,
    tuning_stft: Stft,
}

impl Prepass {
    fn new(options: &SpectrogramOptions) -> Self {
        Self {
            kind: options.kind,
            max: f32::NEG_INFINITY,
            peaks: TuningPeaks::default(),
            // `estimate_tuning(y=…)` behind chroma_cqt: n_fft 2048, hop 512.
            tuning_stft: Stft::new(StftConfig::new(2048, 512)),
        }
    }

    fn add(&mut self, computer: &Computer<'_>, block: &Block) -> Result<()> {
        let hop = computer.options.frame_hop();
        match self.kind {
            SpectrogramKind::Chroma => {
                let power = computer.raw(&block.samples, None)?;
                let (from, to) = core_frames(block, hop, power.cols);
                self.peaks.add(&power.slice_cols(from, to), computer.sr);
            }
            SpectrogramKind::ChromaCqt => {
                let mag = self.tuning_stft.spectrogram(&block.samples, 1.0)?;
                let (from, to) = core_frames(block, 512, mag.cols);
                self.peaks.add(&mag.slice_cols(from, to), computer.sr);
            }
            SpectrogramKind::Stft | SpectrogramKind::Mel | SpectrogramKind::Mfcc | SpectrogramKind::Cqt => {
                let raw = computer.raw(&block.samples, None)?;
                let (from, to) = core_frames(block, hop, raw.cols);
                self.max = self.max.max(raw.slice_cols(from, to).max());
            }
        }
        Ok(())
    }

    fn finish(self) -> Globals {
        let tuning = match self.kind {
            SpectrogramKind::Chroma => self.peaks.tuning(12),
            SpectrogramKind::ChromaCqt => self.peaks.tuning(36),
            _ => 0.0,
        };
        Globals { max: self.max, tuning }
    }
}

/// Columns a picture keeps before pooling neighbours (a file's frames
/// beyond this are averaged in pairs, again and again; the picture
/// averages down to a few hundred columns anyway).
pub const PICTURE_COLUMNS: usize = 16_384;

/// A picture's worth of the spectrogram of `path`: at most
/// [`PICTURE_COLUMNS`] columns, each the mean of the frames it stands
/// for, and the seconds a column stands for.
pub fn spectrogram_picture(
    path: &Path,
    options: &SpectrogramOptions,
) -> Result<(Matrix, f64, SpectrogramSummary)> {
    let mut pooled = Pooled::new(PICTURE_COLUMNS);
    let summary = spectrogram_frames(path, options, |m| {
        pooled.add(m);
        Ok(())
    })?;
    let (matrix, per_column) = pooled.finish();
    let seconds = summary.seconds_per_frame * per_column as f64;
    Ok((matrix, seconds, summary))
}

/// Frames averaged into at most `cap` columns of equal width (the last may
/// be narrower), the width doubling whenever the columns would overflow.
struct Pooled {
    cap: usize,
    rows: usize,
    /// Sums of each column, column after column.
    sums: Vec<f64>,
    counts: Vec<usize>,
    width: usize,
}

impl Pooled {
    fn new(cap: usize) -> Self {
        Self { cap: cap.max(2), rows: 0, sums: Vec::new(), counts: Vec::new(), width: 1 }
    }

    fn add(&mut self, m: &Matrix) {
        self.rows = m.rows;
        for t in 0..m.cols {
            if self.counts.last().is_none_or(|&c| c >= self.width) {
                if self.counts.len() == self.cap {
                    self.halve();
                }
                if self.counts.last().is_none_or(|&c| c >= self.width) {
                    self.counts.push(0);
                    self.sums.extend(std::iter::repeat_n(0.0, m.rows));
                }
            }
            let at = (self.counts.len() - 1) * m.rows;
            for r in 0..m.rows {
                self.sums[at + r] += f64::from(m.get(r, t));
            }
            *self.counts.last_mut().expect("a column") += 1;
        }
    }

    /// Merges neighbouring columns in pairs.
    fn halve(&mut self) {
        let rows = self.rows;
        let n = self.counts.len();
        for k in 0..n.div_ceil(2) {
            let (a, b) = (2 * k, 2 * k + 1);
            let mut count = self.counts[a];
            for r in 0..rows {
                self.sums[k * rows + r] = self.sums[a * rows + r];
            }
            if b < n {
                count += self.counts[b];
                for r in 0..rows {
                    self.sums[k * rows + r] += self.sums[b * rows + r];
                }
            }
            self.counts[k] = count;
        }
        self.counts.truncate(n.div_ceil(2));
        self.sums.truncate(self.counts.len() * rows);
        self.width *= 2;
    }

    /// The `[rows, columns]` means and the frames a full column holds.
    fn finish(self) -> (Matrix, usize) {
        let cols = self.counts.len();
        let mut m = Matrix::zeros(self.rows, cols);
        for (c, &count) in self.counts.iter().enumerate() {
            for r in 0..self.rows {
                m.data[r * cols + c] = (self.sums[c * self.rows + r] / count.max(1) as f64) as f32;
            }
        }
        (m, self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_columns_are_means_of_equal_runs_of_frames() {
        let frames: Vec<f32> = (0..10).map(|x| x as f32).collect();
        let mut pooled = Pooled::new(4);
        // Two blocks, one row each.
        pooled.add(&Matrix::from_vec(1, 3, frames[..3].to_vec()));
        pooled.add(&Matrix::from_vec(1, 7, frames[3..].to_vec()));
        let (m, width) = pooled.finish();
        // 10 frames into at most 4 columns: width 4 → [0..4), [4..8), [8..10).
        assert_eq!(width, 4);
        assert_eq!(m.data, vec![1.5, 5.5, 8.5]);
    }

    #[test]
    fn a_few_frames_are_kept_as_they_are() {
        let mut pooled = Pooled::new(16);
        pooled.add(&Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        let (m, width) = pooled.finish();
        assert_eq!((width, m.rows, m.cols), (1, 2, 3));
        assert_eq!(m.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn unbounded_options_are_refused_naming_the_option() {
        for (options, name) in [
            (SpectrogramOptions { n_fft: 1 << 30, ..Default::default() }, "--n-fft"),
            (SpectrogramOptions { hop: 0, ..Default::default() }, "--hop"),
            (SpectrogramOptions { n_mels: 5000, ..Default::default() }, "--n-mels"),
            (
                SpectrogramOptions { kind: SpectrogramKind::Mfcc, n_mfcc: 500, ..Default::default() },
                "--n-mfcc",
            ),
            (SpectrogramOptions { sample_rate: 10_000_000, ..Default::default() }, "--sr"),
        ] {
            let err = options.validate().unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
