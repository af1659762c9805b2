//! Building blocks shared by the architectures: convolution blocks, pooling
//! that never shrinks a side below one, and dense layers.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use super::{conv_op, norm_op};

/// Max-pools `[batch, channels, time, freq]` by `kernel` (stride = kernel),
/// clamping each side to what is left so short or narrow inputs still pass.
pub fn pool(x: Tensor<4>, kernel: [usize; 2]) -> Tensor<4> {
    let [_, _, t, f] = x.dims();
    let k = [kernel[0].min(t).max(1), kernel[1].min(f).max(1)];
    if k == [1, 1] {
        return x;
    }
    max_pool2d(x, MaxPoolOptions::new(k).with_stride(k))
}

/// Mean over time and frequency: `[batch, channels, t, f]` → `[batch, channels]`.
pub fn global_average(x: Tensor<4>) -> Tensor<2> {
    let [b, c, t, f] = x.dims();
    x.reshape([b, c, t * f]).mean_dim(2).reshape([b, c])
}

/// Conv `k×k` (same padding) → optional batch norm → ReLU → max-pool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    norm: Option<BatchNorm>,
    pool: [usize; 2],
}

impl ConvBlock {
    /// A block from `c_in` to `c_out` channels.
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        batch_norm: bool,
        pool: [usize; 2],
        device: &Device,
    ) -> Self {
        let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
            .with_padding(PaddingConfig2d::Same)
            .init(device);
        let norm = batch_norm.then(|| BatchNormConfig::new(c_out).init(device));
        Self { conv, norm, pool }
    }

    /// The convolution: this crate's kernels on the CPU backend (same
    /// numbers within float32 rounding, faster training), burn's elsewhere.
    fn convolve(&self, x: Tensor<4>) -> Tensor<4> {
        let weight = self.conv.weight.val();
        let [_, _, kh, kw] = weight.dims();
        match &self.conv.bias {
            Some(bias) if kh == kw && kh % 2 == 1 && conv_op::runs_here(&[&x, &weight]) => {
                conv_op::conv2d_same(x, weight, bias.val())
            }
            _ => self.conv.forward(x),
        }
    }

    /// Applies the block.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.convolve(x);
        let x = match &self.norm {
            Some(n) => norm_op::batch_norm(n, x),
            None => x,
        };
        pool(relu(x), self.pool)
    }

    /// Conv (same padding) → batch norm → ReLU, no pooling (VGG's inner layers).
    pub fn forward_unpooled(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.convolve(x);
        relu(match &self.norm {
            Some(n) => norm_op::batch_norm(n, x),
            None => x,
        })
    }
}

/// Dense layers with ReLU and dropout between them, then the output layer.
#[derive(Module, Debug)]
pub struct DenseHead {
    hidden: Vec<Linear>,
    out: Linear,
    dropout: Dropout,
}

impl DenseHead {
    /// `d_in` → each of `widths` (ReLU, dropout) → `classes`.
    pub fn new(d_in: usize, widths: &[usize], classes: usize, dropout: f64, device: &Device) -> Self {
        let mut hidden = Vec::new();
        let mut d = d_in;
        for &w in widths {
            hidden.push(LinearConfig::new(d, w).init(device));
            d = w;
        }
        Self {
            hidden,
            out: LinearConfig::new(d, classes).init(device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    /// Logits for `[batch, d_in]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut x = x;
        for layer in &self.hidden {
            x = self.dropout.forward(relu(layer.forward(x)));
        }
        self.out.forward(x)
    }

    /// Sum of squared weights of every dense layer (for an L2 penalty).
    pub fn l2(&self) -> Tensor<1> {
        let sq = |l: &Linear| l.weight.val().powi_scalar(2).sum();
        self.hidden.iter().fold(sq(&self.out), |acc, l| acc + sq(l))
    }
}
