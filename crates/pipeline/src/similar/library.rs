//! A similarity library loaded from Parquet: the rows of `genreid embed`
//! (or of `classify --out … --embedding`), one file or a folder of parts.
//! Rows without an embedding (failed files) are left out; a path that
//! appears more than once (a folder re-run without `--resume`) keeps its
//! last row.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, RecordBatch, StructArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::batch::BatchOutput;
use crate::embed::EmbeddingSpec;
use crate::error::{PipelineError, Result};
use crate::registry::{Model, load_model};

/// One track of a library.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Track {
    /// The file as it was opened when embedded.
    pub path: String,
    /// The genre verdict.
    pub genre: Option<String>,
    /// The three strongest tags, strongest first.
    pub top_tags: Vec<(String, f32)>,
    /// The artist its tags name.
    pub artist: Option<String>,
    /// The album its tags name.
    pub album: Option<String>,
    /// The title its tags name.
    pub title: Option<String>,
    /// Seconds of audio analysed.
    pub duration_seconds: Option<f64>,
}

/// Track embeddings in one row-major matrix, with each track's details.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// The tracks, in matrix row order.
    pub tracks: Vec<Track>,
    /// `tracks.len() × dim` embeddings, row-major.
    pub vectors: Vec<f32>,
    /// The embedding's width.
    pub dim: usize,
    /// How the embeddings were made (`None`: the files do not say).
    pub spec: Option<EmbeddingSpec>,
    /// The model that made them.
    pub model: Option<String>,
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Invalid(format!("{}: not a genreid library: {e}", path.display()))
}

impl Library {
    /// The library in `path`: one Parquet file, or a folder of parts.
    pub fn open(path: &Path) -> Result<Self> {
        let files = if path.is_dir() {
            BatchOutput::Folder(path.to_path_buf()).existing_parts()?
        } else if path.is_file() {
            vec![path.to_path_buf()]
        } else {
            return Err(PipelineError::Invalid(format!(
                "{}: no such library (make one with `genreid embed PATHS --out {}`)",
                path.display(),
                path.display()
            )));
        };
        let mut library = Library::default();
        let mut rows: HashMap<String, usize> = HashMap::new();
        for file in &files {
            library.read_file(file, &mut rows)?;
        }
        if library.tracks.is_empty() {
            return Err(PipelineError::Invalid(format!(
                "{}: the library holds no embedded tracks",
                path.display()
            )));
        }
        Ok(library)
    }

    /// An error when a library already at `path` (a folder of parts or a
    /// file) holds embeddings other than `spec` by `model`: adding a part to
    /// it would make a library no search can use. Reads only the first
    /// part's metadata and first row. No library at `path` is fine, and so
    /// is one whose model can no longer be loaded (only its layer is checked).
    pub fn check_extends(path: &Path, spec: &EmbeddingSpec, model: &Model) -> Result<()> {
        let first = if path.is_dir() {
            BatchOutput::Folder(path.to_path_buf()).existing_parts()?.into_iter().next()
        } else {
            path.is_file().then(|| path.to_path_buf())
        };
        let Some(file) = first else { return Ok(()) };
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(File::open(&file).map_err(|e| invalid(&file, e))?)
                .map_err(|e| invalid(&file, e))?;
        let held = builder.schema().metadata().get("genreid.embedding").cloned();
        let mut made_by = None;
        if let Some(batch) = builder.with_batch_size(1).build().map_err(|e| invalid(&file, e))?.next() {
            let batch = batch.map_err(|e| invalid(&file, e))?;
            made_by = batch
                .column_by_name("model")
                .and_then(|c| c.as_string_opt::<i32>().cloned())
                .filter(|c| !c.is_empty() && c.is_valid(0))
                .map(|c| c.value(0).to_string());
        }
        let refuse = |what: String| {
            Err(PipelineError::Invalid(format!(
                "{}: the library holds {what}; add to it with the same --model, --layer and --pooling, or write to another --out",
                path.display()
            )))
        };
        if let Some(held) = held
            && held != spec.label()
        {
            return refuse(format!("{held} embeddings, not {}", spec.label()));
        }
        if let Some(made_by) = made_by
            && let Ok(library_model) = load_model(Some(&made_by))
            && library_model.embedder() != model.embedder()
        {
            return refuse(format!(
                "embeddings by {made_by} ({}), not {}",
                library_model.embedder().unwrap_or("no embedding network"),
                model.embedder().unwrap_or("no embedding network")
            ));
        }
        Ok(())
    }

    /// Number of tracks.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// Whether the library holds no track.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    /// The embedding of track `row`.
    pub fn vector(&self, row: usize) -> &[f32] {
        &self.vectors[row * self.dim..(row + 1) * self.dim]
    }

    /// The row of the track whose path is `path`: as given, or the same
    /// file by another name (only tracks with the same file name are
    /// resolved on disk, so a lookup stays cheap in a large library).
    pub fn find(&self, path: &str) -> Option<usize> {
        if let Some(row) = self.tracks.iter().position(|t| t.path == path) {
            return Some(row);
        }
        let wanted = std::fs::canonicalize(path).ok()?;
        let name = wanted.file_name()?;
        self.tracks.iter().position(|t| {
            let candidate = Path::new(&t.path);
            candidate.file_name() == Some(name) && std::fs::canonicalize(candidate).is_ok_and(|c| c == wanted)
        })
    }

    /// Adds a track (used by tests and by callers with embeddings in hand).
    pub fn push(&mut self, track: Track, vector: &[f32]) -> Result<()> {
        if self.dim == 0 {
            self.dim = vector.len();
        }
        if vector.len() != self.dim || self.dim == 0 {
            return Err(PipelineError::Invalid(format!(
                "{}: embedding of width {} in a library of width {}",
                track.path,
                vector.len(),
                self.dim
            )));
        }
        self.tracks.push(track);
        self.vectors.extend_from_slice(vector);
        Ok(())
    }

    fn read_file(&mut self, file: &PathBuf, rows: &mut HashMap<String, usize>) -> Result<()> {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(File::open(file).map_err(|e| invalid(file, e))?)
                .map_err(|e| invalid(file, e))?;
        let metadata = builder.schema().metadata().clone();
        if let Some(spec) = metadata.get("genreid.embedding") {
            let spec = EmbeddingSpec::parse(spec).map_err(|e| invalid(file, e))?;
            match &self.spec {
                Some(known) if *known != spec => {
                    return Err(invalid(
                        file,
                        format!("its embeddings are {}, the others' {}", spec.label(), known.label()),
                    ));
                }
                _ => self.spec = Some(spec),
            }
        }
        if builder.schema().column_with_name("embedding").is_none() {
            return Err(invalid(file, "no embedding column (write it with `genreid embed`)"));
        }
        for batch in builder.build().map_err(|e| invalid(file, e))? {
            let batch = batch.map_err(|e| invalid(file, e))?;
            self.read_batch(&batch, rows).map_err(|e| invalid(file, e))?;
        }
        Ok(())
    }

    fn read_batch(
        &mut self,
        batch: &RecordBatch,
        rows: &mut HashMap<String, usize>,
    ) -> std::result::Result<(), String> {
        let strings = |name: &str| batch.column_by_name(name).and_then(|c| c.as_string_opt::<i32>().cloned());
        let paths = strings("path").ok_or("no utf8 path column")?;
        let genres = strings("genre");
        let models = strings("model");
        let [artists, albums, titles] = ["artist", "album", "title"].map(strings);
        let durations = batch
            .column_by_name("duration_seconds")
            .and_then(|c| c.as_primitive_opt::<arrow_array::types::Float64Type>().cloned());
        let tags = batch.column_by_name("tags").and_then(|c| c.as_struct_opt().cloned());
        let embeddings = batch
            .column_by_name("embedding")
            .and_then(|c| c.as_fixed_size_list_opt().cloned())
            .ok_or("embedding is not a fixed-size list")?;
        let width = embeddings.value_length() as usize;
        if self.dim != 0 && width != self.dim {
            return Err(format!("embeddings {width} wide after others {} wide", self.dim));
        }
        let values =
            embeddings.values().as_primitive_opt::<Float32Type>().ok_or("embedding is not float32")?;
        let text = |column: &Option<arrow_array::StringArray>, i: usize| {
            column.as_ref().filter(|c| c.is_valid(i)).map(|c| c.value(i).to_string())
        };
        for i in 0..batch.num_rows() {
            if !embeddings.is_valid(i) {
                continue;
            }
            let start = embeddings.value_offset_at(i);
            let vector = &values.values()[start..start + width];
            if vector.iter().any(|v| !v.is_finite()) {
                continue;
            }
            if self.model.is_none() {
                self.model = text(&models, i);
            }
            let track = Track {
                path: paths.value(i).to_string(),
                genre: text(&genres, i),
                top_tags: tags.as_ref().map(|t| top_tags(t, i, 3)).unwrap_or_default(),
                artist: text(&artists, i),
                album: text(&albums, i),
                title: text(&titles, i),
                duration_seconds: durations.as_ref().filter(|d| d.is_valid(i)).map(|d| d.value(i)),
            };
            match rows.get(&track.path) {
                Some(&row) => {
                    self.vectors[row * width..(row + 1) * width].copy_from_slice(vector);
                    self.tracks[row] = track;
                }
                None => {
                    rows.insert(track.path.clone(), self.tracks.len());
                    self.push(track, vector).map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }
}

/// The `n` strongest tags of row `i` of a tags struct column.
fn top_tags(tags: &StructArray, i: usize, n: usize) -> Vec<(String, f32)> {
    if !tags.is_valid(i) {
        return Vec::new();
    }
    let mut all: Vec<(String, f32)> = tags
        .fields()
        .iter()
        .zip(tags.columns())
        .filter_map(|(field, column)| {
            let column = column.as_primitive_opt::<Float32Type>()?;
            column.is_valid(i).then(|| (field.name().clone(), column.value(i)))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}
