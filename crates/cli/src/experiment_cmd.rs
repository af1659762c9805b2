//! `genreid experiment CONFIG.toml`: a list of network runs (dataset, split,
//! input, segment length, architecture, hyper-parameters) trained and
//! evaluated one after another, then one comparison table (Markdown + CSV)
//! with segment-level and track-level accuracy side by side (seed 000's
//! Table I layout) and plots, in a report folder.
//!
//! ```toml
//! title = "CRNN, divide and conquer"
//! dataset = "gtzan:/data/gtzan"   # --dataset overrides
//! split = "holdout:0.2"
//! [defaults]                       # any option of `genreid train`
//! epochs = 30
//! input = "mel"
//! [[run]]
//! model = "crnn"
//! segment = 30
//! [[run]]
//! model = "crnn"
//! segment = 3
//! [[run]]                          # the two above, voting
//! name = "ensemble"
//! ensemble = "run:1,run:2:2"
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use genreid_train::neural::write_network_report;
use genreid_train::report::{ExperimentRow, write_experiment_tables};
use serde::Deserialize;

use crate::network_cmd::{NetworkJob, NetworkOptions, evaluate_any, print_summary, train_and_evaluate};
use crate::transfer_cmd::{self, TransferJob};

/// Arguments of `genreid experiment`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The experiment file (TOML).
    config: PathBuf,
    /// Dataset for every run (overrides the file's `dataset`).
    #[arg(long)]
    dataset: Option<String>,
    /// Report folder [default: the config's name beside it, `NAME-report`].
    #[arg(long)]
    report: Option<PathBuf>,
    /// Epochs for every run (overrides the file; for quick checks).
    #[arg(long)]
    epochs: Option<usize>,
}

/// Per-run settings; anything missing comes from `[defaults]`, then from
/// `genreid train`'s defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSpec {
    name: Option<String>,
    model: Option<String>,
    backbone: Option<String>,
    embedding: Option<String>,
    head: Option<String>,
    ensemble: Option<String>,
    dataset: Option<String>,
    split: Option<String>,
    input: Option<String>,
    n_mels: Option<usize>,
    segment: Option<f64>,
    overlap: Option<f64>,
    epochs: Option<usize>,
    batch_size: Option<usize>,
    lr: Option<f64>,
    weight_decay: Option<f64>,
    schedule: Option<String>,
    patience: Option<usize>,
    class_weights: Option<bool>,
    spec_augment: Option<bool>,
    augment: Option<String>,
    seed: Option<u64>,
    max_seconds: Option<f64>,
    weights: Option<PathBuf>,
    freeze_epochs: Option<usize>,
    finetune_lr: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    title: Option<String>,
    dataset: Option<String>,
    split: Option<String>,
    #[serde(default)]
    defaults: RunSpec,
    #[serde(default)]
    run: Vec<RunSpec>,
}

macro_rules! merge {
    ($run:expr, $defaults:expr, $($field:ident),*) => {
        RunSpec { $($field: $run.$field.clone().or_else(|| $defaults.$field.clone()),)* }
    };
}

fn merged(run: &RunSpec, d: &RunSpec) -> RunSpec {
    merge!(
        run,
        d,
        name,
        model,
        backbone,
        embedding,
        head,
        ensemble,
        dataset,
        split,
        input,
        n_mels,
        segment,
        overlap,
        epochs,
        batch_size,
        lr,
        weight_decay,
        schedule,
        patience,
        class_weights,
        spec_augment,
        augment,
        seed,
        max_seconds,
        weights,
        freeze_epochs,
        finetune_lr
    )
}

fn options(run: &RunSpec, checkpoint: PathBuf) -> NetworkOptions {
    NetworkOptions {
        input: run.input.clone().unwrap_or_else(|| "mel".into()),
        n_mels: run.n_mels.unwrap_or(128),
        epochs: run.epochs.unwrap_or(30),
        batch_size: run.batch_size.unwrap_or(32),
        lr: run.lr.unwrap_or(1e-3),
        weight_decay: run.weight_decay,
        schedule: run.schedule.clone(),
        patience: run.patience.unwrap_or(8),
        class_weights: run.class_weights.unwrap_or(false),
        spec_augment: run.spec_augment.unwrap_or(false),
        augment: run.augment.clone(),
        overlap: run.overlap.unwrap_or(0.0),
        seed: run.seed.unwrap_or(0),
        checkpoint: Some(checkpoint),
        resume: true,
        max_seconds: run.max_seconds.unwrap_or(600.0),
        weights: run.weights.clone(),
        freeze_epochs: run.freeze_epochs.unwrap_or(0),
        finetune_lr: run.finetune_lr,
    }
}

fn slug(s: &str) -> String {
    let raw: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    raw.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// Runs the experiment.
pub fn run(args: Args) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("{}: cannot read", args.config.display()))?;
    let config: Config = toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", args.config.display()))?;
    if config.run.is_empty() {
        bail!("{}: no [[run]] entries", args.config.display());
    }
    let report = args.report.clone().unwrap_or_else(|| {
        let stem = args.config.file_stem().map_or("experiment".into(), |s| s.to_string_lossy().into_owned());
        args.config.with_file_name(format!("{stem}-report"))
    });
    std::fs::create_dir_all(&report).with_context(|| format!("{}: cannot create", report.display()))?;
    let title = config.title.clone().unwrap_or_else(|| args.config.display().to_string());
    let mut rows = Vec::new();
    let mut written: Vec<Option<PathBuf>> = Vec::new();
    for (i, raw) in config.run.iter().enumerate() {
        let mut run = merged(raw, &config.defaults);
        if args.epochs.is_some() {
            run.epochs = args.epochs;
        }
        let model = match (&run.ensemble, &run.backbone, &run.model) {
            (Some(_), _, _) => "ensemble".to_string(),
            (None, Some(b), _) => format!("{b}+{}", run.head.as_deref().unwrap_or("logreg")),
            (None, None, Some(m)) => m.clone(),
            (None, None, None) => bail!("run {}: no model, backbone or ensemble", i + 1),
        };
        let dataset = args
            .dataset
            .clone()
            .or_else(|| run.dataset.clone())
            .or_else(|| config.dataset.clone())
            .ok_or_else(|| anyhow!("run {}: no dataset (give `dataset` in the file or --dataset)", i + 1))?;
        let split =
            run.split.clone().or_else(|| config.split.clone()).unwrap_or_else(|| "holdout:0.2".into());
        let segment = run.segment.unwrap_or(3.0);
        let name = run.name.clone().unwrap_or_else(|| format!("{model} {segment}s"));
        let dir = report.join(format!("{:02}-{}", i + 1, slug(&name)));
        std::fs::create_dir_all(&dir)?;
        let out = dir.join("model.genreid");
        eprintln!("\n== run {} of {}: {name} ==", i + 1, config.run.len());
        let job = NetworkJob {
            dataset: &dataset,
            split: &split,
            architecture: &model,
            segment: Some(segment),
            out: &out,
            report: None,
        };
        let evaluation = match (&run.ensemble, &run.backbone) {
            (Some(members), _) => {
                let spec = ensemble_spec(members, &written)?;
                eprintln!("ensemble {spec}");
                evaluate_any(&spec, &dataset, &split).map(|mut e| {
                    e.segment_seconds = segment;
                    e
                })
            }
            (None, Some(backbone)) => transfer_cmd::train_and_evaluate(&TransferJob {
                dataset: &dataset,
                split: &split,
                backbone,
                embedding: run.embedding.as_deref().unwrap_or("penultimate"),
                head: run.head.as_deref().unwrap_or("logreg"),
                params: &[],
                out: &out,
            }),
            (None, None) => train_and_evaluate(&job, &options(&run, dir.join("checkpoint"))),
        }
        .with_context(|| format!("run {} ({name})", i + 1))?;
        written.push(run.ensemble.is_none().then(|| out.clone()));
        let e = &evaluation;
        print_summary(e);
        write_network_report(&dir, &name, e).map_err(|err| anyhow!(err))?;
        rows.push(ExperimentRow {
            name,
            model,
            segment,
            parameters: e.parameters,
            segment_accuracy: e.accuracy,
            track_mean: e.track_accuracy_mean,
            track_vote: e.track_accuracy_vote,
            macro_f1: e.macro_f1,
            epochs: e.history.len(),
            seconds: e.fit_seconds,
        });
        write_experiment_tables(&report, &title, &rows).map_err(|e| anyhow!(e))?;
    }
    let files = write_experiment_tables(&report, &title, &rows).map_err(|e| anyhow!(e))?;
    eprintln!("\nreport: {}", files.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// An ensemble's `--model` spec from `ensemble = "run:1,run:2:2,file.genreid"`:
/// `run:N[:WEIGHT]` is the model file earlier run N of this experiment wrote.
fn ensemble_spec(members: &str, written: &[Option<PathBuf>]) -> Result<String> {
    let mut out = Vec::new();
    for m in members.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let Some(rest) = m.strip_prefix("run:") else {
            out.push(m.to_string());
            continue;
        };
        let (n, weight) = match rest.split_once(':') {
            Some((n, w)) => (n, Some(w)),
            None => (rest, None),
        };
        let n: usize = n.parse().map_err(|_| anyhow!("ensemble member {m:?}: expected run:N[:WEIGHT]"))?;
        let file = written.get(n.wrapping_sub(1)).cloned().flatten().ok_or_else(|| {
            anyhow!("ensemble member {m:?}: run {n} is not an earlier run with a model file")
        })?;
        out.push(match weight {
            Some(w) => format!("{}:{w}", file.display()),
            None => file.display().to_string(),
        });
    }
    Ok(out.join(","))
}
