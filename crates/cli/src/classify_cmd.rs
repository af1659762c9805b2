//! `genreid classify`: the genre (and tags) of each audio file, from the
//! built-in model or a model file, as a table, JSON or CSV.
//!
//! JSON schema: a list with one record per file:
//! `{path, genre, vote?, probabilities: {label: p}, tags: {tag: p},
//! segments?: [{start, end, genre, probabilities}]}`. `genre` is the track
//! verdict by mean probability over segments, `vote` the verdict by majority
//! of segment verdicts; `tags` is empty for models without tags.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use genreid_models::pretrained::patch_hop_frames;
use genreid_models::verdict::ranked;
use genreid_models::{Verdict, classify_path, load_model};
use rayon::prelude::*;

use crate::progress::Progress;
use crate::walk::audio_files;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable table with a bar per genre and the top tags.
    Table,
    /// One JSON document: a list of records (schema in the module docs).
    Json,
    /// CSV: path, genre, vote, then one probability column per genre.
    Csv,
}

/// Arguments of `genreid classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Built-in model name (musicnn-gtzan, msd-musicnn, mtt-musicnn, msd-vgg,
    /// mtt-vgg, gtzan57-logreg) or a model file. Default: musicnn-gtzan.
    #[arg(long)]
    model: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Genres listed per file in the table.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Tags listed per file in the table.
    #[arg(long, default_value_t = 5)]
    tags: usize,
    /// Also report each segment's verdict (a timeline).
    #[arg(long)]
    segments: bool,
    /// Overlap of the 3-s patches of tagger models, in seconds (0: none).
    #[arg(long, default_value_t = 0.0)]
    overlap: f64,
    /// Files classified at once (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

/// Runs the command; exit status 1 when any file failed.
pub fn run(args: Args) -> Result<ExitCode> {
    let model = load_model(args.model.as_deref())?;
    let hop = patch_hop_frames(args.overlap)?;
    let files = audio_files(&args.paths)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build()?;
    let progress = Progress::new(files.len(), "classify");
    let verdicts: Vec<Option<Verdict>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| match classify_path(&model, f, hop, args.segments) {
                Ok(v) => {
                    progress.ok();
                    Some(v)
                }
                Err(e) => {
                    progress.failed(&format!("{e:#}"));
                    None
                }
            })
            .collect()
    });
    progress.finish();
    let verdicts: Vec<Verdict> = verdicts.into_iter().flatten().collect();
    let labels = model.labels();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &verdicts)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let mut header = vec!["path".to_string(), "genre".to_string(), "vote".to_string()];
            header.extend(labels.iter().cloned());
            w.write_record(&header)?;
            for v in &verdicts {
                let mut rec = vec![v.path.clone(), v.genre.clone(), v.vote.clone()];
                rec.extend(
                    labels.iter().map(|l| format!("{:.6}", v.probabilities[l].as_f64().unwrap_or(0.0))),
                );
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            for v in &verdicts {
                writeln!(out, "{}\n  genre: {} (majority vote: {})", v.path, v.genre, v.vote)?;
                for (label, p) in ranked(&v.probabilities).iter().take(args.top.max(1)) {
                    let bar = "#".repeat((p * 30.0).round() as usize);
                    writeln!(out, "  {label:<16} {:>5.1}%  {bar}", p * 100.0)?;
                }
                if !v.tags.is_empty() && args.tags > 0 {
                    let top: Vec<String> = ranked(&v.tags)
                        .iter()
                        .take(args.tags)
                        .map(|(t, p)| format!("{t} {:.0}%", p * 100.0))
                        .collect();
                    writeln!(out, "  tags: {}", top.join(", "))?;
                }
                if let Some(segs) = &v.segments {
                    for s in segs {
                        writeln!(out, "    {:>7.1}-{:<7.1}s  {}", s.start, s.end, s.genre)?;
                    }
                }
            }
        }
    }
    Ok(if progress.failures() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
