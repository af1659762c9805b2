//! Self-describing model files: one JSON document holding the model family,
//! its parameters, the class labels and the feature settings it was trained
//! with, so `genreid classify --model FILE` needs nothing else.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::classical::{Classifier, StandardScaler};
use crate::{ModelError, Result};

/// The `format` field every genreid model file carries.
pub const FORMAT: &str = "genreid-model";

/// How audio becomes the model's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Feature set name (`gtzan57`, `fma518`).
    pub feature_set: String,
    /// Sample rate the features are computed at (Hz).
    pub sample_rate: u32,
    /// Seconds of audio one prediction covers (the training clips' length).
    pub segment_seconds: f64,
    /// Feature column names, in input order.
    pub columns: Vec<String>,
}

/// A trained classical model with everything needed to apply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// File format version.
    pub version: u32,
    /// Class labels, in probability order.
    pub labels: Vec<String>,
    /// Input preparation.
    pub preprocessing: Preprocessing,
    /// Standardisation fitted on the training rows.
    pub scaler: StandardScaler,
    /// The classifier.
    pub classifier: Classifier,
    /// How it was trained and evaluated (free-form, for people).
    pub provenance: serde_json::Value,
}

impl ModelFile {
    /// Class probabilities for one raw (unstandardised) feature row.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        self.classifier.predict_proba(&self.scaler.transform(row))
    }

    /// Writes the model atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
        let json = serde_json::to_vec(self).map_err(|e| err(e.to_string()))?;
        let tmp = path.with_extension("genreid.tmp");
        std::fs::write(&tmp, json).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }

    /// Reads and checks a model file.
    pub fn load(path: &Path) -> Result<Self> {
        let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let model: Self =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("not a genreid model file ({e})")))?;
        if model.format != FORMAT {
            return Err(err(format!("format {:?} is not {FORMAT:?}", model.format)));
        }
        if model.scaler.mean.len() != model.preprocessing.columns.len() {
            return Err(err("scaler and feature columns disagree".into()));
        }
        Ok(model)
    }
}
