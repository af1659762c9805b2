//! `genreid classify`: the genre of each audio file, from a model file
//! (or the built-in model), as a table, JSON or CSV.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use genreid_audio::{LoadOptions, load, segments};
use genreid_features::{fma518, gtzan57};
use genreid_models::ModelFile;
use rayon::prelude::*;
use serde::Serialize;

use crate::progress::Progress;
use crate::walk::audio_files;

/// The built-in model: multinomial logistic regression on the GTZAN-57
/// features, trained by `models/train-builtin.sh` (see models/README.md).
const BUILTIN_MODEL: &str = include_str!("../../../models/gtzan57-logreg.genreid");

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable table with a bar per genre.
    Table,
    /// One JSON document: a list of records.
    Json,
    /// CSV: path, genre, then one probability column per genre.
    Csv,
}

/// Arguments of `genreid classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Model file (default: the built-in GTZAN-57 logistic regression).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Genres listed per file in the table.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Also report each segment's verdict (a timeline).
    #[arg(long)]
    segments: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

/// One segment's verdict.
#[derive(Debug, Serialize)]
struct SegmentVerdict {
    start: f64,
    end: f64,
    genre: String,
    probabilities: serde_json::Map<String, serde_json::Value>,
}

/// One file's verdict (the documented JSON record).
#[derive(Debug, Serialize)]
struct Verdict {
    path: String,
    genre: String,
    probabilities: serde_json::Map<String, serde_json::Value>,
    tags: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<Vec<SegmentVerdict>>,
}

fn argmax(p: &[f64]) -> usize {
    p.iter().enumerate().fold(0, |b, (i, &v)| if v > p[b] { i } else { b })
}

fn prob_map(labels: &[String], p: &[f64]) -> serde_json::Map<String, serde_json::Value> {
    labels.iter().zip(p).map(|(l, v)| (l.clone(), serde_json::json!(v))).collect()
}

/// Classifies one file: features of each whole segment of the model's
/// length (or of the whole file when shorter), probabilities averaged.
fn classify_file(path: &Path, model: &ModelFile, with_segments: bool) -> Result<Verdict> {
    let pre = &model.preprocessing;
    let options = LoadOptions { sample_rate: Some(pre.sample_rate), ..Default::default() };
    let signal = load(path, &options)?;
    let sr = f64::from(signal.sample_rate);
    let seg_len = (pre.segment_seconds * sr).round() as usize;
    let spans: Vec<(usize, usize)> = if seg_len == 0 || signal.len() < seg_len {
        vec![(0, signal.len())]
    } else {
        segments(signal.len(), seg_len, seg_len)?.into_iter().map(|s| (s.start, s.end)).collect()
    };
    let mut per_segment = Vec::with_capacity(spans.len());
    for &(start, end) in &spans {
        let y = &signal.samples[start..end];
        let row = match pre.feature_set.as_str() {
            "gtzan57" => gtzan57(y, sr),
            "fma518" => fma518(y, sr),
            other => bail!("model needs feature set {other:?}, which this genreid cannot compute"),
        }
        .with_context(|| path.display().to_string())?;
        if row.len() != pre.columns.len() {
            bail!("model expects {} features, {} computes {}", pre.columns.len(), pre.feature_set, row.len());
        }
        per_segment.push(model.predict_proba(&row));
    }
    let k = model.labels.len();
    let mean: Vec<f64> =
        (0..k).map(|c| per_segment.iter().map(|p| p[c]).sum::<f64>() / per_segment.len() as f64).collect();
    let segments = with_segments.then(|| {
        spans
            .iter()
            .zip(&per_segment)
            .map(|(&(s, e), p)| SegmentVerdict {
                start: s as f64 / sr,
                end: e as f64 / sr,
                genre: model.labels[argmax(p)].clone(),
                probabilities: prob_map(&model.labels, p),
            })
            .collect()
    });
    Ok(Verdict {
        path: path.display().to_string(),
        genre: model.labels[argmax(&mean)].clone(),
        probabilities: prob_map(&model.labels, &mean),
        tags: serde_json::Map::new(),
        segments,
    })
}

fn load_model(path: Option<&Path>) -> Result<ModelFile> {
    match path {
        Some(p) => Ok(ModelFile::load(p)?),
        None => ModelFile::from_json(BUILTIN_MODEL.as_bytes()).context("the built-in model is damaged"),
    }
}

/// Runs the command; exit status 1 when any file failed.
pub fn run(args: Args) -> Result<ExitCode> {
    let model = load_model(args.model.as_deref())?;
    let files = audio_files(&args.paths)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build()?;
    let progress = Progress::new(files.len(), "classify");
    let verdicts: Vec<Option<Verdict>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| match classify_file(f, &model, args.segments) {
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
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &verdicts)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let mut header = vec!["path".to_string(), "genre".to_string()];
            header.extend(model.labels.iter().cloned());
            w.write_record(&header)?;
            for v in &verdicts {
                let mut rec = vec![v.path.clone(), v.genre.clone()];
                rec.extend(
                    model.labels.iter().map(|l| format!("{:.6}", v.probabilities[l].as_f64().unwrap_or(0.0))),
                );
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            for v in &verdicts {
                writeln!(out, "{}\n  genre: {}", v.path, v.genre)?;
                let mut ranked: Vec<(&String, f64)> =
                    v.probabilities.iter().map(|(l, p)| (l, p.as_f64().unwrap_or(0.0))).collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                for (label, p) in ranked.iter().take(args.top.max(1)) {
                    let bar = "#".repeat((p * 30.0).round() as usize);
                    writeln!(out, "  {label:<12} {:>5.1}%  {bar}", p * 100.0)?;
                }
                if let Some(segs) = &v.segments {
                    for s in segs {
                        writeln!(out, "    {:>6.1}-{:<6.1}s  {}", s.start, s.end, s.genre)?;
                    }
                }
            }
        }
    }
    Ok(if progress.failures() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
