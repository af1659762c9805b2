//! The registry of models: what `--model` (or `model=` in Python) can name: the built-in ones (embedded in the
//! binary, nothing to download) or a model file on disk, of either kind:
//! a classical model (JSON), a pretrained tagger or a network trained here
//! (both safetensors).

use std::path::Path;

use genreid_models::neural::{self, NetworkFile};
use genreid_models::pretrained::{Tagger, TaggerFile};
use genreid_models::{BUILTIN_MODELS, ModelError, ModelFile, Result};
use sha2::{Digest, Sha256};

/// The model `classify` uses when none is named.
pub const DEFAULT_MODEL: &str = "musicnn-gtzan";

/// A model ready to classify audio.
#[derive(Debug)]
pub enum Model {
    /// A classical model on a feature table's columns.
    Classical(ModelFile),
    /// A pretrained tagger, possibly with a genre head.
    Tagger(Tagger),
    /// A network trained here on spectrogram segments.
    Network(Box<neural::Classifier>),
    /// Several models combined by weighted mean probability and weighted
    /// majority vote (`--model a.genreid,b.genreid:2`).
    Ensemble(Vec<(Model, f64)>),
}

fn from_bytes(bytes: &[u8]) -> Result<Model> {
    if bytes.first() == Some(&b'{') {
        Ok(Model::Classical(ModelFile::from_json(bytes)?))
    } else if let Some(network) = NetworkFile::from_bytes(bytes)? {
        Ok(Model::Network(Box::new(neural::Classifier::new(network)?)))
    } else {
        Ok(Model::Tagger(Tagger::new(TaggerFile::from_bytes(bytes)?)?))
    }
}

/// The built-in model of this name, parsed.
pub fn builtin(name: &str) -> Option<Result<Model>> {
    BUILTIN_MODELS.iter().find(|(n, _, _)| *n == name).map(|(n, _, bytes)| {
        from_bytes(bytes).map_err(|e| ModelError::InvalidInput(format!("built-in model {n} is damaged: {e}")))
    })
}

/// The model `spec` names: a built-in name, else a model file; several,
/// comma-separated with optional `:WEIGHT`s, make an ensemble.
pub fn load_model(spec: Option<&str>) -> Result<Model> {
    let spec = spec.unwrap_or(DEFAULT_MODEL);
    if spec.contains(',') {
        return ensemble(spec);
    }
    load_one(spec)
}

fn ensemble(spec: &str) -> Result<Model> {
    let mut members = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = match part.rsplit_once(':') {
            Some((n, w)) if w.parse::<f64>().is_ok() => (n, w.parse::<f64>().unwrap_or(1.0)),
            _ => (part, 1.0),
        };
        if !(weight > 0.0 && weight.is_finite()) {
            return Err(ModelError::InvalidInput(format!("ensemble member {name}: weight must be positive")));
        }
        members.push((load_one(name)?, weight));
    }
    if members.len() < 2 {
        return Err(ModelError::InvalidInput(format!("ensemble {spec:?} names fewer than two models")));
    }
    let mut first = members[0].0.labels();
    first.sort();
    for (m, _) in &members[1..] {
        let mut labels = m.labels();
        labels.sort();
        if labels != first {
            return Err(ModelError::InvalidInput(format!(
                "ensemble {spec:?}: members disagree on labels ({} vs {})",
                first.join(","),
                labels.join(",")
            )));
        }
    }
    Ok(Model::Ensemble(members))
}

/// The largest model file read (1 GiB; the largest network here is under 100 MB).
const MAX_MODEL_BYTES: u64 = 1 << 30;

fn load_one(spec: &str) -> Result<Model> {
    if let Some(model) = builtin(spec) {
        return model;
    }
    let path = Path::new(spec);
    let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
    if !path.exists() {
        let names: Vec<&str> = BUILTIN_MODELS.iter().map(|(n, _, _)| *n).collect();
        return Err(err(format!("no such model file, and not a built-in model ({})", names.join(", "))));
    }
    let size = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?.len();
    if size > MAX_MODEL_BYTES {
        return Err(err(format!(
            "{size} bytes is larger than any genreid model (at most {MAX_MODEL_BYTES})"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    from_bytes(&bytes).map_err(|e| err(format!("not a usable genreid model: {e}")))
}

/// What names a model in a batch run's rows: the name as given and a
/// version that changes whenever its bytes do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelIdentity {
    /// The built-in name or the file's name (members joined by `,`).
    pub name: String,
    /// `sha256:` and the first 16 hex digits of the model's bytes (each member's, joined by `,`).
    pub version: String,
}

/// The identity of the model `spec` names (as [`load_model`] reads it).
pub fn model_identity(spec: Option<&str>) -> Result<ModelIdentity> {
    let spec = spec.unwrap_or(DEFAULT_MODEL);
    let mut names = Vec::new();
    let mut versions = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = match part.rsplit_once(':') {
            Some((n, w)) if w.parse::<f64>().is_ok() => n,
            _ => part,
        };
        let digest = match BUILTIN_MODELS.iter().find(|(n, _, _)| *n == name) {
            Some((_, _, bytes)) => Sha256::digest(bytes),
            None => {
                let bytes = std::fs::read(name).map_err(|e| ModelError::File {
                    path: name.into(),
                    reason: format!("cannot read: {e}"),
                })?;
                Sha256::digest(&bytes)
            }
        };
        let shown = Path::new(name).file_name().map_or(name.into(), |n| n.to_string_lossy());
        names.push(if spec.contains(',') { part.to_string() } else { shown.into_owned() });
        versions
            .push(format!("sha256:{}", digest[..8].iter().map(|b| format!("{b:02x}")).collect::<String>()));
    }
    Ok(ModelIdentity { name: names.join(","), version: versions.join(",") })
}

impl Model {
    /// The labels the model's verdicts are over: a classical model's
    /// classes, a tagger's genre-head labels, or its tags without a head.
    pub fn labels(&self) -> Vec<String> {
        match self {
            Model::Classical(m) => m.labels.clone(),
            Model::Tagger(t) => t
                .manifest()
                .genre_head
                .as_ref()
                .map_or_else(|| t.manifest().tags.clone(), |h| h.labels.clone()),
            Model::Network(n) => n.manifest().labels.clone(),
            Model::Ensemble(members) => members.first().map_or_else(Vec::new, |(m, _)| m.labels()),
        }
    }

    /// The network whose layers embeddings come from (a tagger's backbone,
    /// such as `MSD_musicnn`; a genre head on it does not change it), or
    /// `None` for a model that embeds nothing. Two models with the same
    /// embedder give comparable embeddings.
    pub fn embedder(&self) -> Option<&str> {
        match self {
            Model::Tagger(t) => Some(&t.manifest().name),
            Model::Ensemble(members) => members.iter().find_map(|(m, _)| m.embedder()),
            Model::Classical(_) | Model::Network(_) => None,
        }
    }

    /// The tags a tagger reports beside its verdict (empty for classical models).
    pub fn tags(&self) -> Vec<String> {
        match self {
            Model::Classical(_) | Model::Network(_) => Vec::new(),
            Model::Ensemble(members) => {
                members.iter().map(|(m, _)| m.tags()).find(|t| !t.is_empty()).unwrap_or_default()
            }
            Model::Tagger(t) => t.manifest().tags.clone(),
        }
    }
}
