//! Audio to tags: load a file at the tagger's own sample rate, cut it into
//! log-mel patches and run the network (and its genre head) on them.

use std::path::Path;

use genreid_audio::{LoadOptions, Signal, load, load_bytes};
use genreid_features::musicnn::{
    MUSICNN_SAMPLE_RATE, musicnn_patch_seconds, musicnn_patch_start, musicnn_patches,
};

use super::{PATCH_FRAMES, PatchOutputs, Tagger};
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

    /// Tags an audio file.
    pub fn analyse_file(&self, path: &Path, hop_frames: usize) -> Result<TrackAnalysis> {
        let signal = load(path, &self.load_options()).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        self.analyse_signal(&signal, hop_frames)
            .map_err(|e| ModelError::File { path: path.to_path_buf(), reason: e.to_string() })
    }

    /// Tags encoded audio bytes (an upload); `name` appears in errors.
    pub fn analyse_bytes(&self, name: &str, bytes: Vec<u8>, hop_frames: usize) -> Result<TrackAnalysis> {
        let signal = load_bytes(name, bytes, &self.load_options())
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        self.analyse_signal(&signal, hop_frames)
    }

    /// Tags a decoded signal, which must be at the network's sample rate.
    pub fn analyse_signal(&self, signal: &Signal, hop_frames: usize) -> Result<TrackAnalysis> {
        let rate = self.manifest().input.sample_rate;
        if signal.sample_rate != rate || rate != MUSICNN_SAMPLE_RATE {
            return Err(ModelError::InvalidInput(format!(
                "audio at {} Hz given to a network trained at {rate} Hz: resample it first",
                signal.sample_rate
            )));
        }
        let (patches, n) = musicnn_patches(&signal.samples, hop_frames)
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        let outputs = self.run(&patches)?;
        let duration_seconds = signal.len() as f64 / f64::from(rate);
        let length = musicnn_patch_seconds();
        let spans = (0..n)
            .map(|i| {
                let start = musicnn_patch_start(i, hop_frames);
                (start, (start + length).min(duration_seconds.max(length)))
            })
            .collect();
        Ok(TrackAnalysis { outputs, spans, duration_seconds })
    }
}
