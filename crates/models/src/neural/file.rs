//! Network model files: safetensors with the weights under their module
//! paths and a manifest (architecture, labels, input settings, segment
//! length, provenance) in the metadata under [`NETWORK_KEY`].

use std::collections::HashMap;
use std::path::Path;

use genreid_features::SpectrogramInput;
use serde::{Deserialize, Serialize};

use super::ArchitectureSpec;
use crate::tensor_file::Weights;
use crate::{FORMAT, ModelError, Result};

/// The manifest's key in the safetensors metadata.
pub const NETWORK_KEY: &str = "genreid-network";
/// Version of the network file layout.
pub const NETWORK_VERSION: u32 = 1;

/// Everything about a trained network except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`NETWORK_VERSION`].
    pub version: u32,
    /// The network.
    pub architecture: ArchitectureSpec,
    /// Class labels, in output order.
    pub labels: Vec<String>,
    /// How audio becomes the network's input.
    pub input: SpectrogramInput,
    /// Seconds of audio per segment.
    pub segment_seconds: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// How it was trained and evaluated (for people).
    pub provenance: serde_json::Value,
}

/// A network file in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkFile {
    /// The manifest.
    pub manifest: NetworkManifest,
    /// Weights by module path.
    pub weights: Weights,
}

impl NetworkFile {
    /// Serialises to safetensors bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let manifest =
            serde_json::to_string(&self.manifest).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        crate::tensor_file::encode(&self.weights, HashMap::from([(NETWORK_KEY.to_string(), manifest)]))
    }

    /// Parses safetensors bytes, if they hold a network (`Ok(None)`: another kind of file).
    pub fn from_bytes(bytes: &[u8]) -> Result<Option<Self>> {
        let bad = |e: String| ModelError::InvalidInput(e);
        let Some(manifest) = crate::tensor_file::manifest(bytes, NETWORK_KEY)? else { return Ok(None) };
        let manifest: NetworkManifest =
            serde_json::from_str(&manifest).map_err(|e| bad(format!("bad network manifest ({e})")))?;
        if manifest.format != FORMAT || manifest.version != NETWORK_VERSION {
            return Err(bad(format!(
                "format {:?} version {} is not {FORMAT:?} network version {NETWORK_VERSION}",
                manifest.format, manifest.version
            )));
        }
        manifest.input.validate().map_err(|e| bad(e.to_string()))?;
        if manifest.labels.len() < 2 {
            return Err(bad("a network file needs at least two labels".into()));
        }
        if !(manifest.segment_seconds.is_finite()
            && manifest.segment_seconds > 0.0
            && manifest.segment_seconds <= 3600.0)
        {
            return Err(bad(format!("segment_seconds {} is outside (0, 3600]", manifest.segment_seconds)));
        }
        Ok(Some(Self { manifest, weights: crate::tensor_file::decode(bytes)? }))
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads a network file.
    pub fn load(path: &Path) -> Result<Self> {
        let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        match Self::from_bytes(&bytes) {
            Ok(Some(f)) => Ok(f),
            Ok(None) => Err(err("not a genreid network file".into())),
            Err(ModelError::InvalidInput(reason)) => Err(err(reason)),
            Err(other) => Err(other),
        }
    }
}
