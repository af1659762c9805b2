//! musicnn as a trainable network (issue 7's fine-tuning): the pretrained
//! tagger's layers (PORTING.md §5) as burn modules with parameters — front
//! end (timbral and temporal convolutions, ReLU, batch norm, max over
//! frequency), residual 1-D mid end, max and mean pooling over time, the
//! 200-wide dense layer — with its 50-tag output replaced by a head for new
//! labels. It starts from the built-in MSD or MTT weights and trains whole
//! (at a lower learning rate) or head first (`--freeze-epochs`).

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d,
    PaddingConfig2d,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::pretrained::BATCH_NORM_EPSILON;
use crate::tensor_file::{Weight, Weights};
use crate::{ModelError, Result};

/// Channels pooled into max and mean (561 front end + 3 · 64 mid end).
const POOLED: usize = 753;
/// Width of the penultimate layer.
const EMBEDDING: usize = 200;

fn norm(channels: usize, device: &Device) -> BatchNorm {
    // TensorFlow's batch norm: epsilon 1e-3, moving averages with decay 0.99.
    BatchNormConfig::new(channels)
        .with_epsilon(f64::from(BATCH_NORM_EPSILON))
        .with_momentum(0.01)
        .init(device)
}

/// A front-end branch: convolution over (time, frequency), ReLU, batch norm,
/// max over frequency.
#[derive(Module, Debug)]
pub struct Branch {
    conv: Conv2d,
    norm: BatchNorm,
}

impl Branch {
    fn new(kernel: [usize; 2], maps: usize, device: &Device) -> Self {
        let (before, after) = ((kernel[0] - 1) / 2, kernel[0] / 2);
        let conv = Conv2dConfig::new([1, maps], kernel)
            .with_padding(PaddingConfig2d::Explicit(before, 0, after, 0))
            .init(device);
        Self { conv, norm: norm(maps, device) }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        self.norm.forward(relu(self.conv.forward(x))).max_dim(3).squeeze_dim::<3>(3)
    }
}

/// A mid-end layer: 1-D convolution over time (kernel 7), ReLU, batch norm.
#[derive(Module, Debug)]
pub struct MidLayer {
    conv: Conv1d,
    norm: BatchNorm,
}

impl MidLayer {
    fn new(c_in: usize, device: &Device) -> Self {
        let conv = Conv1dConfig::new(c_in, 64, 7).with_padding(PaddingConfig1d::Explicit(3, 3)).init(device);
        Self { conv, norm: norm(64, device) }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.norm.forward(relu(self.conv.forward(x)))
    }
}

/// The musicnn network with a classification head.
#[derive(Module, Debug)]
pub struct MusicnnNet {
    input_norm: BatchNorm,
    timbral: Vec<Branch>,
    temporal: Vec<Branch>,
    mid: Vec<MidLayer>,
    pooled_norm: BatchNorm,
    dense: Linear,
    dense_norm: BatchNorm,
    dropout: Dropout,
    head: Linear,
}

impl MusicnnNet {
    /// A freshly initialised network with `classes` outputs.
    pub fn new(classes: usize, dropout: f64, device: &Device) -> Self {
        Self {
            input_norm: norm(1, device),
            timbral: vec![Branch::new([7, 38], 204, device), Branch::new([7, 67], 204, device)],
            temporal: vec![
                Branch::new([128, 1], 51, device),
                Branch::new([64, 1], 51, device),
                Branch::new([32, 1], 51, device),
            ],
            mid: vec![MidLayer::new(561, device), MidLayer::new(64, device), MidLayer::new(64, device)],
            pooled_norm: norm(2 * POOLED, device),
            dense: LinearConfig::new(2 * POOLED, EMBEDDING).init(device),
            dense_norm: norm(EMBEDDING, device),
            dropout: DropoutConfig::new(dropout).init(),
            head: LinearConfig::new(EMBEDDING, classes).init(device),
        }
    }

    /// Logits for log-mel patches `[batch, frames, 96]` (musicnn's input).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, t, f] = x.dims();
        let x = self.input_norm.forward(x.reshape([b, 1, t, f]));
        let timbral = Tensor::cat(self.timbral.iter().map(|br| br.forward(x.clone())).collect(), 1);
        let temporal = Tensor::cat(self.temporal.iter().map(|br| br.forward(x.clone())).collect(), 1);
        let front = Tensor::cat(vec![timbral, temporal], 1);
        let m1 = self.mid[0].forward(front.clone());
        let m2 = self.mid[1].forward(m1.clone()) + m1.clone();
        let m3 = self.mid[2].forward(m2.clone()) + m2.clone();
        let all = Tensor::cat(vec![front, m1, m2, m3], 1);
        // Max and mean over time, interleaved per channel as the original.
        let pooled =
            Tensor::cat(vec![all.clone().max_dim(2), all.mean_dim(2)], 2).reshape([b, 2 * POOLED, 1]);
        let z = self.pooled_norm.forward(pooled).reshape([b, 2 * POOLED]);
        let hidden = relu(self.dense.forward(z));
        let embedding = self.dense_norm.forward(hidden.reshape([b, EMBEDDING, 1])).reshape([b, EMBEDDING]);
        self.head.forward(self.dropout.forward(embedding))
    }

    /// The network with every layer but the head frozen.
    pub fn freeze_backbone(self) -> Self {
        let mut frozen = self.freeze();
        frozen.head = frozen.head.unfreeze();
        frozen.dropout = frozen.dropout.unfreeze();
        frozen
    }
}

/// The tagger's TensorFlow-named weights (PORTING.md §7) under this
/// network's parameter paths (below `prefix`), converted to burn's layouts;
/// the head is left out.
pub fn backbone_weights(tf: &Weights, prefix: &str) -> Result<Weights> {
    let mut out = Weights::new();
    let get = |name: &str| {
        tf.get(name).ok_or_else(|| ModelError::InvalidInput(format!("the tagger has no weight {name:?}")))
    };
    let bn = |out: &mut Weights, path: &str, scope: &str| -> Result<()> {
        for (ours, theirs) in [
            ("gamma", "gamma"),
            ("beta", "beta"),
            ("running_mean", "moving_mean"),
            ("running_var", "moving_variance"),
        ] {
            out.insert(format!("{prefix}{path}.{ours}"), get(&format!("{scope}/{theirs}"))?.clone());
        }
        Ok(())
    };
    bn(&mut out, "input_norm", "batch_normalization")?;
    // Front end: conv2d, conv2d_1 (timbral), conv2d_2..4 (temporal); TF kernels
    // are [time, freq, in, out], burn's [out, in, time, freq].
    let conv_name = |i: usize| if i == 0 { "conv2d".to_string() } else { format!("conv2d_{i}") };
    for i in 0..5 {
        let (branch, j) = if i < 2 { ("timbral", i) } else { ("temporal", i - 2) };
        let k = get(&format!("{}/kernel", conv_name(i)))?;
        let [kt, kf, c_in, c_out]: [usize; 4] = k.shape[..]
            .try_into()
            .map_err(|_| ModelError::InvalidInput(format!("{}/kernel is not 4-D", conv_name(i))))?;
        let mut v = vec![0.0; k.values.len()];
        for a in 0..kt {
            for b in 0..kf {
                for c in 0..c_in {
                    for o in 0..c_out {
                        v[((o * c_in + c) * kt + a) * kf + b] =
                            k.values[((a * kf + b) * c_in + c) * c_out + o];
                    }
                }
            }
        }
        out.insert(
            format!("{prefix}{branch}.{j}.conv.weight"),
            Weight { shape: vec![c_out, c_in, kt, kf], values: v },
        );
        out.insert(
            format!("{prefix}{branch}.{j}.conv.bias"),
            get(&format!("{}/bias", conv_name(i)))?.clone(),
        );
        bn(&mut out, &format!("{branch}.{j}.norm"), &format!("batch_normalization_{}", i + 1))?;
    }
    // Mid end: conv2d_5..7 with kernels [7, in, 1, 64] → burn's [64, in, 7].
    for j in 0..3 {
        let name = format!("conv2d_{}", j + 5);
        let k = get(&format!("{name}/kernel"))?;
        let [kt, c_in, _, c_out]: [usize; 4] = k.shape[..]
            .try_into()
            .map_err(|_| ModelError::InvalidInput(format!("{name}/kernel is not 4-D")))?;
        let mut v = vec![0.0; k.values.len()];
        for a in 0..kt {
            for c in 0..c_in {
                for o in 0..c_out {
                    v[(o * c_in + c) * kt + a] = k.values[(a * c_in + c) * c_out + o];
                }
            }
        }
        out.insert(
            format!("{prefix}mid.{j}.conv.weight"),
            Weight { shape: vec![c_out, c_in, kt], values: v },
        );
        out.insert(format!("{prefix}mid.{j}.conv.bias"), get(&format!("{name}/bias"))?.clone());
        bn(&mut out, &format!("mid.{j}.norm"), &format!("batch_normalization_{}", j + 6))?;
    }
    bn(&mut out, "pooled_norm", "batch_normalization_9")?;
    // Dense kernels are [in, out] in both frameworks.
    out.insert(format!("{prefix}dense.weight"), get("dense/kernel")?.clone());
    out.insert(format!("{prefix}dense.bias"), get("dense/bias")?.clone());
    bn(&mut out, "dense_norm", "batch_normalization_10")?;
    Ok(out)
}
