//! Helpers shared by the feature tests: the fixture clips and error measures.

#![allow(dead_code, unused_imports)] // each test binary uses a different part

pub use genreid_testkit::{librosa_manifest, reference, shared};

/// Every clip of the librosa fixtures with its loaded samples.
pub fn clips() -> Vec<(String, Vec<f32>, genreid_testkit::serde_json::Value)> {
    let manifest = librosa_manifest();
    manifest["clips"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, entry)| {
            let path = shared().join("fixtures/librosa").join(entry["audio"].as_str().unwrap());
            let y = genreid_audio::load(&path, &genreid_audio::LoadOptions::default()).unwrap().samples;
            (name.clone(), y, entry.clone())
        })
        .collect()
}

/// Largest `|got - want| / (atol + |want|)`-style error summary: returns
/// (max absolute error, max error relative to the largest |want|).
pub fn errors(got: &[f32], want: &[f32]) -> (f64, f64) {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let scale = want.iter().fold(0f64, |m, &w| m.max(f64::from(w).abs())).max(1e-30);
    let max_abs = got.iter().zip(want).map(|(&a, &b)| f64::from(a - b).abs()).fold(0.0, f64::max);
    (max_abs, max_abs / scale)
}

/// Largest elementwise relative error `|got - want| / max(|want|, floor)`.
pub fn max_rel(got: &[f32], want: &[f32], floor: f64) -> f64 {
    got.iter()
        .zip(want)
        .map(|(&a, &b)| f64::from(a - b).abs() / f64::from(b).abs().max(floor))
        .fold(0.0, f64::max)
}

/// Columns `0..frames` of a `[rows, cols]` matrix (row-major) as a flat vec.
pub fn first_columns(m: &genreid_features::Matrix, frames: usize) -> Vec<f32> {
    m.slice_cols(0, frames).data
}
