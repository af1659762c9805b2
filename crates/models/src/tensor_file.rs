//! safetensors files with a JSON manifest in their metadata: the one on-disk
//! form of every network genreid reads or writes (pretrained taggers and
//! networks trained here).

use std::collections::{BTreeMap, HashMap};

use crate::{ModelError, Result};

/// One named weight array: shape (outermost first) and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, last dimension fastest.
    pub values: Vec<f32>,
}

/// A network's weights by variable name.
pub type Weights = BTreeMap<String, Weight>;

/// Serialises `weights` (sorted by name) with `metadata`.
pub fn encode(weights: &Weights, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let bad = |e: String| ModelError::InvalidInput(e);
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .iter()
        .map(|(k, w)| (k.clone(), w.shape.clone(), w.values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(k, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (k.clone(), v))
                .map_err(|e| bad(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| bad(e.to_string()))
}

/// The metadata entry `key` of safetensors bytes, without reading tensors.
pub fn manifest(bytes: &[u8], key: &str) -> Result<Option<String>> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| ModelError::InvalidInput(format!("not a genreid model file ({e})")))?;
    Ok(meta.metadata().as_ref().and_then(|m| m.get(key)).cloned())
}

/// Every tensor of safetensors bytes (all must be float32).
pub fn decode(bytes: &[u8]) -> Result<Weights> {
    let bad = |e: String| ModelError::InvalidInput(e);
    let tensors = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let mut weights = Weights::new();
    for (name, view) in tensors.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(format!("tensor {name} is {:?}, not F32", view.dtype())));
        }
        let values =
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        weights.insert(name, Weight { shape: view.shape().to_vec(), values });
    }
    Ok(weights)
}
