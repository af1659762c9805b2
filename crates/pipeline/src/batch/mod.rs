//! Many files at once, in parallel on rayon's pool (the caller's, so a
//! thread count is the caller's choice): a failed file is reported, never
//! fatal, and results come back in input order. Batch runs into Parquet
//! ([`run`]) add sharding over workers, resuming and versioned schemas:
//! verdicts ([`classify_rows`], [`schema`]) or feature rows ([`features`]).

pub mod classify_rows;
pub mod features;
pub mod inputs;
pub mod parts;
pub mod run;
pub mod schema;
pub mod shard;
pub mod stamp;

pub use classify_rows::{BatchOptions, ClassifyRows, batch_row, read_file_tags, rows_parquet, run_batch};
pub use features::{FEATURES_SCHEMA_VERSION, FeatureFileRows, FeatureRows};
pub use inputs::manifest_files;
pub use parts::{BatchOutput, parquet_bytes};
pub use run::{BatchPlan, BatchSummary, RowKind, RunOptions, plan_batch, run_rows};
pub use schema::{BatchRow, BatchSchema, SCHEMA_VERSION};
pub use shard::{Shard, shard_key};
pub use stamp::{FileStamp, file_stamp};

use std::path::{Path, PathBuf};

use genreid_data::{RowOptions, TableRows, table_rows};
use rayon::prelude::*;
use serde_json::{Value, json};

use crate::registry::Model;
use crate::verdict::{ClassifyOptions, Verdict, classify_path};

/// One file's outcome: its result, or the error message (naming the file).
pub type FileOutcome<T> = (PathBuf, Result<T, String>);

/// Runs `work` on every file in parallel, calling `done` as each finishes
/// (for progress), and returns the outcomes in input order.
fn each_file<T: Send>(
    files: &[PathBuf],
    work: impl Fn(&Path) -> Result<T, String> + Sync,
    done: &(dyn Fn(&Path, Result<&T, &str>) + Sync),
) -> Vec<FileOutcome<T>> {
    files
        .par_iter()
        .map(|path| {
            let outcome = work(path);
            done(path, outcome.as_ref().map_err(String::as_str));
            (path.clone(), outcome)
        })
        .collect()
}

/// The verdict of each file (`genreid classify`, Python `classify`).
pub fn classify_files(
    model: &Model,
    files: &[PathBuf],
    options: &ClassifyOptions,
    done: &(dyn Fn(&Path, Result<&Verdict, &str>) + Sync),
) -> Vec<FileOutcome<Verdict>> {
    each_file(files, |path| classify_path(model, path, options).map_err(|e| e.to_string()), done)
}

/// The feature-table rows of each file (`genreid features`, Python
/// `features_table`).
pub fn table_files(
    files: &[PathBuf],
    options: &RowOptions,
    done: &(dyn Fn(&Path, Result<&TableRows, &str>) + Sync),
) -> Vec<FileOutcome<TableRows>> {
    each_file(files, |path| table_rows(path, options).map_err(|e| e.to_string()), done)
}

/// The JSON record of one file's outcome: the verdict's documented record,
/// or `{path, error}` for a file that could not be classified.
pub fn record(path: &Path, outcome: &Result<Verdict, String>) -> Value {
    match outcome {
        Ok(v) => {
            serde_json::to_value(v).unwrap_or_else(|e| json!({ "path": v.path, "error": e.to_string() }))
        }
        Err(e) => json!({ "path": genreid_data::path_text(path), "error": e }),
    }
}
