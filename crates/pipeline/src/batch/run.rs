//! A batch run into Parquet: a shard of the inputs, minus what a previous
//! run already wrote (`resume`), computed in parallel and written part by
//! part, so a killed worker loses at most the part it was working on.
//!
//! What each file's rows hold is a [`RowKind`]: a verdict
//! ([`super::ClassifyRows`], `genreid classify --out`, `embed`) or feature
//! rows ([`super::FeatureRows`], `genreid features --out DIR/`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use genreid_data::FoundFile;
use rayon::prelude::*;

use super::parts::{BatchOutput, DoneKey, PartWriter, done_keys, kept_rows, write_parquet_batches};
use super::shard::Shard;
use super::stamp::file_stamp;
use crate::error::{PipelineError, Result};

/// How a batch run shares out and writes its work, whatever its rows hold.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// The share of the inputs this worker takes.
    pub shard: Shard,
    /// Skip inputs already in the output (same path, size and
    /// modification time).
    pub resume: bool,
    /// Files per part written to a folder: what a killed run can lose.
    pub part_rows: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { shard: Shard::ALL, resume: false, part_rows: 256 }
    }
}

/// What a batch run computes for each file, and how its rows are laid out.
pub trait RowKind: Sync {
    /// One file's outcome (one or more rows of the output).
    type Row: Send;
    /// The rows' Arrow schema (with `genreid.schema` in its metadata).
    fn arrow_schema(&self) -> SchemaRef;
    /// The column every row of one output shares, and this run's value of
    /// it (the model's version, the feature settings): resuming into a
    /// file refuses rows with another.
    fn identity(&self) -> (&str, &str);
    /// `file`'s outcome; a failure is an error row, never an `Err`.
    fn row(&self, file: &FoundFile) -> Self::Row;
    /// Whether `row` records a failure.
    fn failed(&self, row: &Self::Row) -> bool;
    /// `rows` as one record batch of [`RowKind::arrow_schema`].
    fn record_batch(&self, rows: &[Self::Row]) -> std::result::Result<RecordBatch, ArrowError>;
}

/// What a run will do, worked out before it starts (for a progress bar).
#[derive(Debug, Clone)]
pub struct BatchPlan {
    /// The files to do, in input order.
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
    /// Done now.
    pub classified: usize,
    /// Failed now (each has an error row).
    pub failed: usize,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl BatchSummary {
    /// Files done or failed per second.
    pub fn tracks_per_second(&self) -> f64 {
        (self.classified + self.failed) as f64 / self.seconds.max(1e-9)
    }
}

/// The shard's inputs, less those already in `output` when resuming.
pub fn plan_batch(inputs: Vec<FoundFile>, output: &BatchOutput, run: &RunOptions) -> Result<BatchPlan> {
    let count = inputs.len();
    let mut seen = HashSet::new();
    let mine: Vec<FoundFile> =
        inputs.into_iter().filter(|f| run.shard.holds(&f.relative) && seen.insert(f.path.clone())).collect();
    let in_shard = mine.len();
    let done: HashSet<DoneKey> = if run.resume { done_keys(output)? } else { HashSet::new() };
    let todo: Vec<FoundFile> = mine
        .into_iter()
        .filter(|f| match file_stamp(&f.path) {
            Ok((size, ns)) => !done.contains(&(genreid_data::path_text(&f.path), size, ns)),
            Err(_) => true,
        })
        .collect();
    Ok(BatchPlan { skipped: in_shard - todo.len(), todo, inputs: count, in_shard })
}

/// Runs `plan` with `kind`: its files in parallel on rayon's current pool,
/// a part per `part_rows` files into a folder (or, for a file output,
/// everything at the end, merged with the rows already there when
/// resuming), calling `done` as each file finishes.
pub fn run_rows<K: RowKind>(
    kind: &K,
    plan: &BatchPlan,
    output: &BatchOutput,
    run: &RunOptions,
    done: &(dyn Fn(&K::Row) + Sync),
) -> Result<BatchSummary> {
    let started = Instant::now();
    let mut summary = BatchSummary {
        inputs: plan.inputs,
        in_shard: plan.in_shard,
        skipped: plan.skipped,
        ..Default::default()
    };
    let schema = kind.arrow_schema();
    // Resuming a file rewrites it whole: its earlier rows (less those redone
    // now) and the new ones. Read first, so rows of another model or other
    // options are refused before any work is done.
    let mut batches = Vec::new();
    if let BatchOutput::File(path) = output
        && run.resume
        && path.is_file()
    {
        let redone: HashSet<String> = plan.todo.iter().map(|f| genreid_data::path_text(&f.path)).collect();
        batches = kept_rows(path, &schema, kind.identity(), &redone)?;
    }
    let mut all_rows = Vec::new();
    let mut parts = match output {
        BatchOutput::Folder(dir) => Some(PartWriter::new(dir, run.shard)),
        BatchOutput::File(_) => None,
    };
    let laid_out = |rows: &[K::Row]| {
        kind.record_batch(rows).map_err(|e| PipelineError::Output(format!("cannot lay out rows: {e}")))
    };
    for chunk in plan.todo.chunks(run.part_rows.max(1)) {
        let rows: Vec<K::Row> = chunk
            .par_iter()
            .map(|file| {
                let row = kind.row(file);
                done(&row);
                row
            })
            .collect();
        let failed = rows.iter().filter(|r| kind.failed(r)).count();
        summary.failed += failed;
        summary.classified += rows.len() - failed;
        match &mut parts {
            Some(writer) => summary.written.push(writer.write(&laid_out(&rows)?)?),
            None => all_rows.extend(rows),
        }
    }
    if let BatchOutput::File(path) = output {
        if !all_rows.is_empty() || batches.is_empty() {
            batches.push(laid_out(&all_rows)?);
        }
        if !all_rows.is_empty() || !path.is_file() || !run.resume {
            write_parquet_batches(path, &batches)?;
            summary.written.push(path.clone());
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
