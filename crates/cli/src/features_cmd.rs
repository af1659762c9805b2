//! `genreid features`: a feature table for many files, in parallel: one
//! CSV or Parquet table (`--out table.csv`), or a batch run into a folder
//! of Parquet parts (`--out DIR/`, schema `genreid.features/1`), sharded
//! over workers (`--shard K/N`) and resumable (`--resume`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::ValueEnum;
use genreid_data::{FoundFile, RowOptions, RowSet, TableRow};
use genreid_pipeline::batch::{BatchOutput, FeatureRows, RunOptions, Shard};
use genreid_pipeline::table_files;

use crate::batch_cmd::{Verb, features_progress, run_rows};
use crate::classify_cmd::inputs;
use crate::progress::Progress;
use crate::table::{Table, TableFormat, output_folder, write_table};

/// Feature sets a table can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeatureSet {
    /// The 57 features of the Kaggle GTZAN `features_30_sec.csv`.
    Gtzan57,
    /// FMA's 518 features (`features.csv`: 11 groups x 7 statistics), at the
    /// file's own sample rate unless `--sr` is given, as FMA computed them.
    Fma518,
}

impl FeatureSet {
    /// The name recorded in model files (`gtzan57`, `fma518`).
    pub fn name(self) -> &'static str {
        self.row_set().name()
    }

    /// The data crate's name for the set.
    pub fn row_set(self) -> RowSet {
        match self {
            FeatureSet::Gtzan57 => RowSet::Gtzan57,
            FeatureSet::Fma518 => RowSet::Fma518,
        }
    }
}

/// Arguments of `genreid features`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files or folders (walked recursively).
    #[arg(required_unless_present = "files_from")]
    paths: Vec<PathBuf>,
    /// Also take the files a list names: one path a line, or the `path`
    /// column of a .csv or .parquet file.
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// Output: one table (`table.csv`, `table.parquet`), or a folder
    /// (`rows/`) that a batch run adds Parquet parts to.
    #[arg(long, value_name = "FILE.csv|FILE.parquet|DIR/")]
    out: PathBuf,
    #[command(flatten)]
    options: TableOptions,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Take only share K of N (0-based) of the inputs, by a stable hash of
    /// each path relative to the folder it was found in (a folder --out).
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Skip inputs already in the --out folder (same path, size and
    /// modification time): a killed run continues where it stopped.
    #[arg(long)]
    resume: bool,
    /// Files per part written into the --out folder.
    #[arg(long, default_value_t = 256)]
    part_rows: usize,
}

impl Args {
    /// Whether `--out` names a folder of parts rather than one table: it
    /// ends in `/`, is a folder, or has no extension (a name such as
    /// `table.txt` stays an error, not a new folder).
    fn out_is_folder(&self) -> bool {
        let text = self.out.to_string_lossy();
        text.ends_with('/') || self.out.is_dir() || self.out.extension().is_none()
    }
}

/// What a feature table holds and how it is computed from audio.
#[derive(Debug, Clone, clap::Args)]
pub struct TableOptions {
    /// Which features to compute.
    #[arg(long, value_enum, default_value = "gtzan57")]
    pub set: FeatureSet,
    /// Sample rate to analyse at (Hz) [default: 22050 for gtzan57, the file's own for fma518].
    #[arg(long)]
    pub sr: Option<u32>,
    /// Use only the first SECONDS of each file.
    #[arg(long)]
    pub duration: Option<f64>,
    /// One row per segment of SECONDS (GTZAN's 3-second table uses 3).
    #[arg(long)]
    pub segment: Option<f64>,
    /// Hop between segments in seconds (default: the segment length, no overlap).
    #[arg(long, requires = "segment")]
    pub segment_hop: Option<f64>,
}

impl TableOptions {
    /// The sample rate the features are computed at (`None`: each file's own).
    pub fn sample_rate(&self) -> Option<u32> {
        self.sr.or(self.set.row_set().default_sample_rate())
    }
}

impl TableOptions {
    /// How the data crate computes these rows.
    pub fn row_options(&self) -> RowOptions {
        RowOptions {
            set: self.set.row_set(),
            sample_rate: self.sample_rate(),
            duration: self.duration,
            segment: self.segment.map(|s| (s, self.segment_hop.unwrap_or(s))),
            ..RowOptions::default()
        }
    }
}

/// Computes the table of `files` in parallel with a progress bar; a file
/// that fails is reported and skipped. Returns the table and the failures.
pub fn compute_table(
    files: &[PathBuf],
    options: &TableOptions,
    jobs: Option<usize>,
) -> Result<(Table, usize)> {
    let rows = options.row_options();
    rows.validate()?;
    let pool = genreid_pipeline::jobs::thread_pool(jobs).map_err(anyhow::Error::msg)?;
    let progress = Progress::new(files.len(), "features");
    let outcomes = pool.install(|| {
        table_files(files, &rows, &|_, outcome| match outcome {
            Ok(rows) => {
                for note in &rows.notes {
                    progress.note(&format!("warning: {note}"));
                }
                progress.ok();
            }
            Err(message) => progress.failed(message),
        })
    });
    progress.finish();
    let rows: Vec<TableRow> = outcomes.into_iter().filter_map(|(_, o)| o.ok()).flat_map(|r| r.rows).collect();
    let table = Table {
        columns: options.set.row_set().columns(),
        filenames: rows.iter().map(|r| r.filename.clone()).collect(),
        lengths: rows.iter().map(|r| r.length as u64).collect(),
        labels: rows.iter().map(|r| r.label.clone()).collect(),
        values: rows.into_iter().map(|r| r.values).collect(),
    };
    Ok((table, progress.failures()))
}

/// Runs the command; exit status 1 when any file failed.
pub fn run(args: Args) -> Result<ExitCode> {
    args.options.row_options().validate()?;
    let found = inputs(&args.paths, args.files_from.as_deref())?;
    if args.out_is_folder() {
        return write_parts(&args, found);
    }
    if args.shard.is_some() || args.resume {
        anyhow::bail!(
            "{}: --shard and --resume write a folder of parts; name one with --out DIR/",
            args.out.display()
        );
    }
    let format = TableFormat::of(&args.out)?;
    output_folder(&args.out)?;
    let files: Vec<PathBuf> = found.into_iter().map(|f| f.path).collect();
    let started = Instant::now();
    let (table, failed) = compute_table(&files, &args.options, args.jobs)?;
    write_table(&args.out, format, &table)?;
    eprintln!(
        "wrote {} rows from {} of {} files to {} in {:.1} s{}",
        table.filenames.len(),
        files.len() - failed,
        files.len(),
        args.out.display(),
        started.elapsed().as_secs_f64(),
        if failed > 0 { format!(" ({failed} failed)") } else { String::new() }
    );
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `--out DIR/`: the batch run of feature rows into Parquet parts.
fn write_parts(args: &Args, inputs: Vec<FoundFile>) -> Result<ExitCode> {
    let output = BatchOutput::parse(&args.out)?;
    let kind = FeatureRows::new(args.options.row_options());
    let run = RunOptions {
        shard: args.shard.unwrap_or(Shard::ALL),
        resume: args.resume,
        part_rows: args.part_rows,
    };
    let pool = genreid_pipeline::jobs::thread_pool(args.jobs).map_err(anyhow::Error::msg)?;
    let verb = Verb { doing: "features", done: "analysed" };
    let out: &Path = &args.out;
    pool.install(|| run_rows(&kind, inputs, &output, &run, out, verb, &features_progress))
}
