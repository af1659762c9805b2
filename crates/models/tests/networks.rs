//! Every trainable architecture builds, runs on mel, STFT-sized and MFCC
//! inputs of several lengths, and survives a trip through a model file
//! bit for bit.

use genreid_features::{InputKind, SpectrogramInput};
use genreid_models::FORMAT;
use genreid_models::neural::{
    ARCHITECTURES, ArchitectureSpec, Classifier, NETWORK_VERSION, NetworkFile, NetworkManifest,
    parameter_count, weights_of,
};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

fn input(frames: usize, bins: usize) -> Tensor<3> {
    let values: Vec<f32> = (0..frames * bins * 2).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    Tensor::<3>::from_data(TensorData::new(values, [2, frames, bins]), &Device::default())
}

#[test]
fn every_architecture_runs_on_every_input_kind() {
    let device = Device::default();
    for (name, _) in ARCHITECTURES {
        let mut spec = ArchitectureSpec::from_name(name).unwrap();
        if let ArchitectureSpec::Image(image) = &mut spec {
            // ImageNet networks at 64×64 here (224 is their default; the
            // layers are the same, image_nets.rs checks them against torchvision).
            image.size = 64;
        }
        // musicnn reads its own 96-band input only.
        let inputs: &[(usize, usize)] = if matches!(spec, ArchitectureSpec::Musicnn { .. }) {
            &[(188, 96), (60, 96)]
        } else {
            &[(130, 128), (87, 20), (44, 64)]
        };
        for &(frames, bins) in inputs {
            let net = spec.build(10, bins, &device).valid();
            let out = net.forward(input(frames, bins));
            assert_eq!(out.dims(), [2, 10], "{name} on {frames}×{bins}");
            let v = out.into_data().try_to_vec::<f32>().unwrap();
            assert!(v.iter().all(|x| x.is_finite()), "{name}");
        }
        assert!(parameter_count(&spec.build(10, 128, &device)) > 1000, "{name}");
    }
}

#[test]
fn model_file_round_trip_is_exact() {
    let device = Device::default();
    let spec = ArchitectureSpec::from_name("crnn-3conv").unwrap();
    let net = spec.build(3, 128, &device);
    let weights = weights_of(&net);
    assert!(weights.keys().any(|k| k.ends_with("running_var")), "{:?}", weights.keys().collect::<Vec<_>>());
    let before = net.valid().forward(input(130, 128)).into_data().try_to_vec::<f32>().unwrap();
    let file = NetworkFile {
        manifest: NetworkManifest {
            format: FORMAT.into(),
            version: NETWORK_VERSION,
            architecture: spec,
            labels: vec!["a".into(), "b".into(), "c".into()],
            input: SpectrogramInput::new(InputKind::Mel),
            segment_seconds: 3.0,
            parameters: 1,
            provenance: serde_json::json!({}),
        },
        weights,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.genreid");
    file.save(&path).unwrap();
    let loaded = NetworkFile::load(&path).unwrap();
    assert_eq!(loaded, file);
    let classifier = Classifier::new(loaded).unwrap();
    let x = input(130, 128).into_data().try_to_vec::<f32>().unwrap();
    let p = classifier.predict(&x, 130).unwrap();
    let softmax = |row: &[f32]| {
        let m = row.iter().cloned().fold(f32::MIN, f32::max);
        let e: Vec<f32> = row.iter().map(|v| (v - m).exp()).collect();
        let s: f32 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect::<Vec<_>>()
    };
    for (i, row) in before.chunks(3).enumerate() {
        for (a, b) in softmax(row).iter().zip(&p[i]) {
            assert!((f64::from(*a) - b).abs() < 1e-6);
        }
    }
    // Wrong weights are refused with the reason.
    let mut bad = file.clone();
    bad.weights.pop_first();
    let e = Classifier::new(bad).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
}

/// The fine-tunable musicnn, loaded from the built-in MSD tagger with the
/// tagger's own 50-tag output as its head, reproduces the tagger's taggram:
/// the port into trainable modules changes nothing.
#[test]
fn fine_tunable_musicnn_reproduces_the_tagger() {
    use genreid_audio::{LoadOptions, load};
    use genreid_features::musicnn_patches;
    use genreid_models::BUILTIN_MODELS;
    use genreid_models::pretrained::{Tagger, TaggerFile, Weight};

    let device = Device::default();
    let bytes = BUILTIN_MODELS.iter().find(|(n, _, _)| *n == "msd-musicnn").unwrap().2;
    let file = TaggerFile::from_bytes(bytes).unwrap();
    let spec = ArchitectureSpec::from_name("msd-musicnn").unwrap();
    let (net, taken) = spec.build(50, 96, &device).with_tagger_backbone("msd-musicnn", &device).unwrap();
    assert!(taken > 40, "{taken} tensors");
    let mut weights = weights_of(&net);
    weights.insert("Musicnn.head.weight".into(), file.weights["dense_1/kernel"].clone());
    let Weight { values, .. } = file.weights["dense_1/bias"].clone();
    weights.insert("Musicnn.head.bias".into(), Weight { shape: vec![50], values });
    let net = genreid_models::neural::load_weights(net, &weights, &device).unwrap().valid();

    let options = LoadOptions { sample_rate: Some(16_000), ..LoadOptions::default() };
    let y = load(&genreid_testkit::fixture_audio("metal_muldjord_chaos_god.wav"), &options).unwrap();
    let (patches, n) = musicnn_patches(&y.samples, 187).unwrap();
    let want = Tagger::new(file).unwrap().run(&patches).unwrap().taggram;
    let x = Tensor::<3>::from_data(TensorData::new(patches, [n, 187, 96]), &device);
    let got = burn::tensor::activation::sigmoid(net.forward(x)).into_data().try_to_vec::<f32>().unwrap();
    let want = want.values;
    assert_eq!(got.len(), want.len());
    let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff < 1e-5, "taggrams differ by {diff}");
}
