//! Seed 000's CRNN family (after Choi et al. 2016): convolution blocks
//! (3×3, batch norm, ReLU, max-pooling that shrinks frequency faster than
//! time) turn the picture into a sequence over time, GRU layers read it, and
//! the last hidden state goes through dropout to the classes. The Base model
//! has four blocks and two GRU layers; L2Reg and LRS one GRU layer; 3Conv and
//! 2Conv drop blocks (the training recipe adds weight decay or a schedule).

use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::ConvBlock;

/// Maps and (time, frequency) pooling per block, for 4, 3 or 2 blocks.
fn plan(blocks: usize) -> Vec<(usize, [usize; 2])> {
    match blocks {
        2 => vec![(64, [2, 8]), (128, [4, 16])],
        3 => vec![(64, [2, 4]), (128, [2, 4]), (128, [4, 8])],
        _ => vec![(64, [2, 2]), (128, [2, 4]), (128, [2, 4]), (128, [2, 4])],
    }
}

/// A CRNN.
#[derive(Module, Debug)]
pub struct Crnn {
    blocks: Vec<ConvBlock>,
    grus: Vec<Gru>,
    dropout: Dropout,
    out: Linear,
}

impl Crnn {
    /// `conv_blocks` (2–4) blocks, `gru_layers` GRU layers of `hidden` units.
    pub fn new(
        classes: usize,
        conv_blocks: usize,
        gru_layers: usize,
        hidden: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let mut c_in = 1;
        let blocks = plan(conv_blocks)
            .into_iter()
            .map(|(c, p)| {
                let b = ConvBlock::new(c_in, c, 3, true, p, device);
                c_in = c;
                b
            })
            .collect();
        let grus = (0..gru_layers.max(1))
            .map(|i| GruConfig::new(if i == 0 { c_in } else { hidden }, hidden, true).init(device))
            .collect();
        Self {
            blocks,
            grus,
            dropout: DropoutConfig::new(dropout).init(),
            out: LinearConfig::new(hidden, classes).init(device),
        }
    }

    /// Logits for `[batch, 1, frames, bins]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        let [b, c, t, f] = x.dims();
        // What frequency is left is averaged: [b, c, t, f] → [b, t, c].
        let seq = x.mean_dim(3).reshape([b, c, t]).swap_dims(1, 2);
        let seq = self.grus.iter().fold(seq, |s, g| g.forward(s, None));
        let [_, steps, h] = seq.dims();
        let last = seq.slice([0..b, steps - 1..steps, 0..h]).reshape([b, h]);
        let _ = f;
        self.out.forward(self.dropout.forward(last))
    }
}
