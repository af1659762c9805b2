//! Seed 001's recurrent baselines: LSTM or GRU layers read the picture frame
//! by frame (each frame's bins are one step's input); the last hidden state
//! goes through a 64-wide dense layer with dropout to the classes.

use burn::module::Module;
use burn::nn::gru::{Gru, GruConfig};
use burn::nn::lstm::{Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::DenseHead;

/// Which recurrent cell.
#[derive(Module, Debug)]
pub enum Cells {
    /// Long short-term memory layers.
    Lstm(Vec<Lstm>),
    /// Gated recurrent unit layers.
    Gru(Vec<Gru>),
}

/// An LSTM or GRU classifier.
#[derive(Module, Debug)]
pub struct Recurrent {
    cells: Cells,
    head: DenseHead,
}

impl Recurrent {
    /// `layers` layers of `hidden` units over `bins`-wide frames.
    pub fn new(
        lstm: bool,
        bins: usize,
        layers: usize,
        hidden: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        let d_in = |i: usize| if i == 0 { bins } else { hidden };
        let cells = if lstm {
            Cells::Lstm(
                (0..layers.max(1)).map(|i| LstmConfig::new(d_in(i), hidden, true).init(device)).collect(),
            )
        } else {
            Cells::Gru(
                (0..layers.max(1)).map(|i| GruConfig::new(d_in(i), hidden, true).init(device)).collect(),
            )
        };
        Self { cells, head: DenseHead::new(hidden, &[64], classes, 0.3, device) }
    }

    /// Logits for `[batch, frames, bins]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let seq = match &self.cells {
            Cells::Lstm(layers) => layers.iter().fold(x, |s, l| l.forward(s, None).0),
            Cells::Gru(layers) => layers.iter().fold(x, |s, g| g.forward(s, None)),
        };
        let [b, steps, h] = seq.dims();
        self.head.forward(seq.slice([0..b, steps - 1..steps, 0..h]).reshape([b, h]))
    }
}
