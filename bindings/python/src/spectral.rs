//! The librosa-equal features, one native function each, every parameter
//! explicit (the Python layer supplies librosa's defaults).

use genreid_features::cqt::{CqtConfig, chroma_cens_from_cqt, chroma_from_cqt, tonnetz_from_chroma};
use genreid_features::rhythm::{beat_track_onsets, onset_strength_from_db};
use genreid_features::temporal::rms_from_magnitude;
use genreid_features::{
    Aggregate, DbConfig, DbRef, Matrix, MelConfig, MelFilterbank, Stft, StftConfig, cqt_magnitude,
    mfcc_from_db,
};
use numpy::ndarray::Array2;
use numpy::{
    Complex32, IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::errors::{ParameterError, feature};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(stft, m)?)?;
    m.add_function(wrap_pyfunction!(istft, m)?)?;
    m.add_function(wrap_pyfunction!(spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(mel_filters, m)?)?;
    m.add_function(wrap_pyfunction!(mel_apply, m)?)?;
    m.add_function(wrap_pyfunction!(power_to_db, m)?)?;
    m.add_function(wrap_pyfunction!(db_to_power, m)?)?;
    m.add_function(wrap_pyfunction!(mfcc_from_log_mel, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_stft, m)?)?;
    m.add_function(wrap_pyfunction!(cqt, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_cqt, m)?)?;
    m.add_function(wrap_pyfunction!(chroma_cens, m)?)?;
    m.add_function(wrap_pyfunction!(tonnetz, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_centroid, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_bandwidth, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_rolloff, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_contrast, m)?)?;
    m.add_function(wrap_pyfunction!(spectral_flatness, m)?)?;
    m.add_function(wrap_pyfunction!(zero_crossing_rate, m)?)?;
    m.add_function(wrap_pyfunction!(rms, m)?)?;
    m.add_function(wrap_pyfunction!(rms_spectrogram, m)?)?;
    m.add_function(wrap_pyfunction!(onset_strength, m)?)?;
    m.add_function(wrap_pyfunction!(tempo, m)?)?;
    m.add_function(wrap_pyfunction!(beat_track, m)?)?;
    m.add_function(wrap_pyfunction!(hpss, m)?)?;
    Ok(())
}

/// A `[rows, cols]` float32 array as a [`Matrix`] (one copy: the library's
/// matrices own their values).
fn matrix_in(s: &PyReadonlyArray2<'_, f32>) -> PyResult<Matrix> {
    let [rows, cols] = [s.shape()[0], s.shape()[1]];
    Ok(Matrix::from_vec(rows, cols, s.as_slice()?.to_vec()))
}

/// A [`Matrix`] handed to numpy without a copy.
fn matrix_out<'py>(py: Python<'py>, m: Matrix) -> Bound<'py, PyArray2<f32>> {
    let [rows, cols] = m.shape();
    Array2::from_shape_vec((rows, cols), m.data)
        .expect("a matrix's shape matches its values")
        .into_pyarray(py)
}

fn stft_config(n_fft: usize, hop_length: usize, win_length: usize, center: bool) -> StftConfig {
    StftConfig { n_fft, hop_length, win_length, center }
}

/// Complex STFT `[1 + n_fft/2, frames]`, complex64.
#[pyfunction]
fn stft<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    n_fft: usize,
    hop_length: usize,
    win_length: usize,
    center: bool,
) -> PyResult<Bound<'py, PyArray2<Complex32>>> {
    let y = y.as_slice()?;
    let config = stft_config(n_fft, hop_length, win_length, center);
    let z = py.detach(|| Stft::new(config).complex(y)).map_err(feature)?;
    Ok(Array2::from_shape_vec((z.rows, z.cols), z.data).expect("shape matches").into_pyarray(py))
}

/// Inverse STFT, `length` samples.
#[pyfunction]
fn istft<'py>(
    py: Python<'py>,
    stft_matrix: PyReadonlyArray2<'py, Complex32>,
    n_fft: usize,
    hop_length: usize,
    win_length: usize,
    center: bool,
    length: usize,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let [rows, cols] = [stft_matrix.shape()[0], stft_matrix.shape()[1]];
    if rows != n_fft / 2 + 1 {
        return Err(ParameterError::new_err(format!(
            "stft_matrix has {rows} frequency bins; n_fft={n_fft} needs {}",
            n_fft / 2 + 1
        )));
    }
    let data = stft_matrix.as_slice()?;
    let config = stft_config(n_fft, hop_length, win_length, center);
    let y = py.detach(|| genreid_features::istft_slice(data, rows, cols, config, length));
    Ok(y.into_pyarray(py))
}

/// `|STFT|^power`, float32.
#[pyfunction]
fn spectrogram<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    n_fft: usize,
    hop_length: usize,
    win_length: usize,
    center: bool,
    power: f32,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let config = stft_config(n_fft, hop_length, win_length, center);
    let s = py.detach(|| Stft::new(config).spectrogram(y, power)).map_err(feature)?;
    Ok(matrix_out(py, s))
}

#[allow(clippy::too_many_arguments)]
fn mel_config(
    sr: f64,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney: bool,
) -> MelConfig {
    MelConfig { sr, n_fft, n_mels, fmin, fmax, htk, slaney_norm: slaney }
}

/// The mel filterbank `[n_mels, 1 + n_fft/2]` (`librosa.filters.mel`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn mel_filters<'py>(
    py: Python<'py>,
    sr: f64,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney_norm: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let bank =
        MelFilterbank::new(&mel_config(sr, n_fft, n_mels, fmin, fmax, htk, slaney_norm)).map_err(feature)?;
    Ok(matrix_out(py, bank.to_dense()))
}

/// The mel filterbank applied to a spectrogram `[1 + n_fft/2, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn mel_apply<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: Option<f64>,
    htk: bool,
    slaney_norm: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let config = mel_config(sr, n_fft, n_mels, fmin, fmax, htk, slaney_norm);
    let mel = py.detach(|| MelFilterbank::new(&config)?.apply(&s)).map_err(feature)?;
    Ok(matrix_out(py, mel))
}

/// `power_to_db` on a 2-D array; `reference = None` is `ref=np.max`.
#[pyfunction]
fn power_to_db<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    reference: Option<f32>,
    amin: f32,
    top_db: Option<f32>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    if amin.is_nan() || amin <= 0.0 {
        return Err(ParameterError::new_err("amin must be strictly positive"));
    }
    if top_db.is_some_and(|t| t < 0.0) {
        return Err(ParameterError::new_err("top_db must be non-negative"));
    }
    let s = matrix_in(&s)?;
    let config = DbConfig { reference: reference.map_or(DbRef::Max, DbRef::Value), amin, top_db };
    let db = py.detach(|| genreid_features::power_to_db(&s, &config));
    Ok(matrix_out(py, db))
}

/// `reference * 10^(0.1 * s)` elementwise, in float32 like NumPy, in parallel.
#[pyfunction]
fn db_to_power<'py>(
    py: Python<'py>,
    s: PyReadonlyArray1<'py, f32>,
    reference: f32,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let s = s.as_slice()?;
    let out: Vec<f32> =
        py.detach(|| s.par_iter().with_min_len(1 << 14).map(|&x| reference * 10f32.powf(0.1 * x)).collect());
    Ok(out.into_pyarray(py))
}

/// MFCCs from a log-power mel spectrogram (orthonormal DCT-II).
#[pyfunction]
fn mfcc_from_log_mel<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    n_mfcc: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let m = py.detach(|| mfcc_from_db(&s, n_mfcc)).map_err(feature)?;
    Ok(matrix_out(py, m))
}

/// Chroma from a power spectrogram; `tuning = None` estimates it.
#[pyfunction]
fn chroma_stft<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_chroma: usize,
    tuning: Option<f64>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let (c, _) = py.detach(|| genreid_features::chroma_stft(&s, sr, n_chroma, tuning)).map_err(feature)?;
    Ok(matrix_out(py, c))
}

fn cqt_of(y: &[f32], sr: f64, config: &CqtConfig) -> PyResult<Matrix> {
    cqt_magnitude(y, sr, config).map_err(feature)
}

/// `|CQT|` `[n_bins, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: f64,
    hop_length: usize,
    fmin: f64,
    n_bins: usize,
    bins_per_octave: usize,
    tuning: Option<f64>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let config = CqtConfig { hop_length, fmin, n_bins, bins_per_octave, tuning };
    let c = py.detach(|| cqt_of(y, sr, &config))?;
    Ok(matrix_out(py, c))
}

/// librosa's chroma settings: 7 octaves of 36 bins from C1, tuning estimated.
fn chroma_cqt_config() -> CqtConfig {
    CqtConfig { n_bins: 7 * 36, bins_per_octave: 36, tuning: None, ..CqtConfig::default() }
}

/// `chroma_cqt(y=y, sr=sr)` with librosa's defaults.
#[pyfunction]
fn chroma_cqt<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let c = py.detach(|| cqt_of(y, sr, &chroma_cqt_config()).map(|c| chroma_from_cqt(&c, 36)))?;
    Ok(matrix_out(py, c))
}

/// `chroma_cens(y=y, sr=sr)` with librosa's defaults.
#[pyfunction]
fn chroma_cens<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let c = py.detach(|| cqt_of(y, sr, &chroma_cqt_config()).map(|c| chroma_cens_from_cqt(&c, 36)))?;
    Ok(matrix_out(py, c))
}

/// `tonnetz(y=y, sr=sr)` with librosa's defaults (from `chroma_cqt`).
#[pyfunction]
fn tonnetz<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    sr: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let t = py.detach(|| {
        cqt_of(y, sr, &chroma_cqt_config()).map(|c| tonnetz_from_chroma(&chroma_from_cqt(&c, 36)))
    })?;
    Ok(matrix_out(py, t))
}

/// Spectral centroid `[1, frames]` of a magnitude spectrogram.
#[pyfunction]
fn spectral_centroid<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_fft: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let c = py.detach(|| genreid_features::spectral_centroid(&s, sr, n_fft));
    Ok(matrix_out(py, c))
}

/// Spectral bandwidth of order `p` `[1, frames]`; `centroid = None` computes it.
#[pyfunction]
fn spectral_bandwidth<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_fft: usize,
    p: f64,
    centroid: Option<PyReadonlyArray2<'py, f32>>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let centroid = centroid.map(|c| matrix_in(&c)).transpose()?;
    if let Some(c) = &centroid
        && c.shape() != [1, s.cols]
    {
        return Err(ParameterError::new_err(format!(
            "centroid has shape {:?}; the spectrogram needs (1, {})",
            c.shape(),
            s.cols
        )));
    }
    let b = py.detach(|| {
        let c = centroid.unwrap_or_else(|| genreid_features::spectral_centroid(&s, sr, n_fft));
        genreid_features::spectral_bandwidth(&s, &c, sr, n_fft, p)
    });
    Ok(matrix_out(py, b))
}

/// Roll-off frequency `[1, frames]`.
#[pyfunction]
fn spectral_rolloff<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_fft: usize,
    roll_percent: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    if !(roll_percent > 0.0 && roll_percent < 1.0) {
        return Err(ParameterError::new_err("roll_percent must lie in the range (0, 1)"));
    }
    let s = matrix_in(&s)?;
    let r = py.detach(|| genreid_features::spectral_rolloff(&s, sr, n_fft, roll_percent));
    Ok(matrix_out(py, r))
}

/// Octave-band contrast `[n_bands + 1, frames]`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn spectral_contrast<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    sr: f64,
    n_fft: usize,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    if !(quantile > 0.0 && quantile < 1.0) {
        return Err(ParameterError::new_err("quantile must lie in the range (0, 1)"));
    }
    let s = matrix_in(&s)?;
    let c = py
        .detach(|| genreid_features::spectral_contrast(&s, sr, n_fft, fmin, n_bands, quantile))
        .map_err(feature)?;
    Ok(matrix_out(py, c))
}

/// Spectral flatness `[1, frames]` of a magnitude spectrogram (power 2).
#[pyfunction]
fn spectral_flatness<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
    amin: f64,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    if amin.is_nan() || amin <= 0.0 {
        return Err(ParameterError::new_err("amin must be strictly positive"));
    }
    let s = matrix_in(&s)?;
    let f = py.detach(|| genreid_features::spectral_flatness(&s, amin));
    Ok(matrix_out(py, f))
}

/// Zero-crossing rate `[1, frames]` (centred).
#[pyfunction]
fn zero_crossing_rate<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    frame_length: usize,
    hop_length: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let z = py.detach(|| genreid_features::zero_crossing_rate(y, frame_length, hop_length));
    Ok(matrix_out(py, z))
}

/// RMS energy `[1, frames]` from samples (centred, zero padding).
#[pyfunction]
fn rms<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    frame_length: usize,
    hop_length: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let y = y.as_slice()?;
    let r = py.detach(|| genreid_features::rms(y, frame_length, hop_length));
    Ok(matrix_out(py, r))
}

/// RMS energy `[1, frames]` from a magnitude spectrogram.
#[pyfunction]
fn rms_spectrogram<'py>(
    py: Python<'py>,
    s: PyReadonlyArray2<'py, f32>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let s = matrix_in(&s)?;
    let r = py.detach(|| rms_from_magnitude(&s));
    Ok(matrix_out(py, r))
}

fn aggregate(name: &str) -> PyResult<Aggregate> {
    match name {
        "mean" => Ok(Aggregate::Mean),
        "median" => Ok(Aggregate::Median),
        other => Err(ParameterError::new_err(format!("aggregate must be np.mean or np.median, got {other}"))),
    }
}

/// Onset strength from a log-power mel spectrogram (`S`), or from samples
/// (librosa's 128-band mel in dB); `aggregate` is `mean` or `median`.
#[pyfunction]
#[pyo3(signature = (y, s, sr, n_fft, hop_length, aggregate_by))]
fn onset_strength<'py>(
    py: Python<'py>,
    y: Option<PyReadonlyArray1<'py, f32>>,
    s: Option<PyReadonlyArray2<'py, f32>>,
    sr: f64,
    n_fft: usize,
    hop_length: usize,
    aggregate_by: &str,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let by = aggregate(aggregate_by)?;
    let env = match (y, s) {
        (_, Some(s)) => {
            let s = matrix_in(&s)?;
            py.detach(|| onset_strength_from_db(&s, n_fft, hop_length, by))
        }
        (Some(y), None) => {
            let y = y.as_slice()?;
            py.detach(|| {
                let power = Stft::new(StftConfig::new(n_fft, hop_length)).spectrogram(y, 2.0)?;
                let mel = MelFilterbank::new(&MelConfig::new(sr, n_fft, 128))?.apply(&power)?;
                let db = genreid_features::power_to_db(&mel, &DbConfig::default());
                Ok(onset_strength_from_db(&db, n_fft, hop_length, by))
            })
            .map_err(feature)?
        }
        (None, None) => return Err(ParameterError::new_err("either y or S must be given")),
    };
    Ok(env.into_pyarray(py))
}

/// Tempo (BPM) of an onset envelope.
#[pyfunction]
fn tempo(
    py: Python<'_>,
    onset_envelope: PyReadonlyArray1<'_, f32>,
    sr: f64,
    hop_length: usize,
) -> PyResult<f64> {
    let env = onset_envelope.as_slice()?;
    Ok(py.detach(|| genreid_features::tempo(env, sr, hop_length)))
}

/// Tempo and beat frames of an onset envelope.
#[pyfunction]
fn beat_track<'py>(
    py: Python<'py>,
    onset_envelope: PyReadonlyArray1<'py, f32>,
    sr: f64,
    hop_length: usize,
) -> PyResult<(f64, Bound<'py, PyArray1<i64>>)> {
    let env = onset_envelope.as_slice()?;
    let (bpm, beats) = py.detach(|| beat_track_onsets(env, sr, hop_length));
    let beats: Vec<i64> = beats.into_iter().map(|b| b as i64).collect();
    Ok((bpm, beats.into_pyarray(py)))
}

/// A waveform handed to numpy.
type Waveform<'py> = Bound<'py, PyArray1<f32>>;

/// Harmonic and percussive waveforms (median kernel `kernel_size`, soft masks).
#[pyfunction]
fn hpss<'py>(
    py: Python<'py>,
    y: PyReadonlyArray1<'py, f32>,
    kernel_size: usize,
) -> PyResult<(Waveform<'py>, Waveform<'py>)> {
    if kernel_size == 0 {
        return Err(ParameterError::new_err("kernel_size must be positive"));
    }
    let y = y.as_slice()?;
    let (h, p) = py.detach(|| genreid_features::hpss(y, kernel_size)).map_err(feature)?;
    Ok((h.into_pyarray(py), p.into_pyarray(py)))
}
