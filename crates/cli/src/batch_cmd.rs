//! The batch run into Parquet that `classify --out` and `embed` share:
//! the plan, a progress bar, and the summary on stderr.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use genreid_data::FoundFile;
use genreid_pipeline::Model;
use genreid_pipeline::batch::{BatchOptions, BatchOutput, BatchSchema, plan_batch, run_batch};

use crate::progress::Progress;

/// What a batch run is called in its progress bar and summary.
#[derive(Debug, Clone, Copy)]
pub struct Verb {
    /// The progress bar's label (`classify`).
    pub doing: &'static str,
    /// What happened to a file, in the summary (`classified`).
    pub done: &'static str,
}

/// Runs the batch of `inputs` into `output` (named `out` by the user).
/// Exit status 1 when any file failed.
pub fn run_rows(
    model: &Model,
    schema: &BatchSchema,
    inputs: Vec<FoundFile>,
    output: &BatchOutput,
    options: &BatchOptions,
    out: &Path,
    verb: Verb,
) -> Result<ExitCode> {
    let done = verb.done;
    if !options.resume && matches!(output, BatchOutput::Folder(_)) {
        let earlier = output.existing_parts()?.len();
        if earlier > 0 {
            eprintln!(
                "note: {} already holds {earlier} part(s); without --resume, files in them get new rows beside the old",
                out.display()
            );
        }
    }
    let plan = plan_batch(inputs, output, options)?;
    let progress = Progress::new(plan.todo.len(), verb.doing);
    let summary = run_batch(model, schema, &plan, output, options, &|row| match (&row.verdict, &row.error) {
        (_, Some(message)) => progress.failed(message),
        (Some(v), None) => {
            for w in &v.warnings {
                progress.note(&format!("warning: {}: {}", v.path, w.message));
            }
            progress.ok();
        }
        (None, None) => progress.ok(),
    });
    progress.finish();
    let summary = summary?;
    eprintln!(
        "shard {}: {done} {}, failed {}, skipped {} already in {} ({} of {} inputs in the shard) \
         in {:.1} s, {:.2} tracks/s; wrote {} file(s)",
        options.shard,
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
