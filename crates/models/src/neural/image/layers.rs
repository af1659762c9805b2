//! Layers the ImageNet networks share, laid out as torchvision lays them out
//! so that parameter paths mirror its `state_dict` keys (see
//! [`super::import`] for the few renames).

use burn::module::Module;
use burn::nn::activation::{Relu6, SiLU};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Identity, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// Mean over the spatial axes (shared with the spectrogram networks).
pub use crate::neural::blocks::global_average;

/// An activation between layers (no parameters).
#[derive(Module, Debug)]
pub enum Act {
    /// None (projection layers).
    Identity(Identity),
    /// ReLU6 (MobileNetV2).
    Relu6(Relu6),
    /// SiLU/swish (EfficientNet).
    Silu(SiLU),
}

impl Act {
    /// The activation torchvision's builders call `None`.
    pub fn none() -> Self {
        Self::Identity(Identity::new())
    }

    /// ReLU6.
    pub fn relu6() -> Self {
        Self::Relu6(Relu6::new())
    }

    /// SiLU.
    pub fn silu() -> Self {
        Self::Silu(SiLU::new())
    }

    /// Applies the activation.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Identity(_) => x,
            Self::Relu6(a) => a.forward(x),
            Self::Silu(a) => a.forward(x),
        }
    }
}

/// A `k×k` convolution with torchvision's symmetric padding `(k − 1) / 2`.
pub fn conv(
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    groups: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    let p = (kernel - 1) / 2;
    Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_groups(groups)
        .with_bias(bias)
        .init(device)
}

/// Batch norm over `channels` with PyTorch's momentum (0.1) and `eps`.
pub fn batch_norm(channels: usize, eps: f64, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).with_epsilon(eps).init(device)
}

/// torchvision's `Conv2dNormActivation`: convolution without bias → batch
/// norm → activation (keys `N.0.weight`, `N.1.weight`, ...).
#[derive(Module, Debug)]
pub struct ConvNormAct {
    conv: Conv2d,
    norm: BatchNorm,
    act: Act,
}

/// Shape of a [`ConvNormAct`].
#[derive(Debug, Clone, Copy)]
pub struct ConvShape {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Groups (`c_in` for depthwise).
    pub groups: usize,
}

impl ConvShape {
    /// A dense `k×k` convolution.
    pub fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize) -> Self {
        Self { c_in, c_out, kernel, stride, groups: 1 }
    }

    /// A depthwise `k×k` convolution over `channels`.
    pub fn depthwise(channels: usize, kernel: usize, stride: usize) -> Self {
        Self { c_in: channels, c_out: channels, kernel, stride, groups: channels }
    }
}

impl ConvNormAct {
    /// A layer of `shape`, batch-norm epsilon `eps` and activation `act`.
    pub fn new(shape: ConvShape, eps: f64, act: Act, device: &Device) -> Self {
        let ConvShape { c_in, c_out, kernel, stride, groups } = shape;
        Self {
            conv: conv(c_in, c_out, kernel, stride, groups, false, device),
            norm: batch_norm(c_out, eps, device),
            act,
        }
    }

    /// Applies the layer.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.act.forward(self.norm.forward(self.conv.forward(x)))
    }
}

/// torchvision's `_make_divisible`: `v` rounded to a multiple of `divisor`
/// (at least `divisor`, and never more than 10 % below `v`).
pub fn make_divisible(v: f64, divisor: usize) -> usize {
    let d = divisor as f64;
    let mut rounded = (((v + d / 2.0) / d).floor() * d).max(d);
    if rounded < 0.9 * v {
        rounded += d;
    }
    rounded as usize
}

#[cfg(test)]
mod tests {
    use super::make_divisible;

    #[test]
    fn make_divisible_matches_torchvision() {
        // Values torchvision's MobileNetV2 computes at width 1.0 and 0.35.
        assert_eq!(make_divisible(32.0, 8), 32);
        assert_eq!(make_divisible(32.0 * 0.35, 8), 16);
        assert_eq!(make_divisible(16.0 * 0.35, 8), 8);
        assert_eq!(make_divisible(24.0 * 0.35, 8), 8);
        assert_eq!(make_divisible(96.0 * 0.35, 8), 32);
        assert_eq!(make_divisible(320.0 * 0.35, 8), 112);
    }
}
