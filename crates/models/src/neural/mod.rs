//! Networks trained here on spectrogram segments (seeds 000–004): LeNet-5,
//! a simple CNN, SpectralCNN, a VGG-style net, the CRNN family, LSTM/GRU
//! classifiers and a custom CNN, one file each, in burn. A [`NetworkFile`]
//! holds one with its labels and input settings (safetensors + manifest), so
//! `classify --model FILE` needs nothing else.

mod blocks;
pub mod conv_kernel;
mod conv_op;
mod crnn;
mod custom_cnn;
mod file;
pub mod image;
mod lenet;
pub mod musicnn_net;
pub mod norm_kernel;
mod norm_op;
mod params;
mod recurrent;
mod simple_cnn;
mod spectral_cnn;
mod vgg;

pub use file::{NETWORK_KEY, NETWORK_VERSION, NetworkFile, NetworkManifest};
pub use params::{load_weights, weights_of, with_stable_ids};

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::tensor_file::Weights;
use crate::{ModelError, Result};

/// An architecture and its shape settings (what a model file records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum ArchitectureSpec {
    /// LeNet-5.
    Lenet5,
    /// Seed 002's three-convolution CNN.
    SimpleCnn,
    /// Seed 004's SpectralCNN.
    SpectralCnn {
        /// Dropout between dense layers.
        dropout: f64,
    },
    /// Seed 001's VGG-style network.
    Vgg {
        /// Dropout before the output.
        dropout: f64,
    },
    /// Seed 000's CRNN.
    Crnn {
        /// Convolution blocks (2–4).
        conv_blocks: usize,
        /// GRU layers.
        gru_layers: usize,
        /// GRU width.
        hidden: usize,
        /// Dropout before the output.
        dropout: f64,
    },
    /// LSTM over frames.
    Lstm {
        /// Layers.
        layers: usize,
        /// Width.
        hidden: usize,
    },
    /// GRU over frames.
    Gru {
        /// Layers.
        layers: usize,
        /// Width.
        hidden: usize,
    },
    /// Seed 003's custom CNN with L2-penalised dense layers.
    CustomCnn {
        /// Weight of the L2 penalty on dense weights.
        l2: f64,
    },
    /// An ImageNet network (seeds 003, 004) reading segments as images.
    Image(image::ImageSpec),
    /// musicnn with a new head, started from a built-in tagger's weights
    /// and fine-tuned (reads musicnn's own log-mel input).
    Musicnn {
        /// The built-in tagger the backbone starts from (`msd-musicnn`, `mtt-musicnn`).
        backbone: String,
        /// Dropout before the head.
        dropout: f64,
    },
}

/// Architecture names `--model` accepts, with what each is.
pub const ARCHITECTURES: [(&str, &str); 20] = [
    ("lenet5", "LeNet-5 (seed 000's baseline)"),
    ("cnn", "three-convolution CNN (seed 002)"),
    ("spectral-cnn", "SpectralCNN: 5 conv + 3 dense, batch norm, dropout (seed 004)"),
    ("vgg", "VGG-style net with batch norm (seed 001)"),
    ("crnn", "CRNN Base: 4 conv blocks + 2 GRU layers (seed 000)"),
    ("crnn-l2reg", "CRNN L2Reg: 4 conv + 1 GRU, weight decay (seed 000)"),
    ("crnn-lrs", "CRNN LRS: 4 conv + 1 GRU, step learning-rate schedule (seed 000)"),
    ("crnn-3conv", "CRNN 3Conv: 3 conv + 1 GRU (seed 000)"),
    ("crnn-2conv", "CRNN 2Conv: 2 conv + 1 GRU (seed 000)"),
    ("lstm", "two LSTM layers over frames (seed 001)"),
    ("gru", "two GRU layers over frames (seed 001)"),
    ("custom-cnn", "5 conv blocks + L2-regularised dense layers (seed 003)"),
    ("resnet18", "ResNet-18 as torchvision's, 224×224 images (seeds 003/004; NAME@SIZE for another side)"),
    ("resnet50", "ResNet-50 as torchvision's (seed 003)"),
    ("mobilenet-v2", "MobileNetV2 as torchvision's (seed 003)"),
    ("efficientnet-v2-s", "EfficientNetV2-S as torchvision's (seed 004)"),
    ("vgg16", "VGG16 as torchvision's (seed 003)"),
    ("vgg16-bn", "VGG16 with batch norm as torchvision's vgg16_bn"),
    ("msd-musicnn", "musicnn from the MSD tagger's weights with a new head, fine-tuned (musicnn input)"),
    ("mtt-musicnn", "musicnn from the MagnaTagATune tagger's weights with a new head, fine-tuned"),
];

impl ArchitectureSpec {
    /// The architecture a `--model` name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        let crnn = |conv_blocks, gru_layers| Self::Crnn { conv_blocks, gru_layers, hidden: 32, dropout: 0.3 };
        Some(match name {
            "lenet5" | "lenet" => Self::Lenet5,
            "cnn" | "simple-cnn" => Self::SimpleCnn,
            "spectral-cnn" | "spectralcnn" => Self::SpectralCnn { dropout: 0.3 },
            "vgg" => Self::Vgg { dropout: 0.5 },
            "crnn" => crnn(4, 2),
            "crnn-l2reg" | "crnn-lrs" => crnn(4, 1),
            "crnn-3conv" => crnn(3, 1),
            "crnn-2conv" => crnn(2, 1),
            "lstm" => Self::Lstm { layers: 2, hidden: 128 },
            "gru" => Self::Gru { layers: 2, hidden: 128 },
            "custom-cnn" => Self::CustomCnn { l2: 1e-4 },
            "msd-musicnn" | "mtt-musicnn" => Self::Musicnn { backbone: name.to_string(), dropout: 0.3 },
            other => return image::ImageSpec::from_name(other).map(Self::Image),
        })
    }

    /// Builds a freshly initialised network for `bins`-wide inputs.
    pub fn build(&self, classes: usize, bins: usize, device: &Device) -> Network {
        match *self {
            Self::Lenet5 => Network::Lenet5(lenet::LeNet5::new(classes, device)),
            Self::SimpleCnn => Network::SimpleCnn(simple_cnn::SimpleCnn::new(classes, device)),
            Self::SpectralCnn { dropout } => {
                Network::SpectralCnn(spectral_cnn::SpectralCnn::new(classes, dropout, device))
            }
            Self::Vgg { dropout } => Network::Vgg(vgg::VggNet::new(classes, dropout, device)),
            Self::Crnn { conv_blocks, gru_layers, hidden, dropout } => {
                Network::Crnn(crnn::Crnn::new(classes, conv_blocks, gru_layers, hidden, dropout, device))
            }
            Self::Lstm { layers, hidden } => {
                Network::Recurrent(recurrent::Recurrent::new(true, bins, layers, hidden, classes, device))
            }
            Self::Gru { layers, hidden } => {
                Network::Recurrent(recurrent::Recurrent::new(false, bins, layers, hidden, classes, device))
            }
            Self::CustomCnn { .. } => Network::CustomCnn(custom_cnn::CustomCnn::new(classes, device)),
            Self::Image(ref spec) => Network::Image(spec.build(classes, device)),
            Self::Musicnn { dropout, .. } => {
                Network::Musicnn(musicnn_net::MusicnnNet::new(classes, dropout, device))
            }
        }
    }

    /// Weight of the architecture's own L2 penalty (custom CNN), else 0.
    pub fn l2(&self) -> f64 {
        match self {
            Self::CustomCnn { l2 } => *l2,
            _ => 0.0,
        }
    }
}

/// Any of the trainable networks.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Network {
    /// LeNet-5.
    Lenet5(lenet::LeNet5),
    /// Three-convolution CNN.
    SimpleCnn(simple_cnn::SimpleCnn),
    /// SpectralCNN.
    SpectralCnn(spectral_cnn::SpectralCnn),
    /// VGG-style.
    Vgg(vgg::VggNet),
    /// CRNN.
    Crnn(crnn::Crnn),
    /// LSTM or GRU.
    Recurrent(recurrent::Recurrent),
    /// Custom CNN.
    CustomCnn(custom_cnn::CustomCnn),
    /// An ImageNet network.
    Image(image::ImageNetwork),
    /// musicnn with a new head.
    Musicnn(musicnn_net::MusicnnNet),
}

impl Network {
    /// Logits `[batch, classes]` for segments `[batch, frames, bins]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let image = |x: Tensor<3>| {
            let [b, t, f] = x.dims();
            x.reshape([b, 1, t, f])
        };
        match self {
            Self::Lenet5(n) => n.forward(image(x)),
            Self::SimpleCnn(n) => n.forward(image(x)),
            Self::SpectralCnn(n) => n.forward(image(x)),
            Self::Vgg(n) => n.forward(image(x)),
            Self::Crnn(n) => n.forward(image(x)),
            Self::Recurrent(n) => n.forward(x),
            Self::CustomCnn(n) => n.forward(image(x)),
            Self::Image(n) => n.forward(x),
            Self::Musicnn(n) => n.forward(x),
        }
    }

    /// The network with everything but its classification head frozen
    /// (ImageNet networks; others are returned as they are).
    pub fn freeze_backbone(self) -> Self {
        match self {
            Self::Image(n) => Self::Image(n.freeze_backbone()),
            Self::Musicnn(n) => Self::Musicnn(n.freeze_backbone()),
            other => other,
        }
    }

    /// An ImageNet network with its backbone taken from PyTorch weights
    /// (see [`image::import`]); the head keeps its fresh initialisation.
    pub fn import_backbone(self, weights: &Weights, device: &Device) -> Result<(Self, image::ImportSummary)> {
        match self {
            Self::Image(n) => n.import(weights, false, device).map(|(n, s)| (Self::Image(n), s)),
            _ => Err(ModelError::InvalidInput(
                "pretrained PyTorch weights apply to the ImageNet networks only (resnet18, resnet50, mobilenet-v2, efficientnet-v2-s, vgg16)".into(),
            )),
        }
    }

    /// A musicnn network with its backbone from the built-in tagger
    /// `backbone` (`msd-musicnn` or `mtt-musicnn`), and how many tensors
    /// it took; the head stays fresh.
    pub fn with_tagger_backbone(self, backbone: &str, device: &Device) -> Result<(Self, usize)> {
        let Self::Musicnn(_) = &self else {
            return Err(ModelError::InvalidInput("only musicnn networks take a tagger's backbone".into()));
        };
        let bytes = crate::builtin::BUILTIN_MODELS
            .iter()
            .find(|(n, _, _)| *n == backbone && n.ends_with("musicnn"))
            .map(|(_, _, b)| *b)
            .ok_or_else(|| {
                ModelError::InvalidInput(format!("{backbone:?} is not a built-in musicnn tagger"))
            })?;
        let tagger = crate::pretrained::TaggerFile::from_bytes(bytes)?;
        let mut weights = weights_of(&self);
        let backbone = musicnn_net::backbone_weights(&tagger.weights, "Musicnn.")?;
        let taken = backbone.len();
        for (k, w) in backbone {
            if !weights.contains_key(&k) {
                return Err(ModelError::InvalidInput(format!("{k} is not a parameter of the network")));
            }
            weights.insert(k, w);
        }
        Ok((load_weights(self, &weights, device)?, taken))
    }

    /// The architecture's own penalty term (sum of squared dense weights for
    /// the custom CNN), if it has one.
    pub fn penalty(&self) -> Option<Tensor<1>> {
        match self {
            Self::CustomCnn(n) => Some(n.l2()),
            _ => None,
        }
    }
}

/// Writes the network of an ImageNet model file as a PyTorch `state_dict`
/// in safetensors (torchvision's keys; load with
/// `model.load_state_dict(safetensors.torch.load_file(path))`), returning
/// the number of tensors.
pub fn export_torch(file: &NetworkFile, out: &std::path::Path) -> Result<usize> {
    let device = Device::default();
    let m = &file.manifest;
    let fresh = m.architecture.build(m.labels.len(), m.input.bins(), &device);
    let Network::Image(net) = load_weights(fresh, &file.weights, &device)? else {
        return Err(ModelError::InvalidInput(
            "only the ImageNet networks (resnet, mobilenet-v2, efficientnet-v2-s, vgg16) have a PyTorch layout to export".into(),
        ));
    };
    let weights = net.torch_state_dict();
    let meta = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    crate::write_atomic(out, &crate::tensor_file::encode(&weights, meta)?)?;
    Ok(weights.len())
}

/// Segments per forward pass at inference.
pub const INFERENCE_BATCH: usize = 16;

/// A trained network ready to classify segments.
#[derive(Debug)]
pub struct Classifier {
    manifest: NetworkManifest,
    network: Network,
    device: Device,
}

impl Classifier {
    /// Builds the network of a file on the default device.
    pub fn new(file: NetworkFile) -> Result<Self> {
        let device = Device::default();
        let m = &file.manifest;
        let fresh = m.architecture.build(m.labels.len(), m.input.bins(), &device);
        let network = load_weights(fresh, &file.weights, &device)?.valid();
        Ok(Self { manifest: file.manifest, network, device })
    }

    /// The manifest (labels, input settings, segment length).
    pub fn manifest(&self) -> &NetworkManifest {
        &self.manifest
    }

    /// Class probabilities for `n` normalised segments laid out one after
    /// another (`n × frames × bins` values).
    pub fn predict(&self, segments: &[f32], frames: usize) -> Result<Vec<Vec<f64>>> {
        let bins = self.manifest.input.bins();
        let per = frames * bins;
        if per == 0 || !segments.len().is_multiple_of(per) {
            return Err(ModelError::InvalidInput(format!("{} values is not whole segments", segments.len())));
        }
        let mut out = Vec::with_capacity(segments.len() / per);
        for chunk in segments.chunks(INFERENCE_BATCH * per) {
            let b = chunk.len() / per;
            let x = Tensor::<3>::from_data(TensorData::new(chunk.to_vec(), [b, frames, bins]), &self.device);
            let p = softmax(self.network.forward(x), 1).into_data();
            let p = p.try_to_vec::<f32>().map_err(|e| ModelError::InvalidInput(format!("{e:?}")))?;
            let k = self.manifest.labels.len();
            out.extend(p.chunks(k).map(|row| row.iter().map(|&v| f64::from(v)).collect()));
        }
        Ok(out)
    }
}

/// Trainable parameters of a network.
pub fn parameter_count(network: &Network) -> usize {
    network.num_params()
}
