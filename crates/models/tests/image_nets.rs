//! torchvision's networks in genreid take a PyTorch `state_dict` exactly:
//! small networks built from torchvision's own classes (made by
//! `tests/data/image_nets/make.py`) give the same logits here as in PyTorch,
//! from `.pth` and `.safetensors` files alike, and the full-size networks'
//! parameters map one to one onto torchvision's keys and shapes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use genreid_models::neural::image::{
    EfficientStage, ImageNet, ImageNetwork, ImageSpec, read_torch_weights, to_image,
};
use genreid_models::pretrained::Weights;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/image_nets").join(name)
}

fn expected() -> Weights {
    read_torch_weights(&data("expected.safetensors")).unwrap()
}

fn tensor4(w: &Weights, key: &str) -> Tensor<4> {
    let w = &w[key];
    let shape: [usize; 4] = w.shape.clone().try_into().unwrap();
    Tensor::<4>::from_data(TensorData::new(w.values.clone(), shape), &Device::default())
}

/// The small networks make.py builds, as genreid specs.
fn small(name: &str) -> ImageNet {
    let fused = |expand, stride, c_in, c_out, layers| EfficientStage {
        fused: true,
        expand,
        kernel: 3,
        stride,
        c_in,
        c_out,
        layers,
    };
    match name {
        "resnet_basic" => ImageNet::Resnet { bottleneck: false, blocks: [2, 1, 1, 1], width: 8 },
        "resnet_bottleneck" => ImageNet::Resnet { bottleneck: true, blocks: [1, 2, 1, 1], width: 4 },
        "mobilenet_v2" => {
            ImageNet::MobilenetV2 { width: 0.5, stages: vec![[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]] }
        }
        "efficientnet_v2" => ImageNet::EfficientnetV2 {
            stages: vec![
                fused(1, 1, 8, 8, 2),
                fused(4, 2, 8, 16, 1),
                EfficientStage { fused: false, ..fused(4, 2, 16, 24, 2) },
            ],
            last: 64,
        },
        "vgg" => ImageNet::Vgg { layers: vec![8, 0, 16, 0], batch_norm: false, hidden: 32 },
        "vgg_bn" => ImageNet::Vgg { layers: vec![8, 0, 16, 0], batch_norm: true, hidden: 32 },
        _ => unreachable!(),
    }
}

fn build(net: ImageNet, classes: usize) -> ImageNetwork {
    let dropout = net.default_dropout();
    ImageSpec { net, size: 64, dropout }.build(classes, &Device::default())
}

fn max_abs_diff(a: Tensor<2>, b: &[f32]) -> f32 {
    let a = a.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn imported_networks_give_pytorchs_logits() {
    let expected = expected();
    let images = tensor4(&expected, "images");
    for name in ["resnet_basic", "resnet_bottleneck", "mobilenet_v2", "efficientnet_v2", "vgg", "vgg_bn"] {
        let mut files = vec![format!("{name}.pth")];
        if data(&format!("{name}.safetensors")).exists() {
            files.push(format!("{name}.safetensors"));
        }
        for file in files {
            let weights = read_torch_weights(&data(&file)).unwrap();
            let (net, summary) = build(small(name), 10).import(&weights, true, &Device::default()).unwrap();
            assert!(summary.loaded >= 10 && !summary.head_replaced, "{file}: {summary:?}");
            let logits = net.valid().forward_image(images.clone());
            let diff = max_abs_diff(logits, &expected[name].values);
            assert!(diff < 1e-4, "{file}: logits differ from PyTorch's by {diff}");
        }
    }
}

#[test]
fn transfer_keeps_the_backbone_and_replaces_the_head() {
    let weights = read_torch_weights(&data("mobilenet_v2.pth")).unwrap();
    let (net, summary) = build(small("mobilenet_v2"), 4).import(&weights, false, &Device::default()).unwrap();
    assert!(summary.head_replaced);
    let out = net.valid().forward_image(tensor4(&expected(), "images"));
    assert_eq!(out.dims(), [2, 4]);
    // Keeping a head of the wrong width is refused, naming the tensor.
    let err = build(small("mobilenet_v2"), 4).import(&weights, true, &Device::default()).unwrap_err();
    assert!(err.to_string().contains("classifier.1.weight"), "{err}");
}

#[test]
fn weights_of_another_network_are_refused_with_the_missing_key() {
    let weights = read_torch_weights(&data("resnet_basic.pth")).unwrap();
    let err = build(small("efficientnet_v2"), 10).import(&weights, false, &Device::default()).unwrap_err();
    assert!(err.to_string().contains("features.0.0.weight"), "{err}");
    let err = build(small("resnet_bottleneck"), 10).import(&weights, false, &Device::default()).unwrap_err();
    assert!(err.to_string().contains("shape") || err.to_string().contains("missing"), "{err}");
    assert!(read_torch_weights(&data("make.py")).is_err());
}

#[test]
fn spectrograms_become_the_images_pytorch_makes() {
    let expected = expected();
    let s = &expected["spectrogram"];
    let spec = Tensor::<3>::from_data(
        TensorData::new(s.values.clone(), [s.shape[0], s.shape[1], s.shape[2]]),
        &Device::default(),
    );
    let image = to_image(spec, 32).into_data().try_to_vec::<f32>().unwrap();
    let want = &expected["spectrogram_image"].values;
    let diff = image.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert_eq!(image.len(), want.len());
    assert!(diff < 1e-5, "image differs by {diff}");
}

/// Every parameter path of a module with its shape.
#[derive(Default)]
struct Shapes {
    path: Vec<String>,
    shapes: BTreeMap<String, Vec<usize>>,
}

impl ModuleVisitor for Shapes {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.shapes.insert(self.path.join("."), param.val().dims().to_vec());
    }
}

#[test]
fn full_size_networks_match_torchvisions_keys_and_shapes() {
    let text = std::fs::read_to_string(data("torchvision_keys.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (name, keys) in json["networks"].as_object().unwrap() {
        let want: BTreeMap<String, Vec<usize>> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| {
                let shape = kv[1].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
                (kv[0].as_str().unwrap().to_string(), shape)
            })
            .collect();
        let spec = ImageSpec::from_name(name).unwrap_or_else(|| panic!("{name}"));
        let family = spec.net.family();
        let net = spec.build(1000, &Device::default());
        let mut shapes = Shapes::default();
        net.visit(&mut shapes);
        let got: BTreeMap<String, Vec<usize>> = shapes
            .shapes
            .into_iter()
            .map(|(path, mut shape)| {
                // Paths start at `body.Variant.`; dense weights are stored transposed.
                let path = path.splitn(3, '.').nth(2).unwrap().to_string();
                if shape.len() == 2 {
                    shape.reverse();
                }
                (family.torch_key(&path), shape)
            })
            .collect();
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).take(3).collect();
        let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).take(3).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{name}: missing {missing:?}, extra {extra:?}");
        for (k, shape) in &want {
            assert_eq!(&got[k], shape, "{name}: {k}");
        }
    }
}
