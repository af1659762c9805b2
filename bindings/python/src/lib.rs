//! `genreid._native`: the compiled half of the `genreid` Python package.
//!
//! Each function here is a thin translation: numpy arrays in (borrowed, not
//! copied), a call into the library crates with the GIL released, numpy
//! arrays out (the result's buffer handed to numpy, not copied). Argument
//! names, defaults and librosa's keyword checking live in the Python layer
//! (`python/genreid/*.py`), which calls these with every value explicit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

mod batch;
mod errors;
mod signal;
mod similar;
mod spectral;

pub use errors::{AudioError, FeatureError, GenreidError, ModelError, ParameterError};

/// A rayon pool of `n_jobs` threads (all cores for `None`), kept for reuse.
pub(crate) fn pool(n_jobs: Option<usize>) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: Mutex<Option<HashMap<usize, Arc<rayon::ThreadPool>>>> = Mutex::new(None);
    let n = genreid_pipeline::jobs::check_jobs(n_jobs).map_err(ParameterError::new_err)?;
    let mut pools = POOLS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pools = pools.get_or_insert_with(HashMap::new);
    if let Some(p) = pools.get(&n) {
        return Ok(Arc::clone(p));
    }
    let built = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("genreid-{i}"))
        .build()
        .map_err(|e| ParameterError::new_err(format!("cannot start {n} worker threads: {e}")))?;
    let built = Arc::new(built);
    pools.insert(n, Arc::clone(&built));
    Ok(built)
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    signal::register(m)?;
    spectral::register(m)?;
    batch::register(m)?;
    similar::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_MODEL", genreid_pipeline::DEFAULT_MODEL)?;
    Ok(())
}
