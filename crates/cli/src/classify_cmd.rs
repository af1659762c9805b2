//! `genreid classify`: the genre (and tags) of each audio file, from the
//! built-in model or a model file, as a table, JSON or CSV.
//!
//! JSON schema: a list with one record per file:
//! `{path, genre, vote?, probabilities: {label: p}, tags: {tag: p},
//! segments?: [{start, end, genre, probabilities}]}`. `genre` is the track
//! verdict by mean probability over segments, `vote` the verdict by majority
//! of segment verdicts; `tags` is empty for models without tags.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use genreid_audio::{LoadOptions, load, segments};
use genreid_features::{fma518, gtzan57};
use genreid_models::ModelFile;
use genreid_models::pretrained::{Tagger, patch_hop_frames};
use genreid_train::argmax;
use rayon::prelude::*;
use serde::Serialize;

use crate::models::{Model, load_model};
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
pub struct Verdict {
    path: String,
    /// The track's genre by mean probability over segments.
    pub genre: String,
    vote: String,
    /// Label → mean probability.
    pub probabilities: serde_json::Map<String, serde_json::Value>,
    /// Tag → mean probability (empty for models without tags).
    pub tags: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<Vec<SegmentVerdict>>,
}

impl Verdict {
    /// The probability of the verdict's genre.
    pub fn confidence(&self) -> f64 {
        self.probabilities.get(&self.genre).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
    }

    /// The `n` most probable tags, best first.
    pub fn top_tags(&self, n: usize) -> Vec<String> {
        ranked(&self.tags).into_iter().take(n).map(|(t, _)| t.clone()).collect()
    }
}

/// Classifies one file with either kind of model.
pub fn classify_file(model: &Model, path: &Path, hop: usize, with_segments: bool) -> Result<Verdict> {
    match model {
        Model::Classical(m) => classify_classical(path, m, with_segments),
        Model::Tagger(t) => classify_tagged(path, t, hop, with_segments),
    }
}

fn prob_map(labels: &[String], p: &[f64]) -> serde_json::Map<String, serde_json::Value> {
    labels.iter().zip(p).map(|(l, v)| (l.clone(), serde_json::json!(v))).collect()
}

/// Track verdict from per-segment probabilities: mean probability, majority vote.
fn verdict(
    path: &Path,
    labels: &[String],
    per_segment: &[Vec<f64>],
    spans: &[(f64, f64)],
    tags: serde_json::Map<String, serde_json::Value>,
    with_segments: bool,
) -> Verdict {
    let k = labels.len();
    let n = per_segment.len().max(1) as f64;
    let mean: Vec<f64> = (0..k).map(|c| per_segment.iter().map(|p| p[c]).sum::<f64>() / n).collect();
    let mut votes = vec![0usize; k];
    for p in per_segment {
        votes[argmax(p)] += 1;
    }
    // Ties go to the class with the higher mean probability.
    let vote = (0..k).fold(0, |b, c| if (votes[c], mean[c]) > (votes[b], mean[b]) { c } else { b });
    let segments = with_segments.then(|| {
        spans
            .iter()
            .zip(per_segment)
            .map(|(&(start, end), p)| SegmentVerdict {
                start,
                end,
                genre: labels[argmax(p)].clone(),
                probabilities: prob_map(labels, p),
            })
            .collect()
    });
    Verdict {
        path: path.display().to_string(),
        genre: labels[argmax(&mean)].clone(),
        vote: labels[vote].clone(),
        probabilities: prob_map(labels, &mean),
        tags,
        segments,
    }
}

/// Classical model: features of each whole segment of the model's length
/// (or of the whole file when shorter).
fn classify_classical(path: &Path, model: &ModelFile, with_segments: bool) -> Result<Verdict> {
    let pre = &model.preprocessing;
    // A rate of 0 records features computed at each file's own rate (FMA's way).
    let options =
        LoadOptions { sample_rate: (pre.sample_rate > 0).then_some(pre.sample_rate), ..Default::default() };
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
    let seconds: Vec<(f64, f64)> = spans.iter().map(|&(s, e)| (s as f64 / sr, e as f64 / sr)).collect();
    Ok(verdict(path, &model.labels, &per_segment, &seconds, serde_json::Map::new(), with_segments))
}

/// Tagger: 3-s log-mel patches through the network; genres from its head
/// (or, without one, its tags), tags averaged over patches.
fn classify_tagged(path: &Path, tagger: &Tagger, hop: usize, with_segments: bool) -> Result<Verdict> {
    let analysis = tagger.analyse_file(path, hop)?;
    let tag_labels = &tagger.manifest().tags;
    let taggram = &analysis.outputs.taggram;
    let per_patch_tags: Vec<Vec<f64>> =
        (0..taggram.len()).map(|i| taggram.row(i).iter().map(|&v| f64::from(v)).collect()).collect();
    let n = per_patch_tags.len().max(1) as f64;
    let mean_tags: Vec<f64> =
        (0..tag_labels.len()).map(|t| per_patch_tags.iter().map(|p| p[t]).sum::<f64>() / n).collect();
    let tags = prob_map(tag_labels, &mean_tags);
    Ok(match (&tagger.manifest().genre_head, &analysis.outputs.genres) {
        (Some(head), Some(genres)) => {
            verdict(path, &head.labels, genres, &analysis.spans, tags, with_segments)
        }
        _ => verdict(path, tag_labels, &per_patch_tags, &analysis.spans, tags, with_segments),
    })
}

fn ranked(map: &serde_json::Map<String, serde_json::Value>) -> Vec<(&String, f64)> {
    let mut r: Vec<(&String, f64)> = map.iter().map(|(l, p)| (l, p.as_f64().unwrap_or(0.0))).collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
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
            .map(|f| match classify_file(&model, f, hop, args.segments) {
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
    let labels: Vec<String> = match &model {
        Model::Classical(m) => m.labels.clone(),
        Model::Tagger(t) => {
            t.manifest().genre_head.as_ref().map_or_else(|| t.manifest().tags.clone(), |h| h.labels.clone())
        }
    };
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
                writeln!(out, "{}\n  genre: {} (majority of segments: {})", v.path, v.genre, v.vote)?;
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
