//! musicnn's VGG baseline: five 3×3 convolution blocks (conv, ReLU,
//! batch-norm, max-pool) and one dense layer, as PORTING.md §6 specifies.

use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor};

use super::weights::{Affine, Loader, Weights};
use crate::Result;

/// Pool window and stride (time, frequency) after each block.
const POOLS: [([usize; 2], [usize; 2]); 5] =
    [([4, 1], [2, 2]), ([2, 2], [2, 2]), ([2, 2], [2, 2]), ([2, 2], [2, 2]), ([4, 4], [4, 4])];
const FILTERS: usize = 128;

#[derive(Debug, Clone)]
struct Block {
    kernel: Tensor<4>,
    bias: Tensor<1>,
    norm: Affine,
    pool: ([usize; 2], [usize; 2]),
}

/// The VGG tagger with its weights on a device.
#[derive(Debug, Clone)]
pub struct Vgg {
    input_norm: Affine,
    blocks: Vec<Block>,
    dense: (Tensor<2>, Tensor<1>),
}

/// What one batch of patches produced; tensors are batch-first.
#[derive(Debug, Clone)]
pub struct VggOutput {
    /// Tag probabilities, `[batch, tags]`.
    pub taggram: Tensor<2>,
    /// Each block's pooled output `[batch, time, freq, channels]` (pool1..pool5).
    pub pools: Vec<Tensor<4>>,
}

impl Vgg {
    /// Builds the network from TensorFlow-named weights (PORTING.md §7).
    pub fn new(weights: &Weights, tags: usize, device: &Device) -> Result<Self> {
        let w = Loader { weights, device };
        let blocks = (1..=5)
            .map(|k| {
                let c_in = if k == 1 { 1 } else { FILTERS };
                Ok(Block {
                    kernel: w.conv2d_kernel(&format!("{k}CNN/kernel"), [3, 3, c_in, FILTERS])?,
                    bias: w.tensor(&format!("{k}CNN/bias"), [FILTERS])?,
                    norm: w.batch_norm(&format!("batch_normalization_{k}"), FILTERS)?,
                    pool: POOLS[k - 1],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            input_norm: w.batch_norm("batch_normalization", 1)?,
            blocks,
            dense: (w.tensor("dense/kernel", [2 * FILTERS, tags])?, w.tensor("dense/bias", [tags])?),
        })
    }

    /// Runs a batch of log-mel patches `[batch, 187, 96]`.
    pub fn forward(&self, patches: Tensor<3>) -> VggOutput {
        let [batch, frames, mels] = patches.dims();
        let mut x = self.input_norm.apply(patches.reshape([batch, 1, frames, mels]), 1);
        let mut pools = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
            let y =
                block.norm.apply(relu(conv2d(x, block.kernel.clone(), Some(block.bias.clone()), options)), 1);
            x = max_pool2d(y, MaxPoolOptions::new(block.pool.0).with_stride(block.pool.1));
            pools.push(x.clone().permute([0, 2, 3, 1]));
        }
        let last = pools.last().expect("five blocks").clone();
        let [_, t, f, c] = last.dims();
        let flat = last.reshape([batch, t * f * c]);
        let logits = flat.matmul(self.dense.0.clone()) + self.dense.1.clone().unsqueeze_dim(0);
        VggOutput { taggram: sigmoid(logits), pools }
    }
}
