//! Test helpers shared by genreid's crates: where the reference data in
//! `../shared` is, and reading librosa's `.npy` outputs and manifest.
//!
//! Tests that need the references fail with a clear message when they are
//! missing; they never skip.

use std::path::{Path, PathBuf};

/// The `shared/` folder beside the repository (or `$GENREID_SHARED`).
///
/// Panics with a clear message when it is missing: reference tests must
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

/// A file of the fixture audio (`shared/fixtures/audio/NAME`).
pub fn fixture_audio(name: &str) -> PathBuf {
    shared().join("fixtures/audio").join(name)
}

/// Reads a float32 `.npy` file into its shape and data, in C (row-major)
/// order whatever order the file stores (some fixtures are Fortran-ordered).
pub fn read_npy(path: &Path) -> (Vec<usize>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = npy.order() == npyz::Order::Fortran;
    let data = npy.into_vec::<f32>().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !fortran || shape.len() < 2 {
        return (shape, data);
    }
    // Fortran order: the first index is fastest. Walk C order and gather.
    let mut out = Vec::with_capacity(data.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..data.len() {
        let (mut offset, mut stride) = (0, 1);
        for (i, &d) in index.iter().zip(&shape) {
            offset += i * stride;
            stride *= d;
        }
        out.push(data[offset]);
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    (shape, out)
}

/// The parsed librosa fixture manifest (`shared/fixtures/librosa/manifest.json`).
pub fn librosa_manifest() -> serde_json::Value {
    let path = shared().join("fixtures/librosa/manifest.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The reference array `key` of a clip entry of the manifest.
pub fn reference(entry: &serde_json::Value, key: &str) -> (Vec<usize>, Vec<f32>) {
    let file = entry["arrays"][key]["file"].as_str().unwrap_or_else(|| panic!("no reference array {key}"));
    read_npy(&shared().join("fixtures/librosa").join(file))
}

/// Re-exported so tests can name `serde_json::Value` without their own dependency.
pub use serde_json;

/// Runs `command` to its end and answers its output and its peak resident
/// memory in MB (read from `/proc` while it runs; Linux only).
pub fn output_with_peak_rss(command: &mut std::process::Command) -> (std::process::Output, f64) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the command starts");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0f64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text.lines().find_map(|l| l.strip_prefix("VmHWM:"))
        {
            peak = peak.max(kb.trim().trim_end_matches("kB").trim().parse::<f64>().unwrap_or(0.0) / 1024.0);
        }
        if let Some(status) = child.try_wait().expect("the command can be waited for") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    (output, peak)
}
