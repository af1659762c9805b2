//! The musicnn tagger (Pons & Serra 2019): a timbral and temporal front end
//! over the log-mel patch, a residual 1-D convolutional mid end, max and mean
//! pooling over time, and a dense back end, as PORTING.md §5 specifies.

use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::module::{conv1d, conv2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

use super::weights::{Affine, Loader, Weights};
use crate::Result;

/// Frames per patch (3 s at 16 kHz with hop 256).
pub const PATCH_FRAMES: usize = 187;
/// Mel bands of the network input.
pub const N_MELS: usize = 96;
/// Width of the penultimate (embedding) layer.
pub const EMBEDDING: usize = 200;
/// Channels of the front and mid ends (561 + 3·64), pooled into max and mean.
pub const POOLED: usize = 753;

/// A front-end branch: conv (+bias), ReLU, batch-norm, then max over frequency.
#[derive(Debug, Clone)]
struct Branch {
    kernel: Tensor<4>,
    bias: Tensor<1>,
    norm: Affine,
    time_pad: (usize, usize),
}

impl Branch {
    fn forward(&self, x: &Tensor<4>) -> Tensor<3> {
        let options = ConvOptions::new_with_padding([1, 1], [self.time_pad, (0, 0)], [1, 1], 1);
        let y = relu(conv2d(x.clone(), self.kernel.clone(), Some(self.bias.clone()), options));
        self.norm.apply(y, 1).max_dim(3).squeeze_dim::<3>(3)
    }
}

/// A mid-end layer: 1-D conv over time (kernel 7, same padding), ReLU, batch-norm.
#[derive(Debug, Clone)]
struct MidLayer {
    kernel: Tensor<3>,
    bias: Tensor<1>,
    norm: Affine,
}

impl MidLayer {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let options = ConvOptions::new_with_padding([1], [(3, 3)], [1], 1);
        self.norm.apply(relu(conv1d(x, self.kernel.clone(), Some(self.bias.clone()), options)), 1)
    }
}

/// The musicnn network with its weights on a device.
#[derive(Debug, Clone)]
pub struct Musicnn {
    input_norm: Affine,
    timbral: [Branch; 2],
    temporal: [Branch; 3],
    mid: [MidLayer; 3],
    pooled_norm: Affine,
    dense: (Tensor<2>, Tensor<1>),
    dense_norm: Affine,
    output: (Tensor<2>, Tensor<1>),
}

/// What one batch of patches produced; tensors are batch-first.
#[derive(Debug, Clone)]
pub struct MusicnnOutput {
    /// Tag probabilities, `[batch, tags]`.
    pub taggram: Tensor<2>,
    /// The 200-wide embedding before the output layer, `[batch, 200]`.
    pub penultimate: Tensor<2>,
    /// Max over time of the front and mid ends, `[batch, 753]`.
    pub max_pool: Tensor<2>,
    /// Mean over time of the front and mid ends, `[batch, 753]`.
    pub mean_pool: Tensor<2>,
    /// Frame-level layers (`timbral`, `temporal`, `cnn1`..`cnn3`), each
    /// `[batch, frames, channels]`, when asked for.
    pub layers: Option<Vec<(&'static str, Tensor<3>)>>,
}

impl Musicnn {
    /// Builds the network from TensorFlow-named weights (PORTING.md §7).
    pub fn new(weights: &Weights, tags: usize, device: &Device) -> Result<Self> {
        let w = Loader { weights, device };
        let branch = |i: usize, shape: [usize; 4], bn: usize, time_pad| -> Result<Branch> {
            let name = if i == 0 { "conv2d".to_string() } else { format!("conv2d_{i}") };
            Ok(Branch {
                kernel: w.conv2d_kernel(&format!("{name}/kernel"), shape)?,
                bias: w.tensor(&format!("{name}/bias"), [shape[3]])?,
                norm: w.batch_norm(&format!("batch_normalization_{bn}"), shape[3])?,
                time_pad,
            })
        };
        let mid = |i: usize, c_in: usize| -> Result<MidLayer> {
            let kernel = w.tensor::<4>(&format!("conv2d_{i}/kernel"), [7, c_in, 1, 64])?;
            Ok(MidLayer {
                kernel: kernel.reshape([7, c_in, 64]).permute([2, 1, 0]),
                bias: w.tensor(&format!("conv2d_{i}/bias"), [64])?,
                norm: w.batch_norm(&format!("batch_normalization_{}", i + 1), 64)?,
            })
        };
        Ok(Self {
            input_norm: w.batch_norm("batch_normalization", 1)?,
            timbral: [branch(0, [7, 38, 1, 204], 1, (3, 3))?, branch(1, [7, 67, 1, 204], 2, (3, 3))?],
            temporal: [
                branch(2, [128, 1, 1, 51], 3, (63, 64))?,
                branch(3, [64, 1, 1, 51], 4, (31, 32))?,
                branch(4, [32, 1, 1, 51], 5, (15, 16))?,
            ],
            mid: [mid(5, 561)?, mid(6, 64)?, mid(7, 64)?],
            pooled_norm: w.batch_norm("batch_normalization_9", 2 * POOLED)?,
            dense: (w.tensor("dense/kernel", [2 * POOLED, EMBEDDING])?, w.tensor("dense/bias", [EMBEDDING])?),
            dense_norm: w.batch_norm("batch_normalization_10", EMBEDDING)?,
            output: (w.tensor("dense_1/kernel", [EMBEDDING, tags])?, w.tensor("dense_1/bias", [tags])?),
        })
    }

    /// Runs a batch of log-mel patches `[batch, 187, 96]`.
    pub fn forward(&self, patches: Tensor<3>, keep_layers: bool) -> MusicnnOutput {
        let [batch, frames, mels] = patches.dims();
        let x = self.input_norm.apply(patches.reshape([batch, 1, frames, mels]), 1);
        // Front end: [batch, channels, frames] per branch.
        let timbral: Vec<Tensor<3>> = self.timbral.iter().map(|b| b.forward(&x)).collect();
        let temporal: Vec<Tensor<3>> = self.temporal.iter().map(|b| b.forward(&x)).collect();
        let timbral = Tensor::cat(timbral, 1);
        let temporal = Tensor::cat(temporal, 1);
        let front = Tensor::cat(vec![timbral.clone(), temporal.clone()], 1);
        // Mid end: residual 1-D convolutions over time.
        let m1 = self.mid[0].forward(front.clone());
        let m2 = self.mid[1].forward(m1.clone()) + m1.clone();
        let m3 = self.mid[2].forward(m2.clone()) + m2.clone();
        let all = Tensor::cat(vec![front, m1.clone(), m2.clone(), m3.clone()], 1);
        // Back end: max and mean over time, interleaved per channel.
        let max_pool = all.clone().max_dim(2);
        let mean_pool = all.mean_dim(2);
        let pooled = Tensor::cat(vec![max_pool.clone(), mean_pool.clone()], 2).reshape([batch, 2 * POOLED]);
        let z = self.pooled_norm.apply(pooled, 1);
        let hidden = relu(z.matmul(self.dense.0.clone()) + self.dense.1.clone().unsqueeze_dim(0));
        let penultimate = self.dense_norm.apply(hidden, 1);
        let logits =
            penultimate.clone().matmul(self.output.0.clone()) + self.output.1.clone().unsqueeze_dim(0);
        let frame_major = |t: Tensor<3>| t.swap_dims(1, 2);
        let layers = keep_layers.then(|| {
            vec![
                ("timbral", frame_major(timbral)),
                ("temporal", frame_major(temporal)),
                ("cnn1", frame_major(m1)),
                ("cnn2", frame_major(m2)),
                ("cnn3", frame_major(m3)),
            ]
        });
        MusicnnOutput {
            taggram: sigmoid(logits),
            penultimate,
            max_pool: max_pool.squeeze_dim::<2>(2),
            mean_pool: mean_pool.squeeze_dim::<2>(2),
            layers,
        }
    }
}
