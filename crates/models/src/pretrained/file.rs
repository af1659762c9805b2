//! Tagger model files: a safetensors file whose `genreid` metadata entry is a
//! JSON manifest (architecture, tags, input settings, optional genre head,
//! licence) and whose tensors are the network weights under their original
//! TensorFlow names and layouts. One file is all `classify --model` needs.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::weights::Weights;
use crate::classical::{Classifier, StandardScaler};
use crate::{FORMAT, ModelError, Result};

/// The manifest's key in the safetensors metadata.
pub const MANIFEST_KEY: &str = "genreid";
/// Version of the tagger file layout.
pub const TAGGER_VERSION: u32 = 2;

/// Which network the weights belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// musicnn: timbral/temporal front end, residual mid end, pooled back end.
    Musicnn,
    /// The 5-block VGG baseline.
    Vgg,
}

/// How audio becomes the network input (musicnn's log-mel patches).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogMelInput {
    /// The only sample rate the network accepts (Hz); audio is resampled to it.
    pub sample_rate: u32,
    /// FFT size.
    pub n_fft: usize,
    /// STFT hop (samples).
    pub hop_length: usize,
    /// Mel bands (Slaney scale and norm, 0 Hz to `fmax`).
    pub n_mels: usize,
    /// Upper edge of the mel filterbank (Hz).
    pub fmax: f64,
    /// Frames per patch.
    pub patch_frames: usize,
    /// The compression applied to mel power, for people.
    pub compression: String,
}

impl LogMelInput {
    /// Every setting within the bounds the analysis can honour (a crafted
    /// file cannot ask for a 4-GHz resampler or a 2^40-point FFT).
    pub fn validate(&self) -> std::result::Result<(), String> {
        let within = |name: &str, value: usize, range: std::ops::RangeInclusive<usize>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(format!("{name} {value} is outside {}..={}", range.start(), range.end()))
            }
        };
        within("sample_rate", self.sample_rate as usize, 1_000..=384_000)?;
        within("n_fft", self.n_fft, 16..=1 << 16)?;
        within("hop_length", self.hop_length, 1..=self.n_fft)?;
        within("n_mels", self.n_mels, 1..=1024)?;
        within("patch_frames", self.patch_frames, 1..=100_000)?;
        if !(self.fmax.is_finite() && self.fmax > 0.0 && self.fmax <= f64::from(self.sample_rate) / 2.0) {
            return Err(format!("fmax {} Hz is not within (0, sample_rate / 2]", self.fmax));
        }
        Ok(())
    }

    /// musicnn's settings (PORTING.md §2–3).
    pub fn musicnn() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: 512,
            hop_length: 256,
            n_mels: 96,
            fmax: 8_000.0,
            patch_frames: 187,
            compression: "log10(10000 * float16(mel_power) + 1), float32".into(),
        }
    }
}

/// A classifier on per-patch network outputs that turns tags into genres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenreHead {
    /// Genre labels, in probability order.
    pub labels: Vec<String>,
    /// Which per-patch outputs, concatenated, form its input
    /// (`penultimate`, `taggram`, `mean_pool`, `max_pool`).
    pub inputs: Vec<String>,
    /// Standardisation fitted on the training patches.
    pub scaler: StandardScaler,
    /// The classifier.
    pub classifier: Classifier,
    /// How it was trained and evaluated (for people).
    pub provenance: serde_json::Value,
}

/// Everything about a tagger except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaggerManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`TAGGER_VERSION`].
    pub version: u32,
    /// The network.
    pub architecture: Architecture,
    /// Model name (`MSD_musicnn`, ...).
    pub name: String,
    /// Tag labels, in output order.
    pub tags: Vec<String>,
    /// Network input settings.
    pub input: LogMelInput,
    /// Genre classifier on the network's outputs, if trained.
    pub genre_head: Option<GenreHead>,
    /// Licence and attribution of the weights.
    pub licence: String,
    /// Where the weights came from (for people).
    pub provenance: serde_json::Value,
}

/// A tagger file in memory: manifest plus weights.
#[derive(Debug, Clone, PartialEq)]
pub struct TaggerFile {
    /// The manifest.
    pub manifest: TaggerManifest,
    /// The network weights.
    pub weights: Weights,
}

impl TaggerFile {
    /// Serialises to safetensors bytes (tensors sorted by name).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let manifest =
            serde_json::to_string(&self.manifest).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        crate::tensor_file::encode(&self.weights, HashMap::from([(MANIFEST_KEY.to_string(), manifest)]))
    }

    /// Parses and checks safetensors bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |e: String| ModelError::InvalidInput(e);
        let manifest = crate::tensor_file::manifest(bytes, MANIFEST_KEY)?
            .ok_or_else(|| bad("safetensors file without a genreid manifest".into()))?;
        let manifest: TaggerManifest =
            serde_json::from_str(&manifest).map_err(|e| bad(format!("bad genreid manifest ({e})")))?;
        if manifest.format != FORMAT || manifest.version != TAGGER_VERSION {
            return Err(bad(format!(
                "format {:?} version {} is not {FORMAT:?} version {TAGGER_VERSION}",
                manifest.format, manifest.version
            )));
        }
        manifest.input.validate().map_err(|e| bad(format!("input settings: {e}")))?;
        Ok(Self { manifest, weights: crate::tensor_file::decode(bytes)? })
    }

    /// Writes the file atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads and checks a tagger file.
    pub fn load(path: &Path) -> Result<Self> {
        let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        Self::from_bytes(&bytes).map_err(|e| match e {
            ModelError::InvalidInput(reason) => err(reason),
            other => other,
        })
    }
}
