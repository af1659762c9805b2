//! The batch run into Parquet that `classify --out`, `embed` and
//! `features --out DIR/` share: the plan, a progress bar, and the summary
//! on stderr.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use genreid_data::FoundFile;
use genreid_pipeline::batch::{BatchOutput, BatchRow, FeatureFileRows, RowKind, RunOptions, plan_batch};

use crate::progress::Progress;

/// What a batch run is called in its progress bar and summary.
#[derive(Debug, Clone, Copy)]
pub struct Verb {
    /// The progress bar's label (`classify`).
    pub doing: &'static str,
    /// What happened to a file, in the summary (`classified`).
    pub done: &'static str,
}

/// Reports a verdict row on the progress bar: its failure or warnings.
pub fn verdict_progress(progress: &Progress, row: &BatchRow) {
    match (&row.verdict, &row.error) {
        (_, Some(message)) => progress.failed(message),
        (Some(v), None) => {
            for w in &v.warnings {
                progress.note(&format!("warning: {}: {}", v.path, w.message));
            }
            progress.ok();
        }
        (None, None) => progress.ok(),
    }
}

/// Reports a file's feature rows on the progress bar: its failure or notes.
pub fn features_progress(progress: &Progress, row: &FeatureFileRows) {
    match &row.outcome {
        Ok(table) => {
            for note in &table.notes {
                progress.note(&format!("warning: {note}"));
            }
            progress.ok();
        }
        Err(message) => progress.failed(message),
    }
}

/// Runs the batch of `inputs` with `kind` into `output` (named `out` by
/// the user), reporting each file with `report`. Exit status 1 when any
/// file failed.
pub fn run_rows<K: RowKind>(
    kind: &K,
    inputs: Vec<FoundFile>,
    output: &BatchOutput,
    run: &RunOptions,
    out: &Path,
    verb: Verb,
    report: &(dyn Fn(&Progress, &K::Row) + Sync),
) -> Result<ExitCode> {
    let done = verb.done;
    if !run.resume && matches!(output, BatchOutput::Folder(_)) {
        let earlier = output.existing_parts()?.len();
        if earlier > 0 {
            eprintln!(
                "note: {} already holds {earlier} part(s); without --resume, files in them get new rows beside the old",
                out.display()
            );
        }
    }
    let plan = plan_batch(inputs, output, run)?;
    let progress = Progress::new(plan.todo.len(), verb.doing);
    let summary = genreid_pipeline::batch::run_rows(kind, &plan, output, run, &|row| report(&progress, row));
    progress.finish();
    let summary = summary?;
    eprintln!(
        "shard {}: {done} {}, failed {}, skipped {} already in {} ({} of {} inputs in the shard) \
         in {:.1} s, {:.2} tracks/s; wrote {} file(s)",
        run.shard,
        summary.classified,
        summary.failed,
        summary.skipped,
        out.display(),
        summary.in_shard,
        summary.inputs,
        summary.seconds,
        summary.tracks_per_second(),
        summary.written.len(),
    );
    Ok(if summary.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
