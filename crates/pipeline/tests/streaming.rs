//! Tagging a file block by block (what `classify` does, so that memory does
//! not grow with the file's length) gives the patches the whole-file
//! computation gives: the same patch grid, the same taggram and embeddings
//! up to float rounding, at 44.1 kHz (FLAC, stereo), 22.05 kHz (MP3) and
//! Ogg Vorbis, with back-to-back and overlapping patches.

use genreid_audio::load;
use genreid_models::pretrained::{Tagger, TaggerFile};
use genreid_testkit::fixture_audio;

fn tagger() -> Tagger {
    let bytes = genreid_models::BUILTIN_MODELS.iter().find(|(n, _, _)| *n == "msd-musicnn").unwrap().2;
    Tagger::new(TaggerFile::from_bytes(bytes).unwrap()).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn blocks_give_the_whole_files_patches() {
    let tagger = tagger();
    for (file, hop) in [
        ("rock_sectoid_escape_from_chaosland_stereo44k.flac", 187),
        ("asc_machine_wars_orig22k_cut.mp3", 187),
        ("full_wesnoth_battle_epic.ogg", 94),
    ] {
        let path = fixture_audio(file);
        let whole = tagger.analyse_signal(&load(&path, &tagger.load_options()).unwrap(), hop).unwrap();
        // Blocks of 8 s: several per file, each patch computed in a block
        // other than its neighbours'.
        let blocks = tagger.analyse_blocks(&path, hop, 8.0).unwrap();
        assert!(whole.spans.len() >= 5, "{file}: {} patches", whole.spans.len());
        assert_eq!(blocks.spans, whole.spans, "{file}: patch grid");
        assert!((blocks.duration_seconds - whole.duration_seconds).abs() < 1e-9, "{file}");
        let tags = max_abs_diff(&blocks.outputs.taggram.values, &whole.outputs.taggram.values);
        let emb = max_abs_diff(&blocks.outputs.penultimate.values, &whole.outputs.penultimate.values);
        eprintln!("{file}: taggram max |diff| {tags:.1e}, penultimate {emb:.1e}");
        assert!(tags < 1e-4 && emb < 1e-3, "{file}: taggram {tags:e}, penultimate {emb:e}");
        // The default block (two minutes) holds these files whole: identical.
        let default = tagger.analyse_file(&path, hop).unwrap();
        assert_eq!(default.outputs, whole.outputs, "{file}");
    }
}

#[test]
fn streaming_reports_bad_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("not-audio.mp3");
    std::fs::write(&junk, b"this is not audio at all, just text").unwrap();
    let err = tagger().analyse_file(&junk, 187).unwrap_err().to_string();
    assert!(err.contains("not-audio.mp3"), "{err}");
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    assert!(tagger().analyse_file(&empty, 187).unwrap_err().to_string().contains("empty.wav"));
}

/// Asserts that block reading gave the whole file's segments (at least
/// `at_least` of them): the same spans, probabilities within `tolerance`.
/// Returns the whole file's segments.
fn assert_same_segments(
    file: &str,
    whole: &genreid_pipeline::Verdict,
    blocks: &genreid_pipeline::Verdict,
    at_least: usize,
    tolerance: f64,
) -> Vec<genreid_pipeline::verdict::SegmentVerdict> {
    let (w, b) = (whole.segments.clone().unwrap(), blocks.segments.clone().unwrap());
    assert!(w.len() >= at_least, "{file}: {} segments", w.len());
    assert_eq!(w.len(), b.len(), "{file}: segment count");
    let mut worst = 0.0f64;
    for (x, y) in w.iter().zip(&b) {
        assert!((x.start - y.start).abs() < 1e-9 && (x.end - y.end).abs() < 1e-9, "{file}: spans");
        for (label, p) in &x.probabilities {
            worst = worst.max((p.as_f64().unwrap() - y.probabilities[label].as_f64().unwrap()).abs());
        }
    }
    eprintln!("{file}: {} segments, probabilities max |diff| {worst:.1e}", w.len());
    assert!(worst < tolerance, "{file}: {worst:e}");
    w
}

/// The committed GTZAN-57 logistic regression, cut to 3-s segments so that a
/// fixture holds many.
fn classical_model() -> genreid_models::ModelFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gtzan57-logreg.genreid");
    let mut model = genreid_models::ModelFile::load(&path).unwrap();
    model.preprocessing.segment_seconds = 3.0;
    model
}

/// Back-to-back patches, with the timeline.
fn timeline() -> genreid_pipeline::ClassifyOptions {
    genreid_pipeline::ClassifyOptions { hop: 187, segments: true, ..Default::default() }
}

#[test]
fn classical_models_read_in_blocks_give_the_whole_files_segments() {
    use genreid_pipeline::verdict::classify_classical_blocks;
    let model = classical_model();
    let m = genreid_pipeline::Model::Classical(model.clone());
    for file in ["rock_sectoid_escape_from_chaosland_stereo44k.flac", "full_wesnoth_battle_epic.ogg"] {
        let path = fixture_audio(file);
        let signal = load(&path, &genreid_pipeline::verdict::load_options(&m)).unwrap();
        let whole = genreid_pipeline::classify_signal(&m, &signal, "x", &timeline()).unwrap();
        // Blocks of about 8 s: segments fall in different blocks.
        let blocks = classify_classical_blocks(&model, &path, &timeline(), 8.0).unwrap();
        assert_same_segments(file, &whole, &blocks, 5, 1e-3);
        assert_eq!(whole.genre, blocks.genre, "{file}");
        // The default block (two minutes) holds the file whole: identical.
        let default = genreid_pipeline::classify_path(&m, &path, &timeline()).unwrap();
        assert_eq!(
            serde_json::to_value(&default.probabilities).unwrap(),
            serde_json::to_value(&whole.probabilities).unwrap()
        );
    }
}

/// An untrained CRNN on mel segments of 3 s (the weights do not matter:
/// the test compares two ways of reading the same file).
fn network() -> genreid_models::neural::Classifier {
    use genreid_features::{InputKind, SpectrogramInput};
    use genreid_models::neural::{
        ArchitectureSpec, Classifier, NETWORK_VERSION, NetworkFile, NetworkManifest, weights_of,
    };
    let spec = ArchitectureSpec::from_name("crnn-3conv").unwrap();
    let net = spec.build(3, 128, &burn::tensor::Device::default());
    Classifier::new(NetworkFile {
        manifest: NetworkManifest {
            format: genreid_models::FORMAT.into(),
            version: NETWORK_VERSION,
            architecture: spec,
            labels: vec!["a".into(), "b".into(), "c".into()],
            input: SpectrogramInput::new(InputKind::Mel),
            segment_seconds: 3.0,
            parameters: 1,
            provenance: serde_json::json!({}),
        },
        weights: weights_of(&net),
    })
    .unwrap()
}

#[test]
fn networks_read_in_blocks_give_the_whole_files_segments() {
    use genreid_pipeline::verdict::classify_network_blocks;
    let m = genreid_pipeline::Model::Network(Box::new(network()));
    let genreid_pipeline::Model::Network(network) = &m else { unreachable!() };
    for file in ["rock_sectoid_escape_from_chaosland_stereo44k.flac", "asc_machine_wars_orig22k_cut.mp3"] {
        let path = fixture_audio(file);
        let signal = load(&path, &genreid_pipeline::verdict::load_options(&m)).unwrap();
        let whole = genreid_pipeline::classify_signal(&m, &signal, "x", &timeline()).unwrap();
        // Blocks of about 8 s: segments fall in different blocks.
        let blocks = classify_network_blocks(network, &path, &timeline(), 8.0).unwrap();
        let w = assert_same_segments(file, &whole, &blocks, 3, 1e-4);
        // The segments differ from each other (the comparison is not vacuous).
        let p = |i: usize| w[i].probabilities["a"].as_f64().unwrap();
        assert!((1..w.len()).any(|i| (p(i) - p(0)).abs() > 1e-6), "{file}: every segment alike");
    }
}
