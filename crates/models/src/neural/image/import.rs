//! Weights of torchvision's networks from a file the user provides: a
//! PyTorch `state_dict` saved with `torch.save` (`.pth`, `.pt`) or as
//! `.safetensors`.
//!
//! Name mapping (genreid path → PyTorch key), applied to every parameter:
//! - enum variants in genreid's path (`Cna`, `Conv`, `Norm`, `Block`,
//!   `Stage`, ...) are dropped: torchvision's `nn.Sequential` numbers its
//!   children and so do genreid's vectors;
//! - inside a `Conv2dNormActivation`, `conv` is `0` and `norm` is `1`;
//! - batch norm's `gamma`/`beta` are PyTorch's `weight`/`bias`
//!   (`running_mean`/`running_var` keep their names; `num_batches_tracked`
//!   is ignored);
//! - MobileNetV2's and EfficientNet's `classifier` is `classifier.1`, VGG's
//!   `classifier.0/1/2` are `classifier.0/3/6`;
//! - dense weights are transposed (PyTorch stores `[out, in]`, burn `[in, out]`).
//!
//! Keys may sit under a `state_dict.`, `model.` or `module.` prefix
//! (checkpoints and `DataParallel`); it is stripped.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::tensor_file::{Weight, Weights};
use crate::{ModelError, Result};

/// Which family's renames apply (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// ResNet: `fc` is the head.
    Resnet,
    /// MobileNetV2 and EfficientNet: `classifier.1` is the head.
    Classifier1,
    /// VGG: `classifier.6` is the head.
    Vgg,
}

impl Family {
    /// The PyTorch key of the parameter at genreid path `path`.
    pub fn torch_key(self, path: &str) -> String {
        let segments: Vec<&str> =
            path.split('.').filter(|s| !s.starts_with(|c: char| c.is_ascii_uppercase())).collect();
        let mut out: Vec<String> = Vec::with_capacity(segments.len() + 1);
        for (i, s) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let next = segments.get(i + 1).copied();
            out.push(match (*s, next) {
                ("conv", Some("weight" | "bias")) => "0".into(),
                ("norm", Some(_)) => "1".into(),
                ("gamma", None) if last => "weight".into(),
                ("beta", None) if last => "bias".into(),
                (s, _) => s.into(),
            });
        }
        match (self, out.first().map(String::as_str)) {
            (Self::Classifier1, Some("classifier")) => out.insert(1, "1".into()),
            (Self::Vgg, Some("classifier")) => {
                if let Some(i) = out.get(1).and_then(|s| s.parse::<usize>().ok()) {
                    out[1] = (3 * i).to_string();
                }
            }
            _ => {}
        }
        out.join(".")
    }

    /// Whether genreid path `path` belongs to the classification head that
    /// transfer learning replaces.
    pub fn is_head(self, path: &str) -> bool {
        match self {
            Self::Resnet => path.starts_with("fc."),
            Self::Classifier1 => path.starts_with("classifier."),
            Self::Vgg => path.starts_with("classifier.2."),
        }
    }
}

/// Float tensors of a PyTorch `.pth`/`.pt` or `.safetensors` file by key,
/// converted to f32 (integer tensors such as `num_batches_tracked` are left out).
pub fn read_torch_weights(path: &Path) -> Result<Weights> {
    let err = |reason: String| ModelError::File { path: path.to_path_buf(), reason };
    let is_safetensors = path.extension().and_then(|e| e.to_str()) == Some("safetensors");
    let mut weights = if is_safetensors {
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        read_safetensors(&bytes).map_err(err)?
    } else {
        read_pth(path).map_err(err)?
    };
    strip_prefixes(&mut weights);
    if weights.is_empty() {
        return Err(err("no float tensors in the file".into()));
    }
    Ok(weights)
}

fn read_safetensors(bytes: &[u8]) -> std::result::Result<Weights, String> {
    use safetensors::Dtype;
    let tensors =
        safetensors::SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file ({e})"))?;
    let mut weights = Weights::new();
    for (name, view) in tensors.tensors() {
        let values = match view.dtype() {
            Dtype::F32 => decode(view.data(), 4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Dtype::F64 => decode(view.data(), 8, |b| {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }),
            Dtype::F16 => decode(view.data(), 2, |b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
            Dtype::BF16 => decode(view.data(), 2, |b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
            _ => continue,
        };
        weights.insert(name, Weight { shape: view.shape().to_vec(), values });
    }
    Ok(weights)
}

fn read_pth(path: &Path) -> std::result::Result<Weights, String> {
    use pytorch_reader::DType;
    let reader = pytorch_reader::PytorchReader::new(path).map_err(|e| format!("not a PyTorch file ({e})"))?;
    let mut weights = Weights::new();
    for (name, tensor) in reader.into_tensors() {
        let dtype = tensor.dtype();
        if !matches!(dtype, DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
            continue;
        }
        let bytes = tensor.read().map_err(|e| e.to_string())?;
        let values = match dtype {
            DType::F64 => decode(&bytes, 8, |b| {
                f64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }),
            DType::F16 => decode(&bytes, 2, |b| half::f16::from_ne_bytes([b[0], b[1]]).to_f32()),
            DType::BF16 => decode(&bytes, 2, |b| half::bf16::from_ne_bytes([b[0], b[1]]).to_f32()),
            _ => decode(&bytes, 4, |b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
        };
        weights.insert(name, Weight { shape: tensor.shape().to_vec(), values });
    }
    Ok(weights)
}

fn decode(bytes: &[u8], size: usize, f: impl Fn(&[u8]) -> f32) -> Vec<f32> {
    bytes.chunks_exact(size).map(f).collect()
}

/// Drops a `state_dict.`, `model.` or `module.` prefix that every key shares.
fn strip_prefixes(weights: &mut Weights) {
    for prefix in ["state_dict.", "model.", "module."] {
        if !weights.is_empty() && weights.keys().all(|k| k.starts_with(prefix)) {
            *weights = std::mem::take(weights)
                .into_iter()
                .map(|(k, w)| (k[prefix.len()..].to_string(), w))
                .collect();
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Tensors taken from the file.
    pub loaded: usize,
    /// Whether the head kept its fresh initialisation (new classes).
    pub head_replaced: bool,
}

struct Importer<'a> {
    family: Family,
    weights: &'a Weights,
    keep_head: bool,
    device: &'a Device,
    path: Vec<String>,
    used: BTreeSet<String>,
    errors: Vec<String>,
}

impl ModuleMapper for Importer<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        if !self.keep_head && self.family.is_head(&path) {
            return param;
        }
        let key = self.family.torch_key(&path);
        let Some(w) = self.weights.get(&key) else {
            self.errors.push(format!("{key} (for {path}) is missing"));
            return param;
        };
        let want = param.val().dims().to_vec();
        let (shape, values) = if D == 2 && w.shape.len() == 2 {
            (vec![w.shape[1], w.shape[0]], transpose(&w.values, w.shape[0], w.shape[1]))
        } else {
            (w.shape.clone(), w.values.clone())
        };
        if shape != want {
            self.errors.push(format!("{key} has shape {:?}, the network needs {want:?}", w.shape));
            return param;
        }
        self.used.insert(key);
        let (id, old, _) = param.consume();
        let fresh = Tensor::<D>::from_data(TensorData::new(values, want), self.device);
        Param::initialized(id, if old.is_require_grad() { fresh.require_grad() } else { fresh })
    }
}

/// `values` of a `rows × cols` matrix, transposed.
pub(crate) fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// `module` with every tensor taken from `weights` (PyTorch keys), except
/// the head when `keep_head` is false. Every other tensor must be there with
/// its shape; a file tensor no parameter takes (other than the file's own
/// head) is an error too, so a file of another architecture never half-loads.
pub fn import<M: Module>(
    module: M,
    family: Family,
    weights: &Weights,
    keep_head: bool,
    device: &Device,
) -> Result<(M, ImportSummary)> {
    let mut importer = Importer {
        family,
        weights,
        keep_head,
        device,
        path: Vec::new(),
        used: BTreeSet::new(),
        errors: Vec::new(),
    };
    let module = module.map(&mut importer);
    let head_key = |k: &str| match family {
        Family::Resnet => k.starts_with("fc."),
        Family::Classifier1 => k.starts_with("classifier."),
        Family::Vgg => k.starts_with("classifier.6."),
    };
    let unused: Vec<&String> =
        weights.keys().filter(|k| !(importer.used.contains(*k) || (head_key(k) && !keep_head))).collect();
    if let Some(first) = unused.first() {
        importer.errors.push(format!("{first} in the file belongs to no layer of this network"));
    }
    if let Some(first) = importer.errors.first() {
        let more = importer.errors.len() - 1;
        return Err(ModelError::InvalidInput(format!(
            "the weights do not fit this network: {first}{}",
            if more > 0 { format!(" (and {more} more problems)") } else { String::new() }
        )));
    }
    Ok((module, ImportSummary { loaded: importer.used.len(), head_replaced: !keep_head }))
}

#[cfg(test)]
mod tests {
    use super::Family;

    #[test]
    fn genreid_paths_map_to_torchvision_keys() {
        let r = Family::Resnet;
        assert_eq!(r.torch_key("layer1.0.bn1.gamma"), "layer1.0.bn1.weight");
        assert_eq!(r.torch_key("layer2.0.downsample.0.Conv.weight"), "layer2.0.downsample.0.weight");
        assert_eq!(
            r.torch_key("layer2.0.downsample.1.Norm.running_var"),
            "layer2.0.downsample.1.running_var"
        );
        let m = Family::Classifier1;
        assert_eq!(m.torch_key("features.0.Cna.conv.weight"), "features.0.0.weight");
        assert_eq!(m.torch_key("features.0.Cna.norm.beta"), "features.0.1.bias");
        assert_eq!(m.torch_key("features.3.Block.conv.2.Conv.weight"), "features.3.conv.2.weight");
        assert_eq!(
            m.torch_key("features.3.Block.conv.1.Cna.norm.running_mean"),
            "features.3.conv.1.1.running_mean"
        );
        assert_eq!(m.torch_key("features.4.Stage.0.block.2.Se.fc1.bias"), "features.4.0.block.2.fc1.bias");
        assert_eq!(m.torch_key("classifier.weight"), "classifier.1.weight");
        let v = Family::Vgg;
        assert_eq!(v.torch_key("features.1.Norm.gamma"), "features.1.weight");
        assert_eq!(v.torch_key("classifier.2.bias"), "classifier.6.bias");
        assert!(v.is_head("classifier.2.weight") && !v.is_head("classifier.1.weight"));
    }
}
