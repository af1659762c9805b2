//! Audio to tags: load a file at the tagger's own sample rate, cut it into
//! log-mel patches and run the network (and its genre head) on them.

use std::path::Path;

use genreid_audio::{Blocks, Level, LoadOptions, MonoStream, Signal, Warning, load_bytes};
use genreid_features::musicnn::{
    MUSICNN_SAMPLE_RATE, musicnn_logmel, musicnn_patch_seconds, musicnn_patch_start, musicnn_patches,
};

use super::{N_MELS, PATCH_FRAMES, PatchOutputs, Tagger};

/// STFT hop of musicnn's input (samples at 16 kHz).
const HOP: usize = 256;
/// Seconds of audio per block when tagging a file.
const BLOCK_SECONDS: f64 = 120.0;
use crate::Cancel;
use crate::{ModelError, Result};

/// A tagger's outputs for one track, with where each patch lies in time.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackAnalysis {
    /// Per-patch outputs.
    pub outputs: PatchOutputs,
    /// `(start, end)` of each patch in seconds.
    pub spans: Vec<(f64, f64)>,
    /// Length of the decoded audio in seconds.
    pub duration_seconds: f64,
    /// Level of the audio analysed.
    pub level: Level,
    /// What the decoder noticed.
    pub warnings: Vec<Warning>,
}

/// Patch hop in frames for an overlap in seconds (0 = musicnn's default of
/// back-to-back patches); `time_to_frames(3 - overlap)` as musicnn computes it.
pub fn patch_hop_frames(overlap_seconds: f64) -> Result<usize> {
    let patch = musicnn_patch_seconds();
    if !(overlap_seconds.is_finite() && (0.0..patch).contains(&overlap_seconds)) {
        return Err(ModelError::InvalidInput(format!(
            "patch overlap must lie in [0, {patch:.2}) seconds, got {overlap_seconds}"
        )));
    }
    if overlap_seconds == 0.0 {
        return Ok(PATCH_FRAMES);
    }
    let hop_seconds = 3.0 - overlap_seconds;
    Ok(((hop_seconds * f64::from(MUSICNN_SAMPLE_RATE) / 256.0).floor() as usize).max(1))
}

impl Tagger {
    /// Load options that resample to the network's rate: the rate is
    /// enforced here, never assumed from the file.
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions { sample_rate: Some(self.manifest().input.sample_rate), ..Default::default() }
    }

    /// Tags an audio file of any length with memory that does not grow
    /// with it: the file is decoded and resampled in blocks of about two
    /// minutes with margins of real audio on both sides ([`Blocks`]), and
    /// each block's patches are those the whole file would give (the same
    /// patch grid; the same values up to float rounding). A file up to a
    /// block long is one block: exactly the whole-file computation.
    pub fn analyse_file(&self, path: &Path, hop_frames: usize) -> Result<TrackAnalysis> {
        let max_seconds = self.load_options().max_seconds;
        self.analyse_file_with(path, hop_frames, &Cancel::never(), max_seconds)
    }

    /// [`Self::analyse_file`] reading at most `max_seconds` of audio and
    /// checking `cancel` between blocks and batches of patches.
    pub fn analyse_file_with(
        &self,
        path: &Path,
        hop_frames: usize,
        cancel: &Cancel,
        max_seconds: f64,
    ) -> Result<TrackAnalysis> {
        self.analyse_stream(path, hop_frames, cancel, max_seconds, BLOCK_SECONDS)
            .map_err(|e| ModelError::about(path, e))
    }

    /// [`Self::analyse_file`] with blocks of `block_seconds` (tests use short ones).
    pub fn analyse_blocks(
        &self,
        path: &Path,
        hop_frames: usize,
        block_seconds: f64,
    ) -> Result<TrackAnalysis> {
        let max_seconds = self.load_options().max_seconds;
        self.analyse_stream(path, hop_frames, &Cancel::never(), max_seconds, block_seconds)
    }

    fn analyse_stream(
        &self,
        path: &Path,
        hop_frames: usize,
        cancel: &Cancel,
        max_seconds: f64,
        block_seconds: f64,
    ) -> Result<TrackAnalysis> {
        let bad = |e: genreid_audio::AudioError| ModelError::InvalidInput(e.to_string());
        let rate = self.manifest().input.sample_rate;
        if rate != MUSICNN_SAMPLE_RATE || hop_frames == 0 {
            return Err(ModelError::InvalidInput(format!(
                "cannot stream {rate} Hz patches {hop_frames} frames apart"
            )));
        }
        let stream = MonoStream::open(path).map_err(bad)?;
        // Left: the resampler's and the STFT's reach; right: a whole patch more.
        let margins = (1.0, musicnn_patch_seconds() + 1.5);
        let mut blocks = Blocks::new(stream, rate, HOP, block_seconds, margins, max_seconds).map_err(bad)?;
        let Some(first) = blocks.next_block().map_err(bad)? else {
            return Err(ModelError::InvalidInput("no audio".into()));
        };
        if first.last {
            let mut analysis =
                self.analyse_signal_with(&Signal::new(first.samples, rate), hop_frames, cancel)?;
            analysis.warnings = blocks.warnings();
            return Ok(analysis);
        }
        let (mut outputs, mut next_patch, mut block) = (PatchOutputs::default(), 0usize, first);
        let mut level = Level::default();
        loop {
            cancel.check()?;
            level.add(block.core());
            let logmel =
                musicnn_logmel(&block.samples).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
            let base = block.start / HOP;
            // Frames of the whole signal, known once its end is in sight.
            let total_frames = block.last.then(|| 1 + block.core_end / HOP);
            let mut patches = Vec::new();
            loop {
                let start = next_patch * hop_frames;
                let fits = total_frames.is_none_or(|t| start + PATCH_FRAMES <= t);
                let local = start.checked_sub(base);
                match local {
                    Some(j) if start * HOP < block.core_end && fits && j + PATCH_FRAMES <= logmel.rows => {
                        patches.extend_from_slice(&logmel.data[j * N_MELS..(j + PATCH_FRAMES) * N_MELS]);
                        next_patch += 1;
                    }
                    _ => break,
                }
            }
            if !patches.is_empty() {
                outputs.append(self.run_until(&patches, cancel)?);
            }
            if block.last {
                break;
            }
            block = match blocks.next_block().map_err(bad)? {
                Some(b) => b,
                None => break,
            };
        }
        let duration_seconds = block.core_end as f64 / f64::from(rate);
        if next_patch == 0 {
            return Err(ModelError::InvalidInput("no whole patch in the audio".into()));
        }
        Ok(TrackAnalysis {
            outputs,
            spans: patch_spans(next_patch, hop_frames, duration_seconds),
            duration_seconds,
            level,
            warnings: blocks.warnings(),
        })
    }

    /// Tags encoded audio bytes (an upload); `name` appears in errors.
    pub fn analyse_bytes(&self, name: &str, bytes: Vec<u8>, hop_frames: usize) -> Result<TrackAnalysis> {
        let signal = load_bytes(name, bytes, &self.load_options())
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        self.analyse_signal(&signal, hop_frames)
    }

    /// Tags a decoded signal, which must be at the network's sample rate.
    pub fn analyse_signal(&self, signal: &Signal, hop_frames: usize) -> Result<TrackAnalysis> {
        self.analyse_signal_with(signal, hop_frames, &Cancel::never())
    }

    /// [`Self::analyse_signal`], checking `cancel` between batches of patches.
    pub fn analyse_signal_with(
        &self,
        signal: &Signal,
        hop_frames: usize,
        cancel: &Cancel,
    ) -> Result<TrackAnalysis> {
        let rate = self.manifest().input.sample_rate;
        if signal.sample_rate != rate || rate != MUSICNN_SAMPLE_RATE {
            return Err(ModelError::InvalidInput(format!(
                "audio at {} Hz given to a network trained at {rate} Hz: resample it first",
                signal.sample_rate
            )));
        }
        let (patches, n) = musicnn_patches(&signal.samples, hop_frames)
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        let outputs = self.run_until(&patches, cancel)?;
        let duration_seconds = signal.len() as f64 / f64::from(rate);
        Ok(TrackAnalysis {
            outputs,
            spans: patch_spans(n, hop_frames, duration_seconds),
            duration_seconds,
            level: Level::of(&signal.samples),
            warnings: Vec::new(),
        })
    }
}

/// `(start, end)` in seconds of `n` patches `hop_frames` apart in audio of
/// `duration_seconds`; the timeline ends where the audio does (a patch of
/// short audio, repeated to fill it, ends at the audio's end).
fn patch_spans(n: usize, hop_frames: usize, duration_seconds: f64) -> Vec<(f64, f64)> {
    let length = musicnn_patch_seconds();
    (0..n)
        .map(|i| {
            let start = musicnn_patch_start(i, hop_frames);
            (start, (start + length).min(duration_seconds))
        })
        .collect()
}
