//! Many files or arrays at once, in parallel with the GIL released: feature
//! tables and a loaded model's verdicts and embeddings. A file that fails
//! is an error entry in the result, never an exception, so one bad file in
//! thousands does not stop the rest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use genreid_audio::Signal;
use genreid_data::{FoundFile, RowOptions, RowSet};
use genreid_models::pretrained::patch_hop_frames;
use genreid_pipeline::batch::{BatchOptions, BatchSchema, rows_parquet};
use genreid_pipeline::verdict::ClassifyOptions;
use genreid_pipeline::{
    BUILTIN_MODELS, EmbeddingSpec, Model, ModelIdentity, classify_files, classify_samples, embed_path,
    embed_signal, load_model, model_identity, record,
};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use crate::errors::{ParameterError, model, pipeline};
use crate::pool;
use crate::signal::rate;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(table_rows, m)?)?;
    m.add_function(wrap_pyfunction!(table_columns, m)?)?;
    m.add_function(wrap_pyfunction!(builtin_models, m)?)?;
    m.add_class::<NativeModel>()?;
    Ok(())
}

fn row_set(name: &str) -> PyResult<RowSet> {
    RowSet::from_name(name).ok_or_else(|| {
        ParameterError::new_err(format!("set must be \"gtzan57\" or \"fma518\", got {name:?}"))
    })
}

/// The feature columns of a table `set`.
#[pyfunction]
fn table_columns(set: &str) -> PyResult<Vec<String>> {
    Ok(row_set(set)?.columns())
}

/// Rows of a feature table: names, lengths, labels, values `[rows, columns]`
/// (float64), per-file errors `(path, message)` and notes.
type TableChunk<'py> =
    (Vec<String>, Vec<u64>, Vec<String>, Bound<'py, PyArray2<f64>>, Vec<(String, String)>, Vec<String>);

/// The feature-table rows of `paths`, computed in parallel.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (paths, set, sr, duration, segment, segment_hop, n_jobs))]
fn table_rows<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    set: &str,
    sr: Option<f64>,
    duration: Option<f64>,
    segment: Option<f64>,
    segment_hop: Option<f64>,
    n_jobs: Option<usize>,
) -> PyResult<TableChunk<'py>> {
    let set = row_set(set)?;
    let options = RowOptions {
        set,
        sample_rate: sr.map(|sr| rate(sr, "sr")).transpose()?.or(set.default_sample_rate()),
        duration,
        segment: segment.map(|s| (s, segment_hop.unwrap_or(s))),
        ..RowOptions::default()
    };
    options.validate().map_err(|e| ParameterError::new_err(e.to_string()))?;
    let pool = pool(n_jobs)?;
    let outcomes = py.detach(|| pool.install(|| genreid_pipeline::table_files(&paths, &options, &|_, _| {})));
    let (mut names, mut lengths, mut labels, mut values, mut errors, mut notes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let width = set.columns().len();
    for (path, outcome) in outcomes {
        match outcome {
            Ok(rows) => {
                notes.extend(rows.notes);
                for row in rows.rows {
                    names.push(row.filename);
                    lengths.push(row.length as u64);
                    labels.push(row.label);
                    values.extend(row.values);
                }
            }
            Err(message) => errors.push((path.display().to_string(), message)),
        }
    }
    let values = Array2::from_shape_vec((names.len(), width), values).expect("every row has every column");
    Ok((names, lengths, labels, values.into_pyarray(py), errors, notes))
}

/// The built-in models: `(name, description)`.
#[pyfunction]
fn builtin_models() -> Vec<(String, String)> {
    BUILTIN_MODELS.iter().map(|(n, d, _)| (n.to_string(), d.to_string())).collect()
}

/// Embeddings `[n, dim]` and the errors `(index, message)` of failed inputs.
type Embeddings<'py> = (Bound<'py, PyArray2<f32>>, Vec<(usize, String)>);

/// What a batch-run schema depends on: segments, and the embedding layer.
type SchemaKey = (bool, Option<String>);

/// A model loaded once and shared by every call (and thread).
#[pyclass(frozen, name = "NativeModel", module = "genreid._native")]
pub struct NativeModel {
    model: Arc<Model>,
    spec: String,
    identity: ModelIdentity,
    /// Batch-run schemas by options, made once each.
    schemas: Mutex<HashMap<SchemaKey, Arc<BatchSchema>>>,
}

fn options(segments: bool, overlap: f64) -> PyResult<ClassifyOptions> {
    Ok(ClassifyOptions { hop: patch_hop_frames(overlap).map_err(model)?, segments, ..Default::default() })
}

impl NativeModel {
    /// The batch-run schema for these options (the embedding's width is
    /// found by a probe, so each schema is made once).
    fn schema(
        &self,
        segments: bool,
        embedding: Option<String>,
    ) -> genreid_pipeline::Result<Arc<BatchSchema>> {
        let key = (segments, embedding);
        if let Some(schema) = self.schemas.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(schema.clone());
        }
        let spec = key.1.as_deref().map(EmbeddingSpec::parse).transpose()?;
        let schema = Arc::new(BatchSchema::for_model(&self.model, &self.identity, key.0, spec.as_ref())?);
        self.schemas.lock().unwrap_or_else(|e| e.into_inner()).insert(key, schema.clone());
        Ok(schema)
    }
}

#[pymethods]
impl NativeModel {
    /// Loads a built-in model by name or a model file (`a,b:2` an ensemble).
    #[new]
    fn new(py: Python<'_>, spec: String) -> PyResult<Self> {
        let (model, identity) =
            py.detach(|| Ok((load_model(Some(&spec))?, model_identity(Some(&spec))?))).map_err(model)?;
        Ok(Self { model: Arc::new(model), spec, identity, schemas: Mutex::default() })
    }

    /// What the model was loaded from.
    #[getter]
    fn spec(&self) -> String {
        self.spec.clone()
    }

    /// The labels of its verdicts, in probability order.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.model.labels()
    }

    /// The tags it reports beside a verdict (empty without a tagger).
    #[getter]
    fn tags(&self) -> Vec<String> {
        self.model.tags()
    }

    /// `classical`, `tagger`, `network` or `ensemble`.
    #[getter]
    fn kind(&self) -> &'static str {
        match &*self.model {
            Model::Classical(_) => "classical",
            Model::Tagger(_) => "tagger",
            Model::Network(_) => "network",
            Model::Ensemble(_) => "ensemble",
        }
    }

    /// The JSON record (as text) of each file, in input order.
    fn classify_paths(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
        segments: bool,
        overlap: f64,
        n_jobs: Option<usize>,
    ) -> PyResult<Vec<String>> {
        let options = options(segments, overlap)?;
        let pool = pool(n_jobs)?;
        let model = &*self.model;
        Ok(py.detach(|| {
            pool.install(|| {
                classify_files(model, &paths, &options, &|_, _| {})
                    .iter()
                    .map(|(path, outcome)| record(path, outcome).to_string())
                    .collect()
            })
        }))
    }

    /// A Parquet file's bytes holding the batch-run row (`genreid classify
    /// --out`'s schema) of each `(path, relative_path)`, in input order.
    #[pyo3(signature = (files, segments, overlap, embedding, n_jobs))]
    fn batch_rows<'py>(
        &self,
        py: Python<'py>,
        files: Vec<(PathBuf, String)>,
        segments: bool,
        overlap: f64,
        embedding: Option<String>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let options = BatchOptions {
            classify: options(segments, overlap)?,
            embedding: embedding.as_deref().map(EmbeddingSpec::parse).transpose().map_err(model)?,
            ..Default::default()
        };
        let pool = pool(n_jobs)?;
        let model = &*self.model;
        let files: Vec<FoundFile> =
            files.into_iter().map(|(path, relative)| FoundFile { path, relative }).collect();
        let bytes = py
            .detach(|| {
                let schema = self.schema(segments, embedding)?;
                pool.install(|| rows_parquet(model, &schema, &files, &options))
            })
            .map_err(pipeline)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The JSON record (as text) of each array at `sr`, named by `names`.
    #[allow(clippy::too_many_arguments)]
    fn classify_arrays(
        &self,
        py: Python<'_>,
        arrays: Vec<PyReadonlyArray1<'_, f32>>,
        names: Vec<String>,
        sr: f64,
        segments: bool,
        overlap: f64,
        n_jobs: Option<usize>,
    ) -> PyResult<Vec<String>> {
        let sr = rate(sr, "sr")?;
        let options = options(segments, overlap)?;
        let slices = arrays.iter().map(|a| a.as_slice()).collect::<Result<Vec<_>, _>>()?;
        let pool = pool(n_jobs)?;
        let model = &*self.model;
        Ok(py.detach(|| {
            pool.install(|| {
                slices
                    .par_iter()
                    .zip(&names)
                    .map(|(y, name)| {
                        let outcome = classify_samples(model, &Signal::new(y.to_vec(), sr), name, &options)
                            .map_err(|e| format!("{name}: {e}"));
                        record(std::path::Path::new(name), &outcome).to_string()
                    })
                    .collect()
            })
        }))
    }

    /// Track embeddings of files `[n, dim]` (float32, rows of failed files
    /// NaN) and the errors `(index, message)`.
    fn embed_paths<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<PathBuf>,
        layer: &str,
        overlap: f64,
        n_jobs: Option<usize>,
    ) -> PyResult<Embeddings<'py>> {
        let options = options(false, overlap)?;
        let spec = EmbeddingSpec::parse(layer).map_err(model)?;
        let pool = pool(n_jobs)?;
        let model = &*self.model;
        let rows: Vec<Result<Vec<f32>, String>> = py.detach(|| {
            pool.install(|| {
                paths
                    .par_iter()
                    .map(|p| embed_path(model, p, &spec, &options).map_err(|e| e.to_string()))
                    .collect()
            })
        });
        embeddings(py, rows)
    }

    /// Track embeddings of arrays at `sr`, as [`Self::embed_paths`].
    fn embed_arrays<'py>(
        &self,
        py: Python<'py>,
        arrays: Vec<PyReadonlyArray1<'py, f32>>,
        sr: f64,
        layer: &str,
        overlap: f64,
        n_jobs: Option<usize>,
    ) -> PyResult<Embeddings<'py>> {
        let sr = rate(sr, "sr")?;
        let options = options(false, overlap)?;
        let spec = EmbeddingSpec::parse(layer).map_err(model)?;
        let slices = arrays.iter().map(|a| a.as_slice()).collect::<Result<Vec<_>, _>>()?;
        let pool = pool(n_jobs)?;
        let model = &*self.model;
        let rows: Vec<Result<Vec<f32>, String>> = py.detach(|| {
            pool.install(|| {
                slices
                    .par_iter()
                    .map(|y| {
                        embed_signal(model, &Signal::new(y.to_vec(), sr), &spec, &options)
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            })
        });
        embeddings(py, rows)
    }

    fn __repr__(&self) -> String {
        format!("genreid.Model({:?})", self.spec)
    }
}

/// Rows of embeddings as one array, NaN where a track failed.
fn embeddings(py: Python<'_>, rows: Vec<Result<Vec<f32>, String>>) -> PyResult<Embeddings<'_>> {
    let dim = rows.iter().find_map(|r| r.as_ref().ok().map(Vec::len)).unwrap_or(0);
    let mut values = Vec::with_capacity(rows.len() * dim);
    let mut errors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match row {
            Ok(v) => values.extend_from_slice(v),
            Err(e) => {
                errors.push((i, e.clone()));
                values.extend(std::iter::repeat_n(f32::NAN, dim));
            }
        }
    }
    let array = Array2::from_shape_vec((rows.len(), dim), values).expect("rows of one width");
    Ok((array.into_pyarray(py), errors))
}
