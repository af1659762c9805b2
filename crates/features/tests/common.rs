//! Helpers shared by integration tests: where `../shared` is, reading `.npy`.

#![allow(dead_code)]

use std::path::PathBuf;

/// The `shared/` folder beside the repository (or `$GENREID_SHARED`).
///
/// Panics with a clear message when it is missing: the reference tests must
/// fail, not skip, without their references.
pub fn shared() -> PathBuf {
    let dir = std::env::var_os("GENREID_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    assert!(
        dir.join("fixtures").is_dir(),
        "reference data not found at {}: clone the project with ../shared beside it or set GENREID_SHARED",
        dir.display()
    );
    dir
}

/// Reads a float32 `.npy` file into its shape and data.
pub fn read_npy(path: &std::path::Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("valid npy");
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    (shape, npy.into_vec::<f32>().expect("float32 npy"))
}

/// The parsed librosa fixture manifest.
pub fn librosa_manifest() -> serde_json::Value {
    let path = shared().join("fixtures/librosa/manifest.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every clip of the librosa fixtures with its loaded samples.
pub fn clips() -> Vec<(String, Vec<f32>, serde_json::Value)> {
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

/// The reference array `key` of a clip, with the column range it covers.
pub fn reference(entry: &serde_json::Value, key: &str) -> (Vec<usize>, Vec<f32>) {
    let file = entry["arrays"][key]["file"].as_str().unwrap_or_else(|| panic!("no array {key}"));
    read_npy(&shared().join("fixtures/librosa").join(file))
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
