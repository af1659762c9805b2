//! VGG as torchvision's `vgg16` / `vgg16_bn`: 3×3 convolutions (with bias,
//! optionally batch norm) and ReLU, 2×2 max-pooling between stages, adaptive
//! average pooling to 7×7, then `classifier.0/3/6`: two 4096-wide dense
//! layers with ReLU and dropout, and the output layer.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::{adaptive_avg_pool2d, max_pool2d};
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use super::layers::{batch_norm, conv};

/// VGG16's layer plan (torchvision's configuration "D"): channels, 0 for max-pooling.
pub const VGG16_LAYERS: [usize; 18] =
    [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

/// One of `features.N` (ReLU and pooling hold no weights but keep the numbering).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Layer {
    /// 3×3 convolution.
    Conv(Conv2d),
    /// Batch norm (the `_bn` variants).
    Norm(BatchNorm),
    /// ReLU.
    Relu(burn::nn::Relu),
    /// 2×2 max-pooling.
    Pool(burn::nn::Identity),
}

/// A VGG.
#[derive(Module, Debug)]
pub struct Vgg {
    features: Vec<Layer>,
    classifier: Vec<Linear>,
    dropout: Dropout,
}

impl Vgg {
    /// A network over `layers` (channels, 0 = pool; [`VGG16_LAYERS`]) with
    /// `hidden`-wide dense layers (4096 in torchvision).
    pub fn new(
        layers: &[usize],
        batch_norm_layers: bool,
        hidden: usize,
        classes: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let mut features = Vec::new();
        let mut c_in = 3;
        for &c in layers {
            if c == 0 {
                features.push(Layer::Pool(burn::nn::Identity::new()));
                continue;
            }
            features.push(Layer::Conv(conv(c_in, c, 3, 1, 1, true, device)));
            if batch_norm_layers {
                features.push(Layer::Norm(batch_norm(c, 1e-5, device)));
            }
            features.push(Layer::Relu(burn::nn::Relu::new()));
            c_in = c;
        }
        let classifier = vec![
            LinearConfig::new(c_in * 49, hidden).init(device),
            LinearConfig::new(hidden, hidden).init(device),
            LinearConfig::new(hidden, classes).init(device),
        ];
        Self { features, classifier, dropout: DropoutConfig::new(dropout).init() }
    }

    /// Logits for images `[batch, 3, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features.iter().fold(x, |x, l| match l {
            Layer::Conv(c) => c.forward(x),
            Layer::Norm(n) => n.forward(x),
            Layer::Relu(_) => relu(x),
            Layer::Pool(_) => max_pool2d(x, MaxPoolOptions::new([2, 2])),
        });
        let x = adaptive_avg_pool2d(x, [7, 7]);
        let [b, c, h, w] = x.dims();
        let mut x: Tensor<2> = x.reshape([b, c * h * w]);
        let last = self.classifier.len() - 1;
        for (i, layer) in self.classifier.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.dropout.forward(relu(x));
            }
        }
        x
    }
}
