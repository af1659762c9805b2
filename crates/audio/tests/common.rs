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
