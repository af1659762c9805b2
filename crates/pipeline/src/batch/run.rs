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

use super::parts::{BatchOutput, DoneKey, PartWriter, done_keys, parquet_bytes, write_parquet};
use super::schema::{BatchRow, BatchSchema};
use super::shard::Shard;
use crate::embed::classify_and_embed_path;
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
    /// The embedding layer to add to each row (taggers only).
    pub embedding: Option<String>,
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
    let done: HashSet<DoneKey> = if options.resume {
        if let BatchOutput::File(path) = output {
            return Err(PipelineError::Invalid(format!(
                "{}: --resume adds parts to a folder; name a folder (for example out/) instead of a .parquet file",
                path.display()
            )));
        }
        done_keys(output)?
    } else {
        HashSet::new()
    };
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
        Some(layer) => classify_and_embed_path(model, &file.path, layer, &options.classify)
            .map(|(verdict, embedding)| (verdict, Some(embedding))),
        None => classify_path(model, &file.path, &options.classify).map(|verdict| (verdict, None)),
    };
    match outcome {
        Ok((verdict, embedding)) => {
            row.verdict = Some(verdict);
            row.embedding = embedding;
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
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
        write_parquet(path, &arrow_batch(schema, &all_rows)?)?;
        summary.written.push(path.clone());
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
