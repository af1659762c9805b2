//! ResNet-18/34 (basic blocks) and ResNet-50/101 (bottlenecks, torchvision's
//! v1.5 with the stride on the 3×3 convolution), laid out as torchvision's
//! `resnet*`: `conv1`, `bn1`, `layer1`–`layer4`, `fc`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use super::layers::{batch_norm, conv, global_average};

const EPS: f64 = 1e-5;

/// A layer of a downsampling shortcut (torchvision's `downsample.0/.1`).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ShortcutLayer {
    /// The 1×1 strided convolution.
    Conv(Conv2d),
    /// Its batch norm.
    Norm(BatchNorm),
}

/// A residual block: basic (two 3×3) or bottleneck (1×1, 3×3, 1×1).
#[derive(Module, Debug)]
pub struct Residual {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Option<Conv2d>,
    bn3: Option<BatchNorm>,
    downsample: Option<Vec<ShortcutLayer>>,
}

impl Residual {
    fn new(c_in: usize, planes: usize, stride: usize, bottleneck: bool, device: &Device) -> Self {
        let expansion = if bottleneck { 4 } else { 1 };
        let c_out = planes * expansion;
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            vec![
                ShortcutLayer::Conv(conv(c_in, c_out, 1, stride, 1, false, device)),
                ShortcutLayer::Norm(batch_norm(c_out, EPS, device)),
            ]
        });
        if bottleneck {
            Self {
                conv1: conv(c_in, planes, 1, 1, 1, false, device),
                bn1: batch_norm(planes, EPS, device),
                conv2: conv(planes, planes, 3, stride, 1, false, device),
                bn2: batch_norm(planes, EPS, device),
                conv3: Some(conv(planes, c_out, 1, 1, 1, false, device)),
                bn3: Some(batch_norm(c_out, EPS, device)),
                downsample,
            }
        } else {
            Self {
                conv1: conv(c_in, planes, 3, stride, 1, false, device),
                bn1: batch_norm(planes, EPS, device),
                conv2: conv(planes, planes, 3, 1, 1, false, device),
                bn2: batch_norm(planes, EPS, device),
                conv3: None,
                bn3: None,
                downsample,
            }
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut out = relu(self.bn1.forward(self.conv1.forward(x.clone())));
        out = self.bn2.forward(self.conv2.forward(out));
        if let (Some(c3), Some(b3)) = (&self.conv3, &self.bn3) {
            out = b3.forward(c3.forward(relu(out)));
        }
        let shortcut = match &self.downsample {
            Some(layers) => layers.iter().fold(x, |x, l| match l {
                ShortcutLayer::Conv(c) => c.forward(x),
                ShortcutLayer::Norm(n) => n.forward(x),
            }),
            None => x,
        };
        relu(out + shortcut)
    }
}

/// A ResNet.
#[derive(Module, Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    layer1: Vec<Residual>,
    layer2: Vec<Residual>,
    layer3: Vec<Residual>,
    layer4: Vec<Residual>,
    dropout: Dropout,
    fc: Linear,
}

impl ResNet {
    /// `blocks` residual blocks per stage, stage widths `width·(1, 2, 4, 8)`
    /// (64 in torchvision), `classes` outputs.
    pub fn new(
        bottleneck: bool,
        blocks: [usize; 4],
        width: usize,
        classes: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let expansion = if bottleneck { 4 } else { 1 };
        let mut c_in = width;
        let mut stage = |i: usize| {
            let planes = width << i;
            let stride = if i == 0 { 1 } else { 2 };
            let blocks: Vec<Residual> = (0..blocks[i].max(1))
                .map(|j| {
                    let block =
                        Residual::new(c_in, planes, if j == 0 { stride } else { 1 }, bottleneck, device);
                    c_in = planes * expansion;
                    block
                })
                .collect();
            blocks
        };
        let (layer1, layer2, layer3, layer4) = (stage(0), stage(1), stage(2), stage(3));
        let features = (width << 3) * expansion;
        Self {
            conv1: conv(3, width, 7, 2, 1, false, device),
            bn1: batch_norm(width, EPS, device),
            layer1,
            layer2,
            layer3,
            layer4,
            dropout: DropoutConfig::new(dropout).init(),
            fc: LinearConfig::new(features, classes).init(device),
        }
    }

    /// Logits for images `[batch, 3, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = relu(self.bn1.forward(self.conv1.forward(x)));
        let mut x = max_pool2d(x, MaxPoolOptions::new([3, 3]).with_stride([2, 2]).with_padding([1, 1]));
        for stage in [&self.layer1, &self.layer2, &self.layer3, &self.layer4] {
            x = stage.iter().fold(x, |x, b| b.forward(x));
        }
        self.fc.forward(self.dropout.forward(global_average(x)))
    }
}
