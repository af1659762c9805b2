//! `genreid classify`: the genre (and tags) of each audio file, from the
//! built-in model or a model file, as a table, JSON or CSV.
//!
//! JSON schema: a list with one record per file, in input order:
//! `{path, genre, vote, probabilities: {label: p}, tags: {tag: p},
//! duration_seconds, truncated_at_seconds?, warnings: [{code, message}],
//! segments?: [{start, end, genre, probabilities}]}`, or `{path, error}`
//! for a file that could not be classified. `genre` is the track verdict
//! by mean probability over segments, `vote` the verdict by majority of
//! segment verdicts; `tags` is empty for models without tags.
//!
//! With `--out`, rows go to Parquet instead (one per input, the schema of
//! `genreid_pipeline::batch::schema`), a shard of the inputs at a time
//! (`--shard K/N`), resumable (`--resume`), with a summary on stderr.
//!
//! CSV: `path,genre,vote,<one probability column per label>,warnings,error`
//! a row per file (`warnings` holds the codes, `;`-separated; a failed file
//! has only `path` and `error`). With `--segments`, a row per segment:
//! `path,start,end,genre,<labels>,warnings,error`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use genreid_data::{FoundFile, found_audio_files};
use genreid_models::pretrained::patch_hop_frames;
use genreid_pipeline::batch::{
    BatchOptions, BatchOutput, BatchSchema, ClassifyRows, RunOptions, Shard, manifest_files,
};
use genreid_pipeline::display::terminal_safe as safe;
use genreid_pipeline::verdict::{ClassifyOptions, Probabilities, ranked};
use genreid_pipeline::{
    EmbeddingSpec, FileOutcome, Model, Verdict, classify_files, load_model, model_identity, record,
};

use crate::batch_cmd::{Verb, run_rows, verdict_progress};
use crate::progress::Progress;

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
    #[arg(required_unless_present = "files_from")]
    paths: Vec<PathBuf>,
    /// Also classify the files a list names: one path a line, or the `path`
    /// column of a .csv or .parquet file.
    #[arg(long, value_name = "LIST")]
    files_from: Option<PathBuf>,
    /// Built-in model name (musicnn-gtzan, msd-musicnn, mtt-musicnn, msd-vgg,
    /// mtt-vgg, gtzan57-logreg) or a model file. Default: musicnn-gtzan.
    #[arg(long)]
    model: Option<String>,
    /// Output format (printed; `--out` writes Parquet instead).
    #[arg(long, value_enum, default_value = "table", conflicts_with = "out")]
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
    /// Write a row per input to Parquet instead of printing: a folder
    /// (`out/`, parts added run by run) or one `FILE.parquet`.
    #[arg(long, value_name = "DIR/|FILE.parquet")]
    out: Option<PathBuf>,
    /// Take only share K of N (0-based) of the inputs, by a stable hash of
    /// each path relative to the folder it was found in.
    #[arg(long, value_name = "K/N", requires = "out")]
    shard: Option<Shard>,
    /// Skip inputs already in the --out folder (same path, size and
    /// modification time): a killed run continues where it stopped.
    #[arg(long, requires = "out")]
    resume: bool,
    /// Files per part written into the --out folder (a killed run loses at
    /// most one part's work).
    #[arg(long, default_value_t = 256, requires = "out")]
    part_rows: usize,
    /// Add each track's embedding from this tagger layer to the rows
    /// (penultimate, taggram, mean_pool, max_pool; the patch mean, or
    /// LAYER/mean+std[/l2] for the library's pooling, L2-normalised).
    #[arg(long, value_name = "LAYER", requires = "out")]
    embedding: Option<String>,
}

/// One file's outcome: its verdict, or why there is none.
type Outcome = FileOutcome<Verdict>;

/// Runs the command; exit status 1 when any file failed.
pub fn run(args: Args) -> Result<ExitCode> {
    let model = load_model(args.model.as_deref())?;
    let options = ClassifyOptions {
        hop: patch_hop_frames(args.overlap)?,
        segments: args.segments,
        ..Default::default()
    };
    let inputs = inputs(&args.paths, args.files_from.as_deref())?;
    let pool = genreid_pipeline::jobs::thread_pool(args.jobs).map_err(anyhow::Error::msg)?;
    if let Some(out) = &args.out {
        return pool.install(|| write_rows(&args, &model, inputs, options, out));
    }
    let files: Vec<PathBuf> = inputs.into_iter().map(|f| f.path).collect();
    let progress = Progress::new(files.len(), "classify");
    let outcomes: Vec<Outcome> = pool.install(|| {
        classify_files(&model, &files, &options, &|_, outcome| match outcome {
            Ok(v) => {
                for w in &v.warnings {
                    progress.note(&format!("warning: {}: {}", v.path, w.message));
                }
                progress.ok();
            }
            Err(message) => progress.failed(message),
        })
    });
    progress.finish();
    let labels = model.labels();
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            let records: Vec<serde_json::Value> =
                outcomes.iter().map(|(path, outcome)| record(path, outcome)).collect();
            serde_json::to_writer_pretty(&mut out, &records)?;
            writeln!(out)?;
        }
        OutputFormat::Csv => write_csv(&mut out, &outcomes, &labels, args.segments)?,
        OutputFormat::Table => {
            for (path, outcome) in &outcomes {
                let v = match outcome {
                    Ok(v) => v,
                    Err(e) => {
                        let error = strip_path(e, path);
                        writeln!(out, "{}\n  error: {}", safe(&path.display().to_string()), safe(error))?;
                        continue;
                    }
                };
                writeln!(
                    out,
                    "{}\n  genre: {} (majority vote: {})",
                    safe(&v.path),
                    safe(&v.genre),
                    safe(&v.vote)
                )?;
                for w in &v.warnings {
                    writeln!(out, "  warning: {}", safe(&w.message))?;
                }
                for (label, p) in ranked(&v.probabilities).iter().take(args.top.max(1)) {
                    let bar = "#".repeat((p * 30.0).round() as usize);
                    writeln!(out, "  {:<16} {:>5.1}%  {bar}", safe(label), p * 100.0)?;
                }
                if !v.tags.is_empty() && args.tags > 0 {
                    let top: Vec<String> = ranked(&v.tags)
                        .iter()
                        .take(args.tags)
                        .map(|(t, p)| format!("{} {:.0}%", safe(t), p * 100.0))
                        .collect();
                    writeln!(out, "  tags: {}", top.join(", "))?;
                }
                if let Some(segs) = &v.segments {
                    for s in segs {
                        writeln!(out, "    {:>7.1}-{:<7.1}s  {}", s.start, s.end, safe(&s.genre))?;
                    }
                }
            }
        }
    }
    Ok(if progress.failures() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The files the paths name and the list holds, in that order.
pub(crate) fn inputs(paths: &[PathBuf], list: Option<&Path>) -> Result<Vec<FoundFile>> {
    let mut files = if paths.is_empty() { Vec::new() } else { found_audio_files(paths)? };
    if let Some(list) = list {
        files.extend(manifest_files(list)?);
    }
    Ok(files)
}

/// `--out`: the batch run into Parquet, with its summary on stderr.
fn write_rows(
    args: &Args,
    model: &Model,
    inputs: Vec<FoundFile>,
    classify: ClassifyOptions,
    out: &Path,
) -> Result<ExitCode> {
    let output = BatchOutput::parse(out)?;
    let identity = model_identity(args.model.as_deref())?;
    let embedding = args.embedding.as_deref().map(EmbeddingSpec::parse).transpose()?;
    let schema = BatchSchema::for_model(model, &identity, args.segments, embedding.as_ref())?;
    let options = BatchOptions {
        run: RunOptions {
            shard: args.shard.unwrap_or(Shard::ALL),
            resume: args.resume,
            part_rows: args.part_rows,
        },
        embedding,
        file_tags: false,
        classify,
    };
    let verb = Verb { doing: "classify", done: "classified" };
    let kind = ClassifyRows { model, schema: &schema, options: &options };
    run_rows(&kind, inputs, &output, &options.run, out, verb, &verdict_progress)
}

/// An error message without the file name it starts with (the table
/// already shows the file).
fn strip_path<'a>(message: &'a str, path: &std::path::Path) -> &'a str {
    let shown = path.display().to_string();
    message.strip_prefix(&shown).map_or(message, |rest| rest.trim_start_matches(':').trim_start())
}

/// The CSV layout of the module documentation.
fn write_csv(out: &mut impl Write, outcomes: &[Outcome], labels: &[String], segments: bool) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = if segments {
        ["path", "start", "end", "genre"].map(String::from).to_vec()
    } else {
        ["path", "genre", "vote"].map(String::from).to_vec()
    };
    header.extend(labels.iter().cloned());
    header.extend(["warnings".to_string(), "error".to_string()]);
    w.write_record(&header)?;
    let probabilities = |p: &Probabilities| -> Vec<String> {
        labels.iter().map(|l| format!("{:.6}", p.get(l).and_then(|v| v.as_f64()).unwrap_or(0.0))).collect()
    };
    let fixed = if segments { 4 } else { 3 };
    for (path, outcome) in outcomes {
        let v = match outcome {
            Ok(v) => v,
            Err(e) => {
                let mut rec = vec![genreid_pipeline::path_text(path)];
                rec.resize(fixed + labels.len() + 1, String::new());
                rec.push(e.clone());
                w.write_record(&rec)?;
                continue;
            }
        };
        let warnings = v.warnings.iter().map(|w| w.code.as_str()).collect::<Vec<_>>().join(";");
        if segments {
            for s in v.segments.iter().flatten() {
                let mut rec =
                    vec![v.path.clone(), format!("{:.3}", s.start), format!("{:.3}", s.end), s.genre.clone()];
                rec.extend(probabilities(&s.probabilities));
                rec.extend([warnings.clone(), String::new()]);
                w.write_record(&rec)?;
            }
        } else {
            let mut rec = vec![v.path.clone(), v.genre.clone(), v.vote.clone()];
            rec.extend(probabilities(&v.probabilities));
            rec.extend([warnings, String::new()]);
            w.write_record(&rec)?;
        }
    }
    w.flush()?;
    Ok(())
}
