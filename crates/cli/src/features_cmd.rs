//! `genreid features`: a feature table for many files, in parallel.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::ValueEnum;
use genreid_data::{RowOptions, RowSet, TableRow, audio_files};
use genreid_pipeline::table_files;

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
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output table (.csv or .parquet).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    options: TableOptions,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
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
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build()?;
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
    let format = TableFormat::of(&args.out)?;
    output_folder(&args.out)?;
    let files = audio_files(&args.paths)?;
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
