//! Seed 004's SpectralCNN: five 3×3 convolution blocks (16 → 256 maps,
//! batch norm, ReLU, 2×2 max-pooling) and three dense layers (256, 128,
//! classes) with dropout, on a mel, STFT or MFCC picture.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvBlock, DenseHead, global_average};

/// SpectralCNN.
#[derive(Module, Debug)]
pub struct SpectralCnn {
    blocks: Vec<ConvBlock>,
    head: DenseHead,
}

impl SpectralCnn {
    /// A fresh network for `classes` outputs with `dropout` between dense layers.
    pub fn new(classes: usize, dropout: f64, device: &Device) -> Self {
        let widths = [16, 32, 64, 128, 256];
        let blocks = widths
            .iter()
            .enumerate()
            .map(|(i, &o)| ConvBlock::new(if i == 0 { 1 } else { widths[i - 1] }, o, 3, true, [2, 2], device))
            .collect();
        Self { blocks, head: DenseHead::new(256, &[256, 128], classes, dropout, device) }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        self.head.forward(global_average(x))
    }
}
