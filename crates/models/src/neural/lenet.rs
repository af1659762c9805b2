//! LeNet-5 (LeCun et al. 1998), seed 000's baseline: two 5×5 convolutions
//! (6 and 16 maps) with max-pooling, then 120 → 84 → classes. Inputs of any
//! size are average-pooled to the 5×5 maps the dense layers expect.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::blocks::{DenseHead, pool};

/// LeNet-5.
#[derive(Module, Debug)]
pub struct LeNet5 {
    conv1: Conv2d,
    conv2: Conv2d,
    squeeze: AdaptiveAvgPool2d,
    head: DenseHead,
}

impl LeNet5 {
    /// A fresh network for `classes` outputs.
    pub fn new(classes: usize, device: &Device) -> Self {
        Self {
            conv1: Conv2dConfig::new([1, 6], [5, 5]).init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            squeeze: AdaptiveAvgPool2dConfig::new([5, 5]).init(),
            head: DenseHead::new(16 * 5 * 5, &[120, 84], classes, 0.0, device),
        }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = pool(relu(self.conv1.forward(x)), [2, 2]);
        let x = pool(relu(self.conv2.forward(x)), [2, 2]);
        let x = self.squeeze.forward(x);
        let [b, c, h, w] = x.dims();
        self.head.forward(x.reshape([b, c * h * w]))
    }
}
