//! torchvision's ImageNet networks for transfer learning on spectrograms
//! (seeds 003 and 004): ResNet-18/50, MobileNetV2, EfficientNetV2-S and
//! VGG16, laid out so that their parameters take a PyTorch `state_dict`'s
//! weights ([`import`]). A spectrogram segment becomes an image the way the
//! reports fed them: frequency upwards, time across, resized (bilinear) to
//! the square side the network expects, copied to three channels and
//! normalised with ImageNet's channel means and deviations.

mod efficientnet;
pub mod import;
mod layers;
mod mobilenet;
mod resnet;
mod vgg16;

pub use efficientnet::{EFFICIENTNET_V2_S, EfficientStage};
pub use import::{Family, ImportSummary, read_torch_weights};
pub use mobilenet::MOBILENET_V2_STAGES;
pub use vgg16::VGG16_LAYERS;

use burn::module::Module;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::tensor_file::{Weight, Weights};

/// ImageNet channel means (RGB) torchvision's weights were trained with.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// A network family and its shape (what a model file records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum ImageNet {
    /// ResNet: basic blocks (18, 34) or bottlenecks (50, 101).
    Resnet {
        /// Bottleneck blocks.
        bottleneck: bool,
        /// Blocks per stage.
        blocks: [usize; 4],
        /// Width of the first stage (64).
        width: usize,
    },
    /// MobileNetV2.
    MobilenetV2 {
        /// Width multiplier.
        width: f64,
        /// Inverted-residual settings `[t, c, n, s]`.
        stages: Vec<[usize; 4]>,
    },
    /// EfficientNetV2.
    EfficientnetV2 {
        /// Stages.
        stages: Vec<EfficientStage>,
        /// Maps before pooling.
        last: usize,
    },
    /// VGG.
    Vgg {
        /// Channels per convolution, 0 for max-pooling.
        layers: Vec<usize>,
        /// Batch norm after each convolution (`vgg16_bn`).
        batch_norm: bool,
        /// Width of the two hidden dense layers.
        hidden: usize,
    },
}

impl ImageNet {
    /// The network torchvision calls `name` (`resnet18`, `resnet50`,
    /// `mobilenet-v2`, `efficientnet-v2-s`, `vgg16`, `vgg16-bn`).
    pub fn named(name: &str) -> Option<Self> {
        Some(match name {
            "resnet18" => Self::Resnet { bottleneck: false, blocks: [2, 2, 2, 2], width: 64 },
            "resnet34" => Self::Resnet { bottleneck: false, blocks: [3, 4, 6, 3], width: 64 },
            "resnet50" => Self::Resnet { bottleneck: true, blocks: [3, 4, 6, 3], width: 64 },
            "mobilenet-v2" | "mobilenetv2" => {
                Self::MobilenetV2 { width: 1.0, stages: MOBILENET_V2_STAGES.to_vec() }
            }
            "efficientnet-v2-s" | "efficientnetv2-s" => {
                Self::EfficientnetV2 { stages: EFFICIENTNET_V2_S.to_vec(), last: 1280 }
            }
            "vgg16" => Self::Vgg { layers: VGG16_LAYERS.to_vec(), batch_norm: false, hidden: 4096 },
            "vgg16-bn" => Self::Vgg { layers: VGG16_LAYERS.to_vec(), batch_norm: true, hidden: 4096 },
            _ => return None,
        })
    }

    /// Dropout before the classifier torchvision uses (0.2 for MobileNetV2
    /// and EfficientNetV2-S, 0.5 for VGG; ResNet has none).
    pub fn default_dropout(&self) -> f64 {
        match self {
            Self::Resnet { .. } => 0.0,
            Self::MobilenetV2 { .. } | Self::EfficientnetV2 { .. } => 0.2,
            Self::Vgg { .. } => 0.5,
        }
    }

    /// How its parameter paths map to PyTorch keys.
    pub fn family(&self) -> Family {
        match self {
            Self::Resnet { .. } => Family::Resnet,
            Self::MobilenetV2 { .. } | Self::EfficientnetV2 { .. } => Family::Classifier1,
            Self::Vgg { .. } => Family::Vgg,
        }
    }

    fn build(&self, classes: usize, dropout: f64, device: &Device) -> Body {
        match self {
            Self::Resnet { bottleneck, blocks, width } => {
                Body::Resnet(resnet::ResNet::new(*bottleneck, *blocks, *width, classes, dropout, device))
            }
            Self::MobilenetV2 { width, stages } => {
                Body::Mobilenet(mobilenet::MobileNetV2::new(*width, stages, classes, dropout, device))
            }
            Self::EfficientnetV2 { stages, last } => {
                Body::Efficientnet(efficientnet::EfficientNetV2::new(stages, *last, classes, dropout, device))
            }
            Self::Vgg { layers, batch_norm, hidden } => {
                Body::Vgg(vgg16::Vgg::new(layers, *batch_norm, *hidden, classes, dropout, device))
            }
        }
    }
}

/// An ImageNet network and the image side it reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSpec {
    /// The network.
    pub net: ImageNet,
    /// Side of the square image a segment is resized to (224 for ImageNet weights).
    pub size: usize,
    /// Dropout before the classifier.
    pub dropout: f64,
}

impl ImageSpec {
    /// `NAME` or `NAME@SIZE` (`resnet18@128`): the network torchvision calls
    /// NAME, reading SIZE×SIZE images (224 by default).
    pub fn from_name(name: &str) -> Option<Self> {
        let (name, size) = match name.split_once('@') {
            Some((n, s)) => (n, s.parse().ok().filter(|&s: &usize| s >= 32)?),
            None => (name, 224),
        };
        let net = ImageNet::named(name)?;
        let dropout = net.default_dropout();
        Some(Self { net, size, dropout })
    }

    /// A freshly initialised network with `classes` outputs.
    pub fn build(&self, classes: usize, device: &Device) -> ImageNetwork {
        ImageNetwork {
            size: self.size,
            family: self.net.family(),
            body: self.net.build(classes, self.dropout, device),
        }
    }
}

/// One of the networks.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Body {
    /// ResNet.
    Resnet(resnet::ResNet),
    /// MobileNetV2.
    Mobilenet(mobilenet::MobileNetV2),
    /// EfficientNetV2.
    Efficientnet(efficientnet::EfficientNetV2),
    /// VGG.
    Vgg(vgg16::Vgg),
}

/// An ImageNet network that reads spectrogram segments.
#[derive(Module, Debug)]
pub struct ImageNetwork {
    size: usize,
    #[module(skip)]
    family: Family,
    body: Body,
}

impl ImageNetwork {
    /// Logits `[batch, classes]` for spectrogram segments `[batch, frames, bins]`
    /// (min-max normalised to 0–1).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.forward_image(to_image(x, self.size))
    }

    /// Logits for ImageNet-normalised images `[batch, 3, h, w]`.
    pub fn forward_image(&self, x: Tensor<4>) -> Tensor<2> {
        match &self.body {
            Body::Resnet(n) => n.forward(x),
            Body::Mobilenet(n) => n.forward(x),
            Body::Efficientnet(n) => n.forward(x),
            Body::Vgg(n) => n.forward(x),
        }
    }

    /// The network with every layer but the classification head frozen
    /// (no gradients; batch norm keeps its running statistics), for the first
    /// stage of seed 003's schedule.
    pub fn freeze_backbone(self) -> Self {
        let family = self.family;
        let frozen = self.freeze();
        let head = |p: &str| family.is_head(p) || (family == Family::Vgg && p.starts_with("classifier."));
        unfreeze_matching(frozen, &head)
    }

    /// The network with PyTorch weights from `weights` (see [`import`]);
    /// the head keeps its fresh initialisation unless `keep_head`.
    pub fn import(
        self,
        weights: &Weights,
        keep_head: bool,
        device: &Device,
    ) -> Result<(Self, ImportSummary)> {
        let family = self.family;
        let size = self.size;
        let (body, summary) = match self.body {
            Body::Resnet(n) => {
                let (n, s) = import::import(n, family, weights, keep_head, device)?;
                (Body::Resnet(n), s)
            }
            Body::Mobilenet(n) => {
                let (n, s) = import::import(n, family, weights, keep_head, device)?;
                (Body::Mobilenet(n), s)
            }
            Body::Efficientnet(n) => {
                let (n, s) = import::import(n, family, weights, keep_head, device)?;
                (Body::Efficientnet(n), s)
            }
            Body::Vgg(n) => {
                let (n, s) = import::import(n, family, weights, keep_head, device)?;
                (Body::Vgg(n), s)
            }
        };
        Ok((Self { size, family, body }, summary))
    }
}

impl ImageNetwork {
    /// The weights as a PyTorch `state_dict` of torchvision's layout (keys
    /// and shapes as [`import`] reads them), for use outside genreid.
    pub fn torch_state_dict(&self) -> Weights {
        let family = self.family;
        crate::neural::weights_of(&self.body)
            .into_iter()
            .map(|(path, w)| {
                // Paths start at the body's variant (`Resnet.`, ...).
                let rel = path.split_once('.').map_or(path.as_str(), |(_, r)| r);
                let w = match w.shape[..] {
                    [rows, cols] => {
                        Weight { shape: vec![cols, rows], values: import::transpose(&w.values, rows, cols) }
                    }
                    _ => w,
                };
                (family.torch_key(rel), w)
            })
            .collect()
    }
}

fn unfreeze_matching(net: ImageNetwork, head: &dyn Fn(&str) -> bool) -> ImageNetwork {
    use burn::module::{Flag, ModuleMapper, Param};
    struct Unfreeze<'a> {
        path: Vec<String>,
        head: &'a dyn Fn(&str) -> bool,
    }
    impl ModuleMapper for Unfreeze<'_> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if (self.head)(&self.relative()) { param.set_require_grad(true) } else { param }
        }
        fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
            // The head's dropout keeps working while the backbone is frozen.
            if self.relative().starts_with("dropout") { flag.with_value(true) } else { flag }
        }
    }
    impl Unfreeze<'_> {
        /// The path below `body.Variant.`, as the head test reads it.
        fn relative(&self) -> String {
            self.path.iter().skip(2).cloned().collect::<Vec<_>>().join(".")
        }
    }
    net.map(&mut Unfreeze { path: Vec::new(), head })
}

/// Spectrogram segments `[batch, frames, bins]` as ImageNet-normalised
/// images `[batch, 3, size, size]`: frequency upwards (low at the bottom),
/// time across, bilinear resize (half-pixel centres, as PyTorch's
/// `interpolate(..., align_corners=False)`), three equal channels.
pub fn to_image(x: Tensor<3>, size: usize) -> Tensor<4> {
    let [b, t, f] = x.dims();
    let device = x.device();
    let x = x.swap_dims(1, 2).flip([1]).reshape([b, 1, f, t]);
    let x = interpolate(
        x,
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([size, size]),
    );
    let x = x.repeat_dim(1, 3);
    let mean = Tensor::<4>::from_data(TensorData::new(IMAGENET_MEAN.to_vec(), [1, 3, 1, 1]), &device);
    let std = Tensor::<4>::from_data(TensorData::new(IMAGENET_STD.to_vec(), [1, 3, 1, 1]), &device);
    (x - mean) / std
}
