//! Seed 002's simple CNN: three 3×3 convolution blocks (32, 64, 128 maps,
//! ReLU, 2×2 max-pooling), global average pooling, a 128-wide dense layer
//! with dropout 0.5, then the classes.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvBlock, DenseHead, global_average};

/// The three-convolution CNN.
#[derive(Module, Debug)]
pub struct SimpleCnn {
    blocks: Vec<ConvBlock>,
    head: DenseHead,
}

impl SimpleCnn {
    /// A fresh network for `classes` outputs.
    pub fn new(classes: usize, device: &Device) -> Self {
        let blocks = [(1, 32), (32, 64), (64, 128)]
            .iter()
            .map(|&(i, o)| ConvBlock::new(i, o, 3, false, [2, 2], device))
            .collect();
        Self { blocks, head: DenseHead::new(128, &[128], classes, 0.5, device) }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        self.head.forward(global_average(x))
    }
}
