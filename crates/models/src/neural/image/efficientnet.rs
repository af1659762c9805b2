//! EfficientNetV2 as torchvision's `efficientnet_v2_s`: a 3×3 stem, stages
//! of Fused-MBConv (fused 3×3 expansion, 1×1 projection) and MBConv (1×1
//! expansion, depthwise 3×3, squeeze-and-excitation, 1×1 projection)
//! blocks with SiLU and batch norm (eps 1e-3), a 1×1 conv to 1280 maps,
//! global average pooling, dropout and the classifier (`classifier.1`).
//! Stochastic depth is a training-time regulariser with no weights; it is
//! not applied here (dropout before the classifier is).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, silu};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::layers::{Act, ConvNormAct, ConvShape, conv, global_average, make_divisible};

const EPS: f64 = 1e-3;

/// One stage of an EfficientNetV2 (torchvision's `FusedMBConvConfig` /
/// `MBConvConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfficientStage {
    /// Fused-MBConv (true) or MBConv.
    pub fused: bool,
    /// Expansion ratio.
    pub expand: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride of the first block.
    pub stride: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Blocks.
    pub layers: usize,
}

const fn stage(
    fused: bool,
    expand: usize,
    stride: usize,
    c_in: usize,
    c_out: usize,
    layers: usize,
) -> EfficientStage {
    EfficientStage { fused, expand, kernel: 3, stride, c_in, c_out, layers }
}

/// EfficientNetV2-S's stages (torchvision's `_efficientnet_conf("efficientnet_v2_s")`).
pub const EFFICIENTNET_V2_S: [EfficientStage; 6] = [
    stage(true, 1, 1, 24, 24, 2),
    stage(true, 4, 2, 24, 48, 4),
    stage(true, 4, 2, 48, 64, 4),
    stage(false, 4, 2, 64, 128, 6),
    stage(false, 6, 1, 128, 160, 9),
    stage(false, 6, 2, 160, 256, 15),
];

/// Squeeze-and-excitation: channel weights from the pooled maps.
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    fc1: Conv2d,
    fc2: Conv2d,
}

impl SqueezeExcite {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, _, _] = x.dims();
        let s = global_average(x.clone()).reshape([b, c, 1, 1]);
        let s = sigmoid(self.fc2.forward(silu(self.fc1.forward(s))));
        x * s
    }
}

/// A layer of a block (torchvision's `block.N`).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum BlockLayer {
    /// Convolution, batch norm, activation.
    Cna(ConvNormAct),
    /// Squeeze-and-excitation.
    Se(SqueezeExcite),
}

/// A Fused-MBConv or MBConv block.
#[derive(Module, Debug)]
pub struct Block {
    block: Vec<BlockLayer>,
    residual: bool,
}

impl Block {
    fn new(s: &EfficientStage, c_in: usize, stride: usize, device: &Device) -> Self {
        let c_out = s.c_out;
        let expanded = make_divisible((c_in * s.expand) as f64, 8);
        let cna = |shape, act| BlockLayer::Cna(ConvNormAct::new(shape, EPS, act, device));
        let mut block = Vec::new();
        if s.fused {
            if expanded != c_in {
                block.push(cna(ConvShape::new(c_in, expanded, s.kernel, stride), Act::silu()));
                block.push(cna(ConvShape::new(expanded, c_out, 1, 1), Act::none()));
            } else {
                block.push(cna(ConvShape::new(c_in, c_out, s.kernel, stride), Act::silu()));
            }
        } else {
            if expanded != c_in {
                block.push(cna(ConvShape::new(c_in, expanded, 1, 1), Act::silu()));
            }
            block.push(cna(ConvShape::depthwise(expanded, s.kernel, stride), Act::silu()));
            let squeeze = (c_in / 4).max(1);
            block.push(BlockLayer::Se(SqueezeExcite {
                fc1: conv(expanded, squeeze, 1, 1, 1, true, device),
                fc2: conv(squeeze, expanded, 1, 1, 1, true, device),
            }));
            block.push(cna(ConvShape::new(expanded, c_out, 1, 1), Act::none()));
        }
        Self { block, residual: stride == 1 && c_in == c_out }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let out = self.block.iter().fold(x.clone(), |x, l| match l {
            BlockLayer::Cna(c) => c.forward(x),
            BlockLayer::Se(s) => s.forward(x),
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
    /// A stage of blocks.
    Stage(Vec<Block>),
}

/// An EfficientNetV2.
#[derive(Module, Debug)]
pub struct EfficientNetV2 {
    features: Vec<Feature>,
    dropout: Dropout,
    classifier: Linear,
}

impl EfficientNetV2 {
    /// A network over `stages` ([`EFFICIENTNET_V2_S`] for the S model) with
    /// `last` maps before pooling (1280 in torchvision).
    pub fn new(
        stages: &[EfficientStage],
        last: usize,
        classes: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        // MBConv stages round their widths to multiples of 8 (width 1.0), as torchvision does.
        let width = |s: &EfficientStage, c: usize| if s.fused { c } else { make_divisible(c as f64, 8) };
        let first = stages.first().map_or(24, |s| width(s, s.c_in));
        let stem = ConvNormAct::new(ConvShape::new(3, first, 3, 2), EPS, Act::silu(), device);
        let mut features = vec![Feature::Cna(stem)];
        let mut c_in = first;
        for s in stages {
            let s = EfficientStage { c_in: width(s, s.c_in), c_out: width(s, s.c_out), ..*s };
            let blocks = (0..s.layers)
                .map(|i| {
                    let block = Block::new(
                        &s,
                        if i == 0 { s.c_in } else { s.c_out },
                        if i == 0 { s.stride } else { 1 },
                        device,
                    );
                    c_in = s.c_out;
                    block
                })
                .collect();
            features.push(Feature::Stage(blocks));
        }
        let head = ConvNormAct::new(ConvShape::new(c_in, last, 1, 1), EPS, Act::silu(), device);
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
            Feature::Stage(blocks) => blocks.iter().fold(x, |x, b| b.forward(x)),
        });
        self.classifier.forward(self.dropout.forward(global_average(x)))
    }
}
