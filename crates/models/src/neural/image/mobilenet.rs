//! MobileNetV2 as torchvision's `mobilenet_v2`: a 3×3 stem, inverted
//! residual blocks (1×1 expansion, 3×3 depthwise, linear 1×1 projection;
//! ReLU6), a 1×1 conv to 1280 maps, global average pooling, dropout 0.2 and
//! the classifier (`classifier.1`).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::layers::{Act, ConvNormAct, ConvShape, batch_norm, conv, global_average, make_divisible};

const EPS: f64 = 1e-5;

/// torchvision's inverted-residual settings `[t, c, n, s]`: expansion,
/// output channels, repeats, first stride.
pub const MOBILENET_V2_STAGES: [[usize; 4]; 7] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
];

/// A layer inside an inverted residual (torchvision's `conv.N`).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum BlockLayer {
    /// Expansion or depthwise convolution with batch norm and ReLU6.
    Cna(ConvNormAct),
    /// The linear 1×1 projection.
    Conv(Conv2d),
    /// Its batch norm.
    Norm(BatchNorm),
}

/// An inverted residual block.
#[derive(Module, Debug)]
pub struct InvertedResidual {
    conv: Vec<BlockLayer>,
    residual: bool,
}

impl InvertedResidual {
    fn new(c_in: usize, c_out: usize, stride: usize, expansion: usize, device: &Device) -> Self {
        let hidden = c_in * expansion;
        let mut conv_layers = Vec::new();
        if expansion != 1 {
            let shape = ConvShape::new(c_in, hidden, 1, 1);
            conv_layers.push(BlockLayer::Cna(ConvNormAct::new(shape, EPS, Act::relu6(), device)));
        }
        let depthwise = ConvShape::depthwise(hidden, 3, stride);
        conv_layers.push(BlockLayer::Cna(ConvNormAct::new(depthwise, EPS, Act::relu6(), device)));
        conv_layers.push(BlockLayer::Conv(conv(hidden, c_out, 1, 1, 1, false, device)));
        conv_layers.push(BlockLayer::Norm(batch_norm(c_out, EPS, device)));
        Self { conv: conv_layers, residual: stride == 1 && c_in == c_out }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let out = self.conv.iter().fold(x.clone(), |x, l| match l {
            BlockLayer::Cna(c) => c.forward(x),
            BlockLayer::Conv(c) => c.forward(x),
            BlockLayer::Norm(n) => n.forward(x),
        });
        if self.residual { out + x } else { out }
    }
}

/// One of `features.N`.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Feature {
    /// The stem or the last 1×1 convolution.
    Cna(ConvNormAct),
    /// An inverted residual.
    Block(InvertedResidual),
}

/// A MobileNetV2.
#[derive(Module, Debug)]
pub struct MobileNetV2 {
    features: Vec<Feature>,
    dropout: Dropout,
    classifier: Linear,
}

impl MobileNetV2 {
    /// A network of width multiplier `width` over `stages` (`[t, c, n, s]`,
    /// torchvision's are [`MOBILENET_V2_STAGES`]).
    pub fn new(width: f64, stages: &[[usize; 4]], classes: usize, dropout: f64, device: &Device) -> Self {
        let mut c_in = make_divisible(32.0 * width, 8);
        let last = make_divisible(1280.0 * width.max(1.0), 8);
        let stem = ConvNormAct::new(ConvShape::new(3, c_in, 3, 2), EPS, Act::relu6(), device);
        let mut features = vec![Feature::Cna(stem)];
        for &[t, c, n, s] in stages {
            let c_out = make_divisible(c as f64 * width, 8);
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                features.push(Feature::Block(InvertedResidual::new(c_in, c_out, stride, t, device)));
                c_in = c_out;
            }
        }
        let head = ConvNormAct::new(ConvShape::new(c_in, last, 1, 1), EPS, Act::relu6(), device);
        features.push(Feature::Cna(head));
        Self {
            features,
            dropout: DropoutConfig::new(dropout).init(),
            classifier: LinearConfig::new(last, classes).init(device),
        }
    }

    /// Logits for images `[batch, 3, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features.iter().fold(x, |x, f| match f {
            Feature::Cna(c) => c.forward(x),
            Feature::Block(b) => b.forward(x),
        });
        self.classifier.forward(self.dropout.forward(global_average(x)))
    }
}
