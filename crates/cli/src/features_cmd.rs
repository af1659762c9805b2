//! `genreid features`: a feature table for many files, in parallel.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::ValueEnum;
use genreid_data::{RowOptions, RowSet, file_rows};
use genreid_features::{GTZAN57_COLUMNS, fma518_columns};
use rayon::prelude::*;

use crate::progress::Progress;
use crate::table::{Table, TableFormat, output_folder, write_table};
use crate::walk::{audio_files, parent_name};

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
        match self {
            FeatureSet::Gtzan57 => "gtzan57",
            FeatureSet::Fma518 => "fma518",
        }
    }

    fn columns(self) -> Vec<String> {
        match self {
            FeatureSet::Gtzan57 => GTZAN57_COLUMNS.iter().map(|c| c.to_string()).collect(),
            FeatureSet::Fma518 => fma518_columns(),
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
    fn check(&self) -> Result<()> {
        for (what, v) in
            [("--segment", self.segment), ("--segment-hop", self.segment_hop), ("--duration", self.duration)]
        {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                bail!("{what} must be a positive number of seconds, got {v}");
            }
        }
        Ok(())
    }

    /// The sample rate the features are computed at (`None`: each file's own).
    pub fn sample_rate(&self) -> Option<u32> {
        match (self.sr, self.set) {
            (Some(sr), _) => Some(sr),
            (None, FeatureSet::Gtzan57) => Some(genreid_audio::DEFAULT_SAMPLE_RATE),
            (None, FeatureSet::Fma518) => None,
        }
    }
}

/// One output row: file name, length in samples, features, label.
struct Row {
    filename: String,
    length: usize,
    values: Vec<f64>,
    label: String,
}

/// A file's rows and what to say about them (decoder warnings, rows with
/// values that are not finite).
fn rows_for(path: &Path, args: &TableOptions) -> Result<(Vec<Row>, Vec<String>)> {
    let options = RowOptions {
        set: match args.set {
            FeatureSet::Gtzan57 => RowSet::Gtzan57,
            FeatureSet::Fma518 => RowSet::Fma518,
        },
        sample_rate: args.sample_rate(),
        duration: args.duration,
        segment: args.segment.map(|s| (s, args.segment_hop.unwrap_or(s))),
        ..RowOptions::default()
    };
    let file = file_rows(path, &options)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let label = parent_name(path);
    let mut notes: Vec<String> = file.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    let columns = args.set.columns();
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let rows = file
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, (length, values))| {
            let filename = if args.segment.is_some() { format!("{stem}.{i}{ext}") } else { name.clone() };
            let bad: Vec<&str> =
                values.iter().zip(&columns).filter(|(v, _)| !v.is_finite()).map(|(_, c)| c.as_str()).collect();
            if !bad.is_empty() {
                let shown = bad.iter().take(4).copied().collect::<Vec<_>>().join(", ");
                let more = if bad.len() > 4 { format!(" and {} more", bad.len() - 4) } else { String::new() };
                notes.push(format!(
                    "{}: row {filename} has {} values that are not numbers ({shown}{more}): silent or constant audio",
                    path.display(),
                    bad.len()
                ));
            }
            Row { filename, length, values, label: label.clone() }
        })
        .collect();
    Ok((rows, notes))
}

/// Computes the table of `files` in parallel with a progress bar; a file
/// that fails is reported and skipped. Returns the table and the failures.
pub fn compute_table(
    files: &[PathBuf],
    options: &TableOptions,
    jobs: Option<usize>,
) -> Result<(Table, usize)> {
    options.check()?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.unwrap_or(0)).build()?;
    let progress = Progress::new(files.len(), "features");
    let results: Vec<Option<Vec<Row>>> = pool.install(|| {
        files
            .par_iter()
            .map(|path| match rows_for(path, options) {
                Ok((rows, notes)) => {
                    for note in notes {
                        progress.note(&format!("warning: {note}"));
                    }
                    progress.ok();
                    Some(rows)
                }
                Err(err) => {
                    progress.failed(&format!("{err:#}"));
                    None
                }
            })
            .collect()
    });
    progress.finish();
    let rows: Vec<Row> = results.into_iter().flatten().flatten().collect();
    let table = Table {
        columns: options.set.columns(),
        filenames: rows.iter().map(|r| r.filename.clone()).collect(),
        lengths: rows.iter().map(|r| r.length as u64).collect(),
        values: rows.iter().map(|r| r.values.clone()).collect(),
        labels: rows.iter().map(|r| r.label.clone()).collect(),
    };
    Ok((table, progress.failures()))
}

/// Runs the command; exit status 1 when any file failed.
pub fn run(args: Args) -> Result<ExitCode> {
    args.options.check()?;
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
