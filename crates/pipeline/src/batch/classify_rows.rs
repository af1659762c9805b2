//! Verdict rows (`genreid classify --out`, `embed`, Python's batch
//! callables): each file classified, with its embedding and its own tags
//! where asked for, in the schema of [`super::schema`].

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use genreid_data::FoundFile;
use rayon::prelude::*;

use super::parts::{BatchOutput, parquet_bytes};
use super::run::{BatchPlan, BatchSummary, RowKind, RunOptions, run_rows};
use super::schema::{BatchRow, BatchSchema, FileTags};
use super::stamp::FileStamp;
use crate::embed::{EmbeddingSpec, classify_and_embed_path};
use crate::error::{PipelineError, Result};
use crate::registry::Model;
use crate::verdict::{ClassifyOptions, classify_path};

/// How a classifying batch run goes.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Sharding, resuming and part size.
    pub run: RunOptions,
    /// The embedding to add to each row (taggers only).
    pub embedding: Option<EmbeddingSpec>,
    /// Whether rows carry the files' artist, album and title (read from their tags).
    pub file_tags: bool,
    /// How each file is classified.
    pub classify: ClassifyOptions,
}

/// One file's row: its stamp and verdict, or the error.
pub fn batch_row(model: &Model, file: &FoundFile, options: &BatchOptions) -> BatchRow {
    let (stamp, unreadable) = FileStamp::read(file);
    if unreadable.is_some() {
        return BatchRow { stamp, error: unreadable, ..Default::default() };
    }
    let mut row = BatchRow { stamp, ..Default::default() };
    let outcome = match &options.embedding {
        Some(spec) => classify_and_embed_path(model, &file.path, spec, &options.classify)
            .map(|(verdict, embedding)| (verdict, Some(embedding))),
        None => classify_path(model, &file.path, &options.classify).map(|verdict| (verdict, None)),
    };
    match outcome {
        Ok((verdict, embedding)) => {
            row.verdict = Some(verdict);
            row.embedding = embedding;
            if options.file_tags {
                row.file_tags = read_file_tags(&file.path);
            }
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

/// The artist, album and title in `path`'s tags; empty when it has none or
/// they cannot be read (the audio was read already: tags are a nicety).
pub fn read_file_tags(path: &Path) -> FileTags {
    use lofty::file::TaggedFileExt;
    use lofty::tag::Accessor;
    let options = lofty::config::ParseOptions::new().read_properties(false);
    let Ok(tagged) = lofty::probe::Probe::open(path).and_then(|p| p.options(options).read()) else {
        return FileTags::default();
    };
    let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) else {
        return FileTags::default();
    };
    let text = |value: Option<std::borrow::Cow<'_, str>>| {
        value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    };
    FileTags { artist: text(tag.artist()), album: text(tag.album()), title: text(tag.title()) }
}

/// Verdict rows from one model, as a [`RowKind`].
#[derive(Debug, Clone, Copy)]
pub struct ClassifyRows<'a> {
    /// The model.
    pub model: &'a Model,
    /// The rows' layout.
    pub schema: &'a BatchSchema,
    /// How files are classified.
    pub options: &'a BatchOptions,
}

impl RowKind for ClassifyRows<'_> {
    type Row = BatchRow;

    fn arrow_schema(&self) -> SchemaRef {
        self.schema.arrow_schema()
    }

    fn identity(&self) -> (&str, &str) {
        ("model_version", &self.schema.model_version)
    }

    fn row(&self, file: &FoundFile) -> BatchRow {
        batch_row(self.model, file, self.options)
    }

    fn failed(&self, row: &BatchRow) -> bool {
        row.error.is_some()
    }

    fn record_batch(&self, rows: &[BatchRow]) -> std::result::Result<RecordBatch, ArrowError> {
        self.schema.record_batch(rows)
    }
}

/// Runs `plan`, classifying with `model` ([`run_rows`] with [`ClassifyRows`]).
pub fn run_batch(
    model: &Model,
    schema: &BatchSchema,
    plan: &BatchPlan,
    output: &BatchOutput,
    options: &BatchOptions,
    done: &(dyn Fn(&BatchRow) + Sync),
) -> Result<BatchSummary> {
    run_rows(&ClassifyRows { model, schema, options }, plan, output, &options.run, done)
}

/// The rows of `files`, classified in parallel on rayon's current pool, as
/// the bytes of one Parquet file (a Ray or Spark batch: no files written).
pub fn rows_parquet(
    model: &Model,
    schema: &BatchSchema,
    files: &[FoundFile],
    options: &BatchOptions,
) -> Result<Vec<u8>> {
    let rows: Vec<BatchRow> = files.par_iter().map(|file| batch_row(model, file, options)).collect();
    let batch =
        schema.record_batch(&rows).map_err(|e| PipelineError::Output(format!("cannot lay out rows: {e}")))?;
    parquet_bytes(&batch)
}
