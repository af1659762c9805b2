//! Seed 001's VGG-style network: four stages of two 3×3 convolutions with
//! batch norm and ReLU (32, 64, 128, 256 maps), each stage closed by 2×2
//! max-pooling; global average pooling, a 256-wide dense layer with
//! dropout, then the classes.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvBlock, DenseHead, global_average, pool};

/// The VGG-style network.
#[derive(Module, Debug)]
pub struct VggNet {
    convs: Vec<ConvBlock>,
    head: DenseHead,
}

impl VggNet {
    /// A fresh network for `classes` outputs.
    pub fn new(classes: usize, dropout: f64, device: &Device) -> Self {
        let mut convs = Vec::new();
        let mut c_in = 1;
        for width in [32, 64, 128, 256] {
            convs.push(ConvBlock::new(c_in, width, 3, true, [1, 1], device));
            convs.push(ConvBlock::new(width, width, 3, true, [1, 1], device));
            c_in = width;
        }
        Self { convs, head: DenseHead::new(256, &[256], classes, dropout, device) }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        for pair in self.convs.chunks(2) {
            x = pair.iter().fold(x, |x, c| c.forward_unpooled(x));
            x = pool(x, [2, 2]);
        }
        self.head.forward(global_average(x))
    }
}
