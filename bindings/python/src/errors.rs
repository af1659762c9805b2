//! genreid's Python exceptions, all `ValueError`s under `GenreidError`, and
//! the translation of each crate's error into one of them.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    _native,
    GenreidError,
    PyValueError,
    "Base class of genreid's errors (a ValueError); the message names the file and the cause."
);
create_exception!(
    _native,
    AudioError,
    GenreidError,
    "A file could not be decoded as audio, or its audio is unusable."
);
create_exception!(
    _native,
    FeatureError,
    GenreidError,
    "A feature could not be computed from the input given."
);
create_exception!(_native, ModelError, GenreidError, "A model could not be loaded or used.");
create_exception!(
    _native,
    ParameterError,
    GenreidError,
    "An argument is invalid (as librosa's ParameterError, but also a ValueError)."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GenreidError", py.get_type::<GenreidError>())?;
    m.add("AudioError", py.get_type::<AudioError>())?;
    m.add("FeatureError", py.get_type::<FeatureError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    Ok(())
}

/// An audio error as a Python exception.
pub(crate) fn audio(e: genreid_audio::AudioError) -> PyErr {
    match e {
        genreid_audio::AudioError::InvalidParameter(m) => ParameterError::new_err(m),
        e => AudioError::new_err(e.to_string()),
    }
}

/// A feature error as a Python exception.
pub(crate) fn feature(e: genreid_features::FeatureError) -> PyErr {
    match e {
        genreid_features::FeatureError::InvalidParameter(m) => ParameterError::new_err(m),
        e => FeatureError::new_err(e.to_string()),
    }
}

/// A model error as a Python exception.
pub(crate) fn model(e: genreid_models::ModelError) -> PyErr {
    ModelError::new_err(e.to_string())
}

/// A pipeline error (a batch run) as a Python exception.
pub(crate) fn pipeline(e: genreid_pipeline::PipelineError) -> PyErr {
    match e {
        genreid_pipeline::PipelineError::Model(e) => model(e),
        genreid_pipeline::PipelineError::Data(e) => data(e),
        e => GenreidError::new_err(e.to_string()),
    }
}

/// A data error (a feature table, a folder walk) as a Python exception.
pub(crate) fn data(e: genreid_data::DataError) -> PyErr {
    match e {
        genreid_data::DataError::Audio(m) => AudioError::new_err(m),
        genreid_data::DataError::NoAudio(_) | genreid_data::DataError::Read { .. } => {
            AudioError::new_err(e.to_string())
        }
        e => GenreidError::new_err(e.to_string()),
    }
}
