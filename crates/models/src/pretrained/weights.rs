//! Named float32 weights, and the burn tensors the networks build from them.

use burn::tensor::{Device, Tensor, TensorData};

use crate::{ModelError, Result};

pub use crate::tensor_file::{Weight, Weights};

/// Batch-norm epsilon of `tf.compat.v1.layers.batch_normalization`.
pub const BATCH_NORM_EPSILON: f32 = 0.001;

/// Looks weights up by name and shape and turns them into tensors.
pub(crate) struct Loader<'a> {
    pub weights: &'a Weights,
    pub device: &'a Device,
}

impl Loader<'_> {
    /// The values of `name`, checked to have `shape`.
    pub fn values(&self, name: &str, shape: &[usize]) -> Result<&[f32]> {
        let w = self
            .weights
            .get(name)
            .ok_or_else(|| ModelError::InvalidInput(format!("weight {name:?} is missing")))?;
        if w.shape != shape {
            return Err(ModelError::InvalidInput(format!(
                "weight {name:?} has shape {:?}, the network needs {shape:?}",
                w.shape
            )));
        }
        Ok(&w.values)
    }

    /// A tensor of `name`, checked to have `shape`.
    pub fn tensor<const D: usize>(&self, name: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        let values = self.values(name, &shape)?;
        Ok(Tensor::from_data(TensorData::new(values.to_vec(), shape), self.device))
    }

    /// A TensorFlow conv kernel `[k_time, k_freq, in, out]` as burn's `[out, in, k_time, k_freq]`.
    pub fn conv2d_kernel(&self, name: &str, shape: [usize; 4]) -> Result<Tensor<4>> {
        Ok(self.tensor(name, shape)?.permute([3, 2, 0, 1]))
    }

    /// A batch-norm scope's inference parameters.
    pub fn norm(&self, scope: &str, channels: usize) -> Result<Norm> {
        let get = |v: &str| self.values(&format!("{scope}/{v}"), &[channels]);
        let (gamma, beta, mean, var) =
            (get("gamma")?, get("beta")?, get("moving_mean")?, get("moving_variance")?);
        let scale = (0..channels).map(|c| gamma[c] / (var[c] + BATCH_NORM_EPSILON).sqrt()).collect();
        Ok(Norm { mean: mean.to_vec(), scale, shift: beta.to_vec() })
    }

    /// A batch-norm scope for inference as tensors.
    pub fn batch_norm(&self, scope: &str, channels: usize) -> Result<Affine> {
        let norm = self.norm(scope, channels)?;
        let t = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [channels]), self.device);
        Ok(Affine { mean: t(norm.mean), scale: t(norm.scale), shift: t(norm.shift) })
    }
}

/// Inference batch-norm parameters per channel: `(x - mean) · scale + shift`
/// with `scale = gamma/√(var + ε)`, in TensorFlow's order of operations
/// (folding the mean into the shift loses float32 precision where
/// activations are large).
#[derive(Debug, Clone)]
pub(crate) struct Norm {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

impl Norm {
    /// Normalises `x` of channel `c`.
    #[inline]
    pub fn apply(&self, c: usize, x: f32) -> f32 {
        (x - self.mean[c]) * self.scale[c] + self.shift[c]
    }
}

/// [`Norm`] as tensors, applied along a channel axis.
#[derive(Debug, Clone)]
pub(crate) struct Affine {
    mean: Tensor<1>,
    scale: Tensor<1>,
    shift: Tensor<1>,
}

impl Affine {
    /// Applies the map along axis `axis` (the channel axis) of `x`.
    pub fn apply<const D: usize>(&self, x: Tensor<D>, axis: usize) -> Tensor<D> {
        let n = self.scale.dims()[0];
        let mut shape = [1usize; D];
        shape[axis] = n;
        (x - self.mean.clone().reshape(shape)) * self.scale.clone().reshape(shape)
            + self.shift.clone().reshape(shape)
    }
}
