//! Seed 003's custom CNN: five 3×3 convolution blocks (32 → 512 maps, batch
//! norm, ReLU, 2×2 max-pooling), global average pooling, and two dense layers
//! (256, 128) whose weights carry an L2 penalty, with dropout 0.5.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvBlock, DenseHead, global_average};

/// The custom CNN.
#[derive(Module, Debug)]
pub struct CustomCnn {
    blocks: Vec<ConvBlock>,
    head: DenseHead,
}

impl CustomCnn {
    /// A fresh network for `classes` outputs.
    pub fn new(classes: usize, device: &Device) -> Self {
        let widths = [32, 64, 128, 256, 512];
        let blocks = widths
            .iter()
            .enumerate()
            .map(|(i, &o)| ConvBlock::new(if i == 0 { 1 } else { widths[i - 1] }, o, 3, true, [2, 2], device))
            .collect();
        Self { blocks, head: DenseHead::new(512, &[256, 128], classes, 0.5, device) }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        self.head.forward(global_average(x))
    }

    /// Sum of squared dense weights.
    pub fn l2(&self) -> Tensor<1> {
        self.head.l2()
    }
}
