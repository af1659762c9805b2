//! A batch run into Parquet: a shard of the inputs, minus what a previous
//! run already wrote (`resume`), classified in parallel and written part by
//! part, so a killed worker loses at most the part it was working on.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use genreid_data::FoundFile;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::parts::{
    BatchOutput, DoneKey, PartWriter, done_keys, kept_rows, parquet_bytes, write_parquet_batches,
};
use super::schema::FileTags;
use super::schema::{BatchRow, BatchSchema};
use super::shard::Shard;
use crate::embed::{EmbeddingSpec, classify_and_embed_path};
use crate::error::{PipelineError, Result};
use crate::registry::Model;
use crate::verdict::{ClassifyOptions, classify_path};

/// How a batch run goes.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The share of the inputs this worker takes.
    pub shard: Shard,
    /// Skip inputs already in the output folder (same path, size and
    /// modification time).
    pub resume: bool,
    /// Files per part written to a folder: what a killed run can lose.
    pub part_rows: usize,
    /// The embedding to add to each row (taggers only).
    pub embedding: Option<EmbeddingSpec>,
    /// Whether rows carry the files' artist, album and title (read from their tags).
    pub file_tags: bool,
    /// How each file is classified.
    pub classify: ClassifyOptions,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            shard: Shard::ALL,
            resume: false,
            part_rows: 256,
            embedding: None,
            file_tags: false,
            classify: Default::default(),
        }
    }
}

/// What a run will do, worked out before it starts (for a progress bar).
#[derive(Debug, Clone)]
pub struct BatchPlan {
    /// The files to classify, in input order.
    pub todo: Vec<FoundFile>,
    /// Inputs given.
    pub inputs: usize,
    /// Inputs in this shard.
    pub in_shard: usize,
    /// Inputs in this shard already in the output.
    pub skipped: usize,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct BatchSummary {
    /// Inputs given.
    pub inputs: usize,
    /// Inputs in this shard.
    pub in_shard: usize,
    /// Skipped as already done.
    pub skipped: usize,
    /// Classified now.
    pub classified: usize,
    /// Failed now (each has an error row).
    pub failed: usize,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl BatchSummary {
    /// Files classified or failed per second.
    pub fn tracks_per_second(&self) -> f64 {
        (self.classified + self.failed) as f64 / self.seconds.max(1e-9)
    }
}

/// A file's size and modification time (nanoseconds since 1970), as rows record them.
pub fn file_stamp(path: &Path) -> std::io::Result<(u64, i64)> {
    let meta = std::fs::metadata(path)?;
    let modified = meta.modified()?;
    let ns = match modified.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
    };
    Ok((meta.len(), ns))
}

/// The shard's inputs, less those already in `output` when resuming.
pub fn plan_batch(inputs: Vec<FoundFile>, output: &BatchOutput, options: &BatchOptions) -> Result<BatchPlan> {
    let count = inputs.len();
    let mut seen = HashSet::new();
    let mine: Vec<FoundFile> = inputs
        .into_iter()
        .filter(|f| options.shard.holds(&f.relative) && seen.insert(f.path.clone()))
        .collect();
    let in_shard = mine.len();
    let done: HashSet<DoneKey> = if options.resume { done_keys(output)? } else { HashSet::new() };
    let todo: Vec<FoundFile> = mine
        .into_iter()
        .filter(|f| match file_stamp(&f.path) {
            Ok((size, ns)) => !done.contains(&(f.path.display().to_string(), size, ns)),
            Err(_) => true,
        })
        .collect();
    Ok(BatchPlan { skipped: in_shard - todo.len(), todo, inputs: count, in_shard })
}

/// One file's row: its stamp, content hash and verdict, or the error.
pub fn batch_row(model: &Model, file: &FoundFile, options: &BatchOptions) -> BatchRow {
    let mut row = BatchRow {
        path: file.path.display().to_string(),
        relative_path: file.relative.clone(),
        ..Default::default()
    };
    let stamp = file_stamp(&file.path).and_then(|stamp| Ok((stamp, sha256_file(&file.path)?)));
    match stamp {
        Ok(((size, ns), hash)) => {
            row.size = Some(size);
            row.modified_ns = Some(ns);
            row.content_sha256 = Some(hash);
        }
        Err(e) => {
            row.error = Some(format!("{}: cannot read: {e}", file.path.display()));
            return row;
        }
    }
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

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs `plan`: classifies its files in parallel on rayon's current pool,
/// writing a part per `part_rows` files into a folder (or, for a file
/// output, everything at the end), and calls `done` as each file finishes.
pub fn run_batch(
    model: &Model,
    schema: &BatchSchema,
    plan: &BatchPlan,
    output: &BatchOutput,
    options: &BatchOptions,
    done: &(dyn Fn(&BatchRow) + Sync),
) -> Result<BatchSummary> {
    let started = Instant::now();
    let mut summary = BatchSummary {
        inputs: plan.inputs,
        in_shard: plan.in_shard,
        skipped: plan.skipped,
        ..Default::default()
    };
    // Resuming a file rewrites it whole: its earlier rows (less those redone
    // now) and the new ones. Read first, so rows of another model or other
    // options are refused before any work is done.
    let mut batches = Vec::new();
    if let BatchOutput::File(path) = output
        && options.resume
        && path.is_file()
    {
        let redone: HashSet<String> = plan.todo.iter().map(|f| f.path.display().to_string()).collect();
        batches = kept_rows(path, &schema.arrow_schema(), &schema.model_version, &redone)?;
    }
    let mut all_rows = Vec::new();
    let mut parts = match output {
        BatchOutput::Folder(dir) => Some(PartWriter::new(dir, options.shard)),
        BatchOutput::File(_) => None,
    };
    for chunk in plan.todo.chunks(options.part_rows.max(1)) {
        let rows: Vec<BatchRow> = chunk
            .par_iter()
            .map(|file| {
                let row = batch_row(model, file, options);
                done(&row);
                row
            })
            .collect();
        summary.failed += rows.iter().filter(|r| r.error.is_some()).count();
        summary.classified += rows.iter().filter(|r| r.error.is_none()).count();
        match &mut parts {
            Some(writer) => summary.written.push(writer.write(&arrow_batch(schema, &rows)?)?),
            None => all_rows.extend(rows),
        }
    }
    if let BatchOutput::File(path) = output {
        if !all_rows.is_empty() || batches.is_empty() {
            batches.push(arrow_batch(schema, &all_rows)?);
        }
        if !all_rows.is_empty() || !path.is_file() || !options.resume {
            write_parquet_batches(path, &batches)?;
            summary.written.push(path.clone());
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
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
    parquet_bytes(&arrow_batch(schema, &rows)?)
}

fn arrow_batch(schema: &BatchSchema, rows: &[BatchRow]) -> Result<arrow_array::RecordBatch> {
    schema.record_batch(rows).map_err(|e| PipelineError::Output(format!("cannot lay out rows: {e}")))
}
