//! Feature-table rows of audio files, read in blocks so that memory does
//! not grow with a file's length (`genreid features` on an hour-long mix).
//!
//! - Segment rows (`--segment`): each segment is computed from its own
//!   samples, cut from blocks whose boundaries fall on the segment hop and
//!   whose right margin holds a whole segment.
//! - Whole-file GTZAN-57 and FMA-518 rows: two passes over the file's
//!   blocks (`genreid_features::table_blocks`), equal to the whole-file row
//!   up to float rounding.
//!
//! A file that fits in one block takes exactly the whole-file computation.

use std::path::Path;

use genreid_audio::{AudioError, Blocks, LoadOptions, MonoStream, Warning, segment_samples};
use genreid_features::table_blocks::{
    BlockView, FMA518_MARGIN_SECONDS, Fma518Blocks, Fma518Prepass, Gtzan57Blocks, Gtzan57Prepass,
};
use genreid_features::{fma518, gtzan57};

use crate::{DataError, Result};

/// Which table a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSet {
    /// The 57 features of GTZAN's `features_30_sec.csv`.
    Gtzan57,
    /// FMA's 518 features.
    Fma518,
}

/// How rows are computed from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOptions {
    /// The table.
    pub set: RowSet,
    /// Rate to analyse at; `None` keeps each file's own.
    pub sample_rate: Option<u32>,
    /// Use only the first seconds of each file.
    pub duration: Option<f64>,
    /// One row per segment: `(length, hop)` in seconds.
    pub segment: Option<(f64, f64)>,
    /// Longest audio read; longer files are cut there, with a warning.
    pub max_seconds: f64,
    /// Seconds of audio a block holds (plus margins).
    pub block_seconds: f64,
}

impl Default for RowOptions {
    fn default() -> Self {
        Self {
            set: RowSet::Gtzan57,
            sample_rate: Some(genreid_audio::DEFAULT_SAMPLE_RATE),
            duration: None,
            segment: None,
            max_seconds: LoadOptions::default().max_seconds,
            block_seconds: 30.0,
        }
    }
}

/// The shortest hop between segments (10 ms: finer than any analysis
/// frame hop, so finer steps repeat rows at a cost without bound).
pub const MIN_SEGMENT_HOP_SECONDS: f64 = 0.01;

/// Most segment rows one file may give (about 55 minutes of 3-s segments
/// at a 1/30-s hop); more is an error for that file, naming the option.
pub const MAX_SEGMENTS_PER_FILE: usize = 100_000;

impl RowOptions {
    /// Checks the options before any file is read, each error naming the
    /// option and its allowed range: the rate within what real audio uses,
    /// the segment no longer than the longest audio read, its hop at least
    /// [`MIN_SEGMENT_HOP_SECONDS`], the duration positive.
    pub fn validate(&self) -> Result<()> {
        let (length, hop) = self.segment.unzip();
        for (what, v) in [
            ("segment length (--segment)", length),
            ("segment hop (--segment-hop)", hop),
            ("duration (--duration)", self.duration),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(DataError::Options(format!(
                    "{what} must be a positive number of seconds, got {v}"
                )));
            }
        }
        if let Some(rate) = self.sample_rate {
            genreid_audio::limits::check_target_rate(rate)
                .map_err(|e| DataError::Options(format!("--sr: {e}")))?;
        }
        if let Some(length) = length
            && length > self.max_seconds
        {
            return Err(DataError::Options(format!(
                "segment length (--segment) {length} s is longer than the longest audio read ({} s)",
                self.max_seconds
            )));
        }
        if let Some(hop) = hop
            && hop < MIN_SEGMENT_HOP_SECONDS
        {
            return Err(DataError::Options(format!(
                "segment hop (--segment-hop) {hop} s is below the shortest allowed, {MIN_SEGMENT_HOP_SECONDS} s"
            )));
        }
        Ok(())
    }
}

/// A file's rows: `(length in samples, features)` each, and what the
/// decoder noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRows {
    /// One row per segment, or one for the whole file.
    pub rows: Vec<(usize, Vec<f64>)>,
    /// Truncation, damage, a cut at the length limit.
    pub warnings: Vec<Warning>,
}

/// GTZAN-57's STFT hop, on which block boundaries fall.
const HOP: usize = 512;
/// GTZAN-57's margins around a block's core: the STFT window and HPSS's
/// median filter.
const GTZAN57_MARGIN_SECONDS: f64 = 2.0;

fn audio(e: AudioError) -> DataError {
    DataError::Audio(e.to_string())
}

fn feature(path: &Path) -> impl Fn(genreid_features::FeatureError) -> DataError + '_ {
    move |e| DataError::Invalid { path: path.to_path_buf(), reason: e.to_string() }
}

/// The rows of `path` following `options`.
pub fn file_rows(path: &Path, options: &RowOptions) -> Result<FileRows> {
    options.validate()?;
    let compute = |y: &[f32], sr: f64| match options.set {
        RowSet::Gtzan57 => gtzan57(y, sr),
        RowSet::Fma518 => fma518(y, sr),
    };
    let limit = options.duration.map_or(options.max_seconds, |d| d.min(options.max_seconds));
    let asked_cut = options.duration.is_some_and(|d| d <= options.max_seconds);
    let keep = |mut warnings: Vec<Warning>| {
        if asked_cut {
            warnings.retain(|w| !matches!(w, Warning::Cut { .. }));
        }
        warnings
    };
    let stream = MonoStream::open(path).map_err(audio)?;
    let rate = options.sample_rate.unwrap_or(stream.sample_rate());
    let sr = f64::from(rate);
    let (align, margins, core) = match options.segment {
        Some((length, hop)) => {
            let hop = ((hop * sr).round() as usize).max(1);
            (hop, (1.0, length + 1.0), options.block_seconds.max(2.0 * length))
        }
        None => {
            let margin = match options.set {
                RowSet::Gtzan57 => GTZAN57_MARGIN_SECONDS,
                RowSet::Fma518 => FMA518_MARGIN_SECONDS,
            };
            (HOP, (margin, margin), options.block_seconds)
        }
    };
    let mut blocks = Blocks::new(stream, rate, align, core, margins, limit).map_err(audio)?;
    let Some(first) = blocks.next_block().map_err(audio)? else {
        return Err(audio(AudioError::NoSamples { path: path.to_path_buf() }));
    };
    if first.last {
        // One block: the file whole, exactly as before.
        let y = first.samples;
        let rows = match options.segment {
            None => vec![(y.len(), compute(&y, sr).map_err(feature(path))?)],
            Some((seconds, hop)) => {
                let (length, hop) = ((seconds * sr).round() as usize, ((hop * sr).round() as usize).max(1));
                check_segment_count(path, y.len().saturating_sub(length) / hop + 1)?;
                segment_samples(&y, length, hop)
                    .map_err(audio)?
                    .iter()
                    .map(|seg| Ok((length, compute(seg, sr).map_err(feature(path))?)))
                    .collect::<Result<_>>()?
            }
        };
        let mut warnings = keep(blocks.warnings());
        if let Some((seconds, _)) = options.segment
            && y.len() < (seconds * sr).round() as usize
        {
            warnings.push(Warning::Padded { audio_seconds: y.len() as f64 / sr, segment_seconds: seconds });
        }
        return Ok(FileRows { rows, warnings });
    }
    match options.segment {
        Some((length, hop)) => {
            let (length, hop) = ((length * sr).round() as usize, ((hop * sr).round() as usize).max(1));
            let mut rows = Vec::new();
            let mut next = 0usize;
            let mut block = first;
            loop {
                let end = block.start + block.samples.len();
                while next < block.core_end && next + length <= end {
                    let y = &block.samples[next - block.start..next - block.start + length];
                    rows.push((length, compute(y, sr).map_err(feature(path))?));
                    check_segment_count(path, rows.len())?;
                    next += hop;
                }
                if block.last {
                    break;
                }
                block = match blocks.next_block().map_err(audio)? {
                    Some(b) => b,
                    None => break,
                };
            }
            Ok(FileRows { rows, warnings: keep(blocks.warnings()) })
        }
        None => {
            // Pass 1 decides what the whole track decides; pass 2 reads the
            // file again and computes the row.
            let reopen = || {
                let stream = MonoStream::open(path).map_err(audio)?;
                Blocks::new(stream, rate, align, core, margins, limit).map_err(audio)
            };
            let (length, warnings, row) = match options.set {
                RowSet::Gtzan57 => {
                    let mut prepass = Gtzan57Prepass::new(sr).map_err(feature(path))?;
                    let (length, warnings) = each_block(path, first, &mut blocks, |b| prepass.add(b))?;
                    let mut row = Gtzan57Blocks::new(sr, prepass.finish()).map_err(feature(path))?;
                    let mut again = reopen()?;
                    if let Some(first) = again.next_block().map_err(audio)? {
                        each_block(path, first, &mut again, |b| row.add(b))?;
                    }
                    (length, warnings, row.finish())
                }
                RowSet::Fma518 => {
                    let mut prepass = Fma518Prepass::new(sr).map_err(feature(path))?;
                    let (length, warnings) = each_block(path, first, &mut blocks, |b| prepass.add(b))?;
                    let mut row = Fma518Blocks::new(sr, prepass.finish());
                    let mut again = reopen()?;
                    if let Some(first) = again.next_block().map_err(audio)? {
                        each_block(path, first, &mut again, |b| row.add(b))?;
                    }
                    (length, warnings, row.finish())
                }
            };
            Ok(FileRows { rows: vec![(length, row)], warnings: keep(warnings) })
        }
    }
}

/// Hands `first` and every later block to `add`; gives the signal's length
/// and what the decoder noticed.
fn each_block(
    path: &Path,
    first: genreid_audio::Block,
    blocks: &mut Blocks,
    mut add: impl FnMut(&BlockView<'_>) -> genreid_features::Result<()>,
) -> Result<(usize, Vec<Warning>)> {
    let mut block = first;
    loop {
        add(&view(&block)).map_err(feature(path))?;
        if block.last {
            break;
        }
        block = match blocks.next_block().map_err(audio)? {
            Some(b) => b,
            None => break,
        };
    }
    Ok((block.core_end, blocks.warnings()))
}

/// A file may give at most [`MAX_SEGMENTS_PER_FILE`] segment rows.
fn check_segment_count(path: &Path, count: usize) -> Result<()> {
    if count <= MAX_SEGMENTS_PER_FILE {
        return Ok(());
    }
    Err(DataError::Invalid {
        path: path.to_path_buf(),
        reason: format!(
            "more than {MAX_SEGMENTS_PER_FILE} segments at this --segment-hop; use a longer hop or --duration"
        ),
    })
}

fn view(block: &genreid_audio::Block) -> BlockView<'_> {
    BlockView {
        samples: &block.samples,
        start: block.start,
        core_start: block.core_start,
        core_end: block.core_end,
        last: block.last,
    }
}
