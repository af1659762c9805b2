//! Self-describing model files: one JSON document holding the model family,
//! its parameters, the class labels and the feature settings it was trained
//! with, so `genreid classify --model FILE` needs nothing else.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Classifier, Reducer, StandardScaler};
use crate::{ModelError, Result};

/// The `format` field every genreid model file carries.
pub const FORMAT: &str = "genreid-model";

/// How audio becomes the model's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Feature set name (`gtzan57`, `fma518`).
    pub feature_set: String,
    /// Sample rate the features are computed at (Hz); 0: each file's own.
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
    /// Reduction between scaler and classifier, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reducer: Option<Reducer>,
    /// The classifier.
    pub classifier: Classifier,
    /// How it was trained and evaluated (free-form, for people).
    pub provenance: serde_json::Value,
}

impl ModelFile {
    /// Class probabilities for one raw (unstandardised) feature row.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let row = self.scaler.transform(row);
        match &self.reducer {
            Some(r) => self.classifier.predict_proba(&r.transform(&row)),
            None => self.classifier.predict_proba(&row),
        }
    }

    /// Writes the model atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec(self)
            .map_err(|e| ModelError::File { path: path.to_path_buf(), reason: e.to_string() })?;
        crate::write_atomic(path, &json)
    }

    /// Reads and checks a model file.
    pub fn load(path: &Path) -> Result<Self> {
        let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        Self::from_json(&bytes).map_err(|e| match e {
            ModelError::InvalidInput(reason) => err(reason),
            other => other,
        })
    }

    /// Parses and checks a model from its JSON bytes (an embedded model).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let bad = |reason: String| ModelError::InvalidInput(reason);
        let model: Self =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a genreid model file ({e})")))?;
        if model.format != FORMAT {
            return Err(bad(format!("format {:?} is not {FORMAT:?}", model.format)));
        }
        super::check::check(&model).map_err(bad)?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classical::{ClassifierKind, Params};

    fn tiny_model() -> ModelFile {
        let x = vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![0.1, 0.9], vec![0.9, 0.2]];
        let y = vec![0, 1, 0, 1];
        let scaler = StandardScaler::fit(&x);
        let xs: Vec<Vec<f64>> = x.iter().map(|r| scaler.transform(r)).collect();
        ModelFile {
            format: FORMAT.into(),
            version: 1,
            labels: vec!["a".into(), "b".into()],
            preprocessing: Preprocessing {
                feature_set: "gtzan57".into(),
                sample_rate: 22_050,
                segment_seconds: 30.0,
                columns: vec!["f1".into(), "f2".into()],
            },
            scaler,
            reducer: None,
            classifier: Classifier::fit(ClassifierKind::Logreg, &xs, &y, 2, &Params::new()).unwrap(),
            provenance: serde_json::Value::Null,
        }
    }

    #[test]
    fn saves_and_loads_the_same_predictions() {
        let dir = std::env::temp_dir().join(format!("genreid-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.genreid");
        let model = tiny_model();
        model.save(&path).unwrap();
        let back = ModelFile::load(&path).unwrap();
        assert_eq!(back.predict_proba(&[0.0, 1.0]), model.predict_proba(&[0.0, 1.0]));
        assert!(model.predict_proba(&[0.0, 1.0])[0] > 0.5);
        std::fs::write(&path, b"{\"format\": \"something-else\"}").unwrap();
        let e = ModelFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("m.genreid") && e.contains("not a genreid model"), "{e}");
    }
}
