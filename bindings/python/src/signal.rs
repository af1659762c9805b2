//! Audio in: `load` (decode, mono, resample, offset/duration), `resample`,
//! and the folder walk batch calls share with the CLI.

use std::path::PathBuf;

use genreid_audio::{LoadOptions, Signal, load_checked};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::{ParameterError, audio, data};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(resample, m)?)?;
    m.add_function(wrap_pyfunction!(audio_files, m)?)?;
    m.add_function(wrap_pyfunction!(found_audio_files, m)?)?;
    Ok(())
}

/// A checked sample rate in Hz.
pub(crate) fn rate(sr: f64, what: &str) -> PyResult<u32> {
    if sr.is_finite() && sr >= 1.0 && sr <= f64::from(genreid_audio::MAX_SAMPLE_RATE) && sr.fract() == 0.0 {
        Ok(sr as u32)
    } else {
        Err(ParameterError::new_err(format!(
            "{what} must be a whole positive number of Hz up to 768000, got {sr}"
        )))
    }
}

/// Decodes `path` to mono float32 at `sr` (the file's own rate for `None`):
/// `(samples, sr, warnings)`.
#[pyfunction]
#[pyo3(signature = (path, sr, offset, duration))]
fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    sr: Option<f64>,
    offset: f64,
    duration: Option<f64>,
) -> PyResult<(Bound<'py, PyArray1<f32>>, u32, Vec<String>)> {
    let options = LoadOptions {
        sample_rate: sr.map(|s| rate(s, "sr")).transpose()?,
        offset_seconds: offset,
        duration_seconds: duration,
        ..LoadOptions::default()
    };
    let loaded = py.detach(|| load_checked(&path, &options)).map_err(audio)?;
    let warnings = loaded.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let Signal { samples, sample_rate } = loaded.signal;
    Ok((samples.into_pyarray(py), sample_rate, warnings))
}

/// `y` resampled from `orig_sr` to `target_sr` (soxr-HQ-shaped band edge).
#[pyfunction]
fn resample<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    orig_sr: f64,
    target_sr: f64,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let (from, to) = (rate(orig_sr, "orig_sr")?, rate(target_sr, "target_sr")?);
    let y = y.as_slice()?;
    let out = py.detach(|| genreid_audio::resample(&Signal::new(y.to_vec(), from), to)).map_err(audio)?;
    Ok(out.samples.into_pyarray(py))
}

/// The audio files under `paths` (folders walked, sorted; files as given).
#[pyfunction]
fn audio_files(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Vec<String>> {
    let files = py.detach(|| genreid_data::audio_files(&paths)).map_err(data)?;
    Ok(files.into_iter().map(|p| p.display().to_string()).collect())
}

/// The audio files under `paths`, each with its path relative to the
/// folder it was found in (what a batch run's `relative_path` holds).
#[pyfunction]
fn found_audio_files(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Vec<(String, String)>> {
    let files = py.detach(|| genreid_data::found_audio_files(&paths)).map_err(data)?;
    Ok(files.into_iter().map(|f| (f.path.display().to_string(), f.relative)).collect())
}
