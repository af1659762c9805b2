//! The registry: network files and ensembles of them, loaded by name.

use burn::tensor::Device;
use genreid_features::{InputKind, SpectrogramInput};
use genreid_models::FORMAT;
use genreid_models::neural::{ArchitectureSpec, NETWORK_VERSION, NetworkFile, NetworkManifest, weights_of};
use genreid_pipeline::{Model, Verdict, classify_signal, load_model};

#[test]
fn ensembles_combine_members_and_refuse_mismatched_labels() {
    let device = Device::default();
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let mut paths = Vec::new();
    for (i, name) in ["lenet5", "cnn"].iter().enumerate() {
        let spec = ArchitectureSpec::from_name(name).unwrap();
        let file = NetworkFile {
            manifest: NetworkManifest {
                format: FORMAT.into(),
                version: NETWORK_VERSION,
                architecture: spec.clone(),
                labels: if i == 0 { labels.clone() } else { labels.iter().rev().cloned().collect() },
                input: SpectrogramInput { n_mels: 32, ..SpectrogramInput::new(InputKind::Mel) },
                segment_seconds: 1.0,
                parameters: 1,
                provenance: serde_json::json!({}),
            },
            weights: weights_of(&spec.build(3, 32, &device)),
        };
        let path = dir.path().join(format!("{name}.genreid"));
        file.save(&path).unwrap();
        paths.push(path.display().to_string());
    }
    let signal =
        genreid_audio::Signal::new((0..44_100).map(|i| (i as f32 * 0.02).sin() * 0.3).collect(), 22_050);
    let members: Vec<_> = paths.iter().map(|p| load_model(Some(p)).unwrap()).collect();
    for m in &members {
        assert!(matches!(m, Model::Network(n) if n.manifest().labels.len() == 3), "{m:?}");
    }
    let single: Vec<_> =
        members.iter().map(|m| classify_signal(m, &signal, "x", &Default::default()).unwrap()).collect();
    let model = load_model(Some(&format!("{},{}:3", paths[0], paths[1]))).unwrap();
    assert!(matches!(model, Model::Ensemble(ref m) if m.len() == 2));
    let v = classify_signal(&model, &signal, "x", &Default::default()).unwrap();
    // Weighted mean of the members' probabilities, label by label (the second
    // member lists its labels in another order).
    for l in &labels {
        let p = |v: &Verdict| v.probabilities[l].as_f64().unwrap();
        let want = (p(&single[0]) + 3.0 * p(&single[1])) / 4.0;
        assert!((p(&v) - want).abs() < 1e-9, "{l}: {} vs {want}", p(&v));
    }
    // The vote goes to the heavier member's verdict.
    assert_eq!(v.vote, single[1].genre);
    let e = load_model(Some(&format!("{},msd-musicnn", paths[0]))).unwrap_err().to_string();
    assert!(e.contains("disagree on labels"), "{e}");
}
