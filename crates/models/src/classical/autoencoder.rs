//! Seed 000's dual-loss autoencoder (§III-D3) as a reduction: an MLP encoder
//! (width → 256 → 128 → N, ReLU), a mirrored decoder, and a linear
//! classifier on the N-wide code, trained together on
//! `MSE(reconstruction) + weight × cross-entropy(class)` so the code keeps
//! what separates genres. The same trainer, without decoder, fits the MLP
//! classifier (`--head mlp`, `--model mlp`). Trained in burn (Adam, seeded);
//! applied in plain Rust from the weights a model file stores.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// Hidden widths of the encoder (the decoder mirrors them).
const HIDDEN: [usize; 2] = [256, 128];
/// Training epochs over the rows.
const EPOCHS: usize = 150;
/// Rows per step.
const BATCH: usize = 64;
/// Weight of the classification loss against reconstruction.
const CLASS_WEIGHT: f64 = 1.0;

#[derive(Module, Debug)]
struct DualAutoencoder {
    encoder: Vec<Linear>,
    /// Empty for a plain MLP classifier.
    decoder: Vec<Linear>,
    /// `None` for a plain MLP classifier, whose encoder ends in the logits.
    classifier: Option<Linear>,
}

fn mlp(widths: &[usize], device: &Device) -> Vec<Linear> {
    widths.windows(2).map(|w| LinearConfig::new(w[0], w[1]).init(device)).collect()
}

/// ReLU between layers, none after the last.
fn run(layers: &[Linear], x: Tensor<2>) -> Tensor<2> {
    let last = layers.len().saturating_sub(1);
    layers.iter().enumerate().fold(x, |x, (i, l)| if i < last { relu(l.forward(x)) } else { l.forward(x) })
}

/// One dense layer of a fitted encoder: `out = W·x + b`, `W` row per output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseLayer {
    /// Weights, one row per output.
    pub weight: Vec<Vec<f64>>,
    /// Biases.
    pub bias: Vec<f64>,
}

/// The fitted encoder (input → code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    /// Layers in order (ReLU between them).
    pub layers: Vec<DenseLayer>,
    /// Final mean training losses: reconstruction, classification.
    pub losses: (f64, f64),
}

impl Encoder {
    /// The code of one standardised row.
    pub fn encode(&self, row: &[f64]) -> Vec<f64> {
        let last = self.layers.len().saturating_sub(1);
        let mut x = row.to_vec();
        for (i, l) in self.layers.iter().enumerate() {
            x = l
                .weight
                .iter()
                .zip(&l.bias)
                .map(|(w, b)| {
                    let v = w.iter().zip(&x).map(|(a, c)| a * c).sum::<f64>() + b;
                    if i < last { v.max(0.0) } else { v }
                })
                .collect();
        }
        x
    }

    /// Width of the code.
    pub fn width(&self) -> usize {
        self.layers.last().map_or(0, |l| l.bias.len())
    }
}

fn dense(l: &Linear) -> Result<DenseLayer> {
    let bad = |e: String| ModelError::InvalidInput(format!("autoencoder weights: {e}"));
    let w = l.weight.val();
    let [d_in, d_out] = w.dims();
    let values = w.into_data().try_to_vec::<f32>().map_err(|e| bad(format!("{e:?}")))?;
    // burn stores [d_in, d_out]; rows of the result are outputs.
    let weight = (0..d_out).map(|o| (0..d_in).map(|i| f64::from(values[i * d_out + o])).collect()).collect();
    let bias = match &l.bias {
        Some(b) => b
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| bad(format!("{e:?}")))?
            .into_iter()
            .map(f64::from)
            .collect(),
        None => vec![0.0; d_out],
    };
    Ok(DenseLayer { weight, bias })
}

/// Trains the dual-loss autoencoder on standardised rows `x` with classes
/// `y` and returns its encoder to an `n`-wide code.
pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, n: usize, seed: u64) -> Result<Encoder> {
    if n == 0 {
        return Err(ModelError::InvalidInput("autoencoder: the code needs at least one dimension".into()));
    }
    let d = x.first().map_or(0, Vec::len);
    let widths: Vec<usize> = std::iter::once(d).chain(HIDDEN).chain(std::iter::once(n)).collect();
    train(x, y, n_classes, &widths, true, EPOCHS, seed)
}

/// An MLP classifier (ReLU hidden layers) on standardised rows; its layers
/// end in the class logits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// The layers, input to logits.
    pub net: Encoder,
}

impl Mlp {
    /// Fits `d → hidden… → n_classes` by cross-entropy.
    pub fn fit(
        x: &[Vec<f64>],
        y: &[usize],
        n_classes: usize,
        hidden: &[usize],
        epochs: usize,
        seed: u64,
    ) -> Result<Self> {
        let d = x.first().map_or(0, Vec::len);
        let widths: Vec<usize> = std::iter::once(d)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(n_classes.max(2)))
            .collect();
        Ok(Self { net: train(x, y, n_classes, &widths, false, epochs, seed)? })
    }

    /// Class probabilities of one standardised row.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut z = self.net.encode(row);
        super::softmax(&mut z);
        z
    }

    /// Width of the rows it takes.
    pub fn n_features(&self) -> usize {
        self.net.layers.first().and_then(|l| l.weight.first()).map_or(0, Vec::len)
    }
}

/// Trains layers `widths` (first = row width, last = code or logits); with
/// `autoencode`, also a mirrored decoder and a classifier on the code.
fn train(
    x: &[Vec<f64>],
    y: &[usize],
    n_classes: usize,
    widths: &[usize],
    autoencode: bool,
    epochs: usize,
    seed: u64,
) -> Result<Encoder> {
    let d = widths[0];
    if x.is_empty() || d == 0 || x.len() != y.len() {
        return Err(ModelError::InvalidInput("dense network: no rows, zero width or missing classes".into()));
    }
    let device = Device::default().autodiff();
    device.seed(seed);
    let n = *widths.last().unwrap_or(&1);
    let back: Vec<usize> = widths.iter().rev().copied().collect();
    let mut model = DualAutoencoder {
        encoder: mlp(widths, &device),
        decoder: if autoencode { mlp(&back, &device) } else { Vec::new() },
        classifier: autoencode.then(|| LinearConfig::new(n, n_classes.max(2)).init(&device)),
    };
    let mut optim = AdamConfig::new().init();
    let mut order: Vec<usize> = (0..x.len()).collect();
    let mut state = seed ^ 0x2545_f491_4f6c_dd1d;
    let mut losses = (0.0, 0.0);
    for _ in 0..epochs.max(1) {
        // Fisher-Yates with an xorshift stream: seeded and cheap.
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let (mut rec_sum, mut cls_sum) = (0.0, 0.0);
        for batch in order.chunks(BATCH) {
            let b = batch.len();
            let rows: Vec<f32> = batch.iter().flat_map(|&i| x[i].iter().map(|&v| v as f32)).collect();
            let input = Tensor::<2>::from_data(TensorData::new(rows, [b, d]), &device);
            let targets: Vec<i64> = batch.iter().map(|&i| y[i] as i64).collect();
            let targets = Tensor::<2, Int>::from_data(TensorData::new(targets, [b, 1]), &device);
            let code = run(&model.encoder, input.clone());
            let logits = match &model.classifier {
                Some(c) => c.forward(code.clone()),
                None => code.clone(),
            };
            let cls = log_softmax(logits, 1).gather(1, targets).mean().neg();
            cls_sum += f64::from(cls.clone().detach().into_scalar::<f32>()) * b as f64;
            let loss = if autoencode {
                let rec = (run(&model.decoder, code) - input).powi_scalar(2).mean();
                rec_sum += f64::from(rec.clone().detach().into_scalar::<f32>()) * b as f64;
                rec + cls.mul_scalar(CLASS_WEIGHT)
            } else {
                cls
            };
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model, grads);
        }
        losses = (rec_sum / x.len() as f64, cls_sum / x.len() as f64);
        if !(losses.0.is_finite() && losses.1.is_finite()) {
            return Err(ModelError::InvalidInput("dense network training diverged".into()));
        }
    }
    let layers = model.encoder.iter().map(dense).collect::<Result<Vec<_>>>()?;
    Ok(Encoder { layers, losses })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes apart along one of 12 noisy dimensions: the 2-wide code
    /// must keep them apart, and encoding in plain Rust must be finite and
    /// deterministic for a seed.
    #[test]
    fn code_separates_classes() {
        let mut s = 7u64;
        let mut noise = || {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((s >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..200 {
            let c = i % 2;
            let mut row: Vec<f64> = (0..12).map(|_| noise()).collect();
            row[3] += if c == 0 { -2.0 } else { 2.0 };
            x.push(row);
            y.push(c);
        }
        let enc = fit(&x, &y, 2, 2, 1).unwrap();
        assert_eq!(enc.width(), 2);
        assert!(enc.losses.1 < 0.2, "classification loss {}", enc.losses.1);
        let codes: Vec<Vec<f64>> = x.iter().map(|r| enc.encode(r)).collect();
        // Nearest class centroid in code space classifies nearly every row.
        let centroid = |c: usize| {
            let rows: Vec<&Vec<f64>> =
                codes.iter().zip(&y).filter(|(_, t)| **t == c).map(|(r, _)| r).collect();
            (0..2).map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64).collect::<Vec<_>>()
        };
        let (c0, c1) = (centroid(0), centroid(1));
        let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
        let right = codes.iter().zip(&y).filter(|(r, t)| (dist(r, &c0) < dist(r, &c1)) == (**t == 0)).count();
        assert!(right >= 190, "{right} of 200");
        assert_eq!(fit(&x, &y, 2, 2, 1).unwrap(), enc);
        let mlp = Mlp::fit(&x, &y, 2, &[16], 60, 3).unwrap();
        let right = x
            .iter()
            .zip(&y)
            .filter(|(r, t)| {
                let p = mlp.predict_proba(r);
                (p[1] > p[0]) == (**t == 1)
            })
            .count();
        assert!(right >= 190, "mlp: {right} of 200");
        assert_eq!(mlp.n_features(), 12);
    }
}
