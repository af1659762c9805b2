//! Similarity libraries from Python: `genreid embed --out`'s work
//! (`embed_library`) and a loaded library searched by cosine similarity or
//! walked into a playlist (`NativeLibrary`), each call with the GIL released.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use genreid_data::found_audio_files;
use genreid_pipeline::batch::{BatchOutput, Shard, plan_batch, run_batch};
use genreid_pipeline::similar::{
    Library, PlaylistOptions, Query, Spread, Track, library_batch, neighbours_json, playlist,
};
use genreid_pipeline::verdict::ClassifyOptions;
use genreid_pipeline::{EmbeddingSpec, Model, load_model, model_identity};
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;

use crate::errors::{ParameterError, data, model, pipeline};
use crate::pool;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(embed_library, m)?)?;
    m.add_class::<NativeLibrary>()?;
    Ok(())
}

/// Adds the audio files under `paths` to the library `out` (a `.parquet`
/// file or a folder) as `genreid embed` does: files already there with the
/// same size and modification time are skipped. Returns `(embedded,
/// failed, skipped, errors)`, `errors` as `(path, message)`.
#[pyfunction]
#[pyo3(signature = (paths, out, model_spec, layer, pooling, n_jobs))]
#[allow(clippy::type_complexity)]
fn embed_library(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    out: PathBuf,
    model_spec: Option<String>,
    layer: String,
    pooling: String,
    n_jobs: Option<usize>,
) -> PyResult<(usize, usize, usize, Vec<(String, String)>)> {
    let spec = EmbeddingSpec::named(&layer, &pooling, true).map_err(model)?;
    let pool = pool(n_jobs)?;
    py.detach(|| {
        let loaded = load_model(model_spec.as_deref()).map_err(model)?;
        let identity = model_identity(model_spec.as_deref()).map_err(model)?;
        let (schema, options) = library_batch(&loaded, &identity, spec, Shard::ALL, 256).map_err(pipeline)?;
        let output = BatchOutput::parse(&out).map_err(pipeline)?;
        let inputs = found_audio_files(&paths).map_err(data)?;
        let plan = plan_batch(inputs, &output, &options.run).map_err(pipeline)?;
        let errors = std::sync::Mutex::new(Vec::new());
        let summary = pool
            .install(|| {
                run_batch(&loaded, &schema, &plan, &output, &options, &|row| {
                    if let Some(e) = &row.error {
                        errors
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((row.stamp.path.clone(), e.clone()));
                    }
                })
            })
            .map_err(pipeline)?;
        let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok((summary.classified, summary.failed, summary.skipped, errors))
    })
}

/// A library loaded once (`genreid.Library`).
#[pyclass(frozen, name = "NativeLibrary", module = "genreid._native")]
pub struct NativeLibrary {
    library: Library,
    /// The model that embeds query files, loaded at the first one (behind
    /// an Arc: a model's alignment can exceed what Python's allocator gives
    /// a pyclass object).
    model: OnceLock<Result<Arc<Model>, String>>,
}

impl NativeLibrary {
    fn queries(&self, names: &[String]) -> PyResult<Vec<Query>> {
        let in_library = names.iter().all(|n| self.library.find(n).is_some());
        let model = if in_library {
            None
        } else {
            let loaded =
                self.model.get_or_init(|| self.library.load_model().map(Arc::new).map_err(|e| e.to_string()));
            Some(&**loaded.as_ref().map_err(|e| crate::errors::ModelError::new_err(e.clone()))?)
        };
        self.library.queries(names, model, &ClassifyOptions::default()).map_err(pipeline)
    }
}

#[pymethods]
impl NativeLibrary {
    /// The library in the Parquet file or folder `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let library = py.detach(|| Library::open(&path)).map_err(pipeline)?;
        Ok(NativeLibrary { library, model: OnceLock::new() })
    }

    fn __len__(&self) -> usize {
        self.library.len()
    }

    /// The tracks' paths, in row order.
    fn paths(&self) -> Vec<String> {
        self.library.tracks.iter().map(|t| t.path.clone()).collect()
    }

    /// How the embeddings were made (`penultimate/mean/l2`).
    fn embedding(&self) -> String {
        self.library.embedding_spec().label()
    }

    /// The neighbours of each query (a library path or an audio file), as
    /// JSON text: `[[{rank, path, similarity, genre, artist, album, title, tags}]]`.
    fn similar(&self, py: Python<'_>, queries: Vec<String>, k: usize) -> PyResult<String> {
        py.detach(|| {
            let queries = self.queries(&queries)?;
            let found = self.library.similar(&queries, k);
            let records: Vec<_> = found.iter().map(|f| neighbours_json(&self.library, f)).collect();
            Ok(serde_json::Value::from(records).to_string())
        })
    }

    /// The neighbours of each row of `vectors` (`[n, dim]` embeddings made
    /// as the library's), as [`Self::similar`].
    fn similar_vectors(
        &self,
        py: Python<'_>,
        vectors: PyReadonlyArray2<'_, f32>,
        k: usize,
    ) -> PyResult<String> {
        let array = vectors.as_array();
        let shape = array.shape();
        if shape[1] != self.library.dim {
            return Err(ParameterError::new_err(format!(
                "vectors are {} wide, the library's {} ({})",
                shape[1],
                self.library.dim,
                self.library.embedding_spec().label()
            )));
        }
        let flat = array.iter().copied().collect::<Vec<f32>>();
        py.detach(|| {
            let queries: Vec<Query> = flat
                .chunks_exact(self.library.dim.max(1))
                .enumerate()
                .map(|(i, v)| Query { name: format!("vectors[{i}]"), row: None, vector: v.to_vec() })
                .collect();
            let found = self.library.similar(&queries, k);
            let records: Vec<_> = found.iter().map(|f| neighbours_json(&self.library, f)).collect();
            Ok(serde_json::Value::from(records).to_string())
        })
    }

    /// A playlist from `seeds` (library paths or audio files): `(path, similarity to the previous)`.
    #[pyo3(signature = (seeds, length, anchor, spread, spread_window))]
    fn playlist(
        &self,
        py: Python<'_>,
        seeds: Vec<String>,
        length: usize,
        anchor: f32,
        spread: &str,
        spread_window: usize,
    ) -> PyResult<Vec<(String, f32)>> {
        let spread = match spread {
            "none" => Spread::None,
            "artist" => Spread::Artist,
            "album" => Spread::Album,
            other => {
                return Err(ParameterError::new_err(format!(
                    "spread must be None, 'artist' or 'album', got {other:?}"
                )));
            }
        };
        if !(0.0..1.0).contains(&anchor) {
            return Err(ParameterError::new_err(format!("anchor must lie in [0, 1), got {anchor}")));
        }
        py.detach(|| {
            let queries = self.queries(&seeds)?;
            // Seed files outside the library join a copy of it for this playlist.
            let extended;
            let library = if queries.iter().all(|q| q.row.is_some()) {
                &self.library
            } else {
                let mut copy = self.library.clone();
                for q in queries.iter().filter(|q| q.row.is_none()) {
                    copy.push(Track { path: q.name.clone(), ..Default::default() }, &q.vector)
                        .map_err(pipeline)?;
                }
                extended = copy;
                &extended
            };
            let rows: Vec<usize> =
                queries.iter().map(|q| q.row.or_else(|| library.find(&q.name)).unwrap_or(0)).collect();
            let options = PlaylistOptions { length, anchor, spread, spread_window };
            Ok(playlist(library, &rows, &options)
                .into_iter()
                .map(|(row, score)| (library.tracks[row].path.clone(), score))
                .collect())
        })
    }

    fn __repr__(&self) -> String {
        format!("Library({} tracks, {})", self.library.len(), self.library.embedding_spec().label())
    }
}
