//! `genreid train`, `genreid eval` and `genreid compare`: classical models
//! on feature tables, evaluated over honest splits, with reports.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use genreid_data::{FeatureTable, SplitSpec, folds, read_table};
use genreid_models::classical::Params;
use genreid_models::{ClassifierKind, ModelFile, Preprocessing};
use genreid_train::metrics::Metrics;
use genreid_train::report::write_report;
use genreid_train::{evaluate, fit_model};

/// Arguments shared by the table-based commands.
#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// Feature table (.csv) with a `label` column, e.g. from `genreid features`.
    #[arg(long)]
    features: PathBuf,
    /// Split: holdout:FRACTION[:SEED], kfold:K[:SEED] or lists:DIR (train/valid/test lists).
    #[arg(long, default_value = "holdout:0.2")]
    split: String,
}

/// Arguments of `genreid train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Model family: knn or logreg.
    #[arg(long)]
    model: String,
    /// Hyper-parameter NAME=VALUE (knn: k; logreg: c, max_iter); repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Where to write the trained model file.
    #[arg(long)]
    out: PathBuf,
    /// Also write an evaluation report (report.md, metrics.json, plots) here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Feature set the table holds, recorded so `classify` can recompute it.
    #[arg(long, default_value = "gtzan57")]
    set: String,
    /// Sample rate the table's features were computed at.
    #[arg(long, default_value_t = 22_050)]
    sr: u32,
    /// Seconds of audio per table row.
    #[arg(long, default_value_t = 30.0)]
    segment_seconds: f64,
}

/// Arguments of `genreid eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Model file to evaluate.
    #[arg(long)]
    model: PathBuf,
    /// Report folder.
    #[arg(long)]
    report: PathBuf,
}

/// Arguments of `genreid compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Comma-separated model families.
    #[arg(long, default_value = "knn,logreg")]
    models: String,
    /// Report folder.
    #[arg(long)]
    report: PathBuf,
}

pub(crate) fn parse_params(raw: &[String]) -> Result<Params> {
    raw.iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| anyhow!("--param {p:?}: expected NAME=VALUE"))
        })
        .collect()
}

fn load(args: &TableArgs) -> Result<(FeatureTable, SplitSpec)> {
    let table = read_table(&args.features)?;
    let spec = SplitSpec::parse(&args.split)?;
    if table.classes().len() < 2 {
        bail!("{}: need at least two labels to train a classifier", args.features.display());
    }
    Ok((table, spec))
}

/// Trains a model, reports its held-out scores, and saves it fitted on the
/// split's training rows (all rows for k-fold).
pub fn train(args: TrainArgs) -> Result<ExitCode> {
    let (table, spec) = load(&args.table)?;
    let kind: ClassifierKind = args.model.parse()?;
    let params = parse_params(&args.params)?;
    let preprocessing = Preprocessing {
        feature_set: args.set.clone(),
        sample_rate: args.sr,
        segment_seconds: args.segment_seconds,
        columns: table.columns.clone(),
    };
    let evaluation = evaluate(&table, &spec, kind, &params, &preprocessing).map_err(|e| anyhow!(e))?;
    eprintln!(
        "{:?} on {}: accuracy {:.3}, macro F1 {:.3} ({} test rows)",
        kind, evaluation.split, evaluation.test.accuracy, evaluation.test.macro_f1, evaluation.n_test
    );
    if let Some(dir) = &args.report {
        let files = write_report(
            dir,
            &format!("{kind:?} on {}", args.table.features.display()),
            std::slice::from_ref(&evaluation),
        )
        .map_err(|e| anyhow!(e))?;
        eprintln!("report: {}", files.join(", "));
    }
    let rows: Vec<usize> = match &spec {
        SplitSpec::KFold { .. } => (0..table.len()).collect(),
        _ => folds(&spec, &table.labels, &table.names)?.remove(0).train,
    };
    let provenance = serde_json::json!({
        "trained_on": args.table.features.display().to_string(),
        "training_rows": rows.len(),
        "params": params,
        "evaluation": { "split": evaluation.split, "accuracy": evaluation.test.accuracy, "macro_f1": evaluation.test.macro_f1 },
    });
    let model = fit_model(&table, &rows, kind, &params, preprocessing, provenance).map_err(|e| anyhow!(e))?;
    model.save(&args.out)?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Scores an existing model on the test rows of a split (every row for k-fold).
pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    let (table, spec) = load(&args.table)?;
    let model = ModelFile::load(&args.model)?;
    if model.preprocessing.columns != table.columns {
        bail!(
            "{}: the table's feature columns differ from those the model was trained on ({})",
            args.table.features.display(),
            args.model.display()
        );
    }
    let rows: Vec<usize> =
        folds(&spec, &table.labels, &table.names)?.into_iter().flat_map(|f| f.test).collect();
    let index = |l: &str| model.labels.iter().position(|m| m == l);
    let mut truth = Vec::new();
    let mut probs = Vec::new();
    for &i in &rows {
        let t = index(&table.labels[i])
            .with_context(|| format!("label {:?} unknown to the model", table.labels[i]))?;
        truth.push(t);
        probs.push(model.predict_proba(&table.rows[i]));
    }
    let metrics = Metrics::compute(&model.labels, &truth, &probs);
    eprintln!(
        "accuracy {:.3}, macro F1 {:.3} on {} rows ({spec})",
        metrics.accuracy,
        metrics.macro_f1,
        rows.len()
    );
    let evaluation = genreid_train::Evaluation {
        model: model.classifier.kind(),
        split: spec.to_string(),
        train: None,
        test: metrics,
        fit_seconds: 0.0,
        n_test: rows.len(),
    };
    write_report(
        &args.report,
        &format!("{} on {}", args.model.display(), args.table.features.display()),
        &[evaluation],
    )
    .map_err(|e| anyhow!(e))?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates several model families on one split and writes the comparison.
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    let (table, spec) = load(&args.table)?;
    let preprocessing = Preprocessing {
        feature_set: String::new(),
        sample_rate: 0,
        segment_seconds: 0.0,
        columns: table.columns.clone(),
    };
    let mut evaluations = Vec::new();
    for name in args.models.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind: ClassifierKind = name.parse()?;
        let e = evaluate(&table, &spec, kind, &Params::new(), &preprocessing).map_err(|e| anyhow!(e))?;
        eprintln!("{name}: accuracy {:.3}, macro F1 {:.3}", e.test.accuracy, e.test.macro_f1);
        evaluations.push(e);
    }
    write_report(
        &args.report,
        &format!("Model comparison on {}", args.table.features.display()),
        &evaluations,
    )
    .map_err(|e| anyhow!(e))?;
    let mut rows: Vec<serde_json::Value> = evaluations
        .iter()
        .map(|e| {
            serde_json::json!({
                "model": e.model,
                "accuracy": e.test.accuracy,
                "macro_f1": e.test.macro_f1,
                "cv_best": serde_json::Value::Null,
                "train_auc": e.train.as_ref().and_then(|t| t.roc_auc_ovr),
                "test_auc": e.test.roc_auc_ovr,
                "fit_seconds": e.fit_seconds,
                "split": e.split,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b["accuracy"].as_f64().unwrap_or(0.0).total_cmp(&a["accuracy"].as_f64().unwrap_or(0.0))
    });
    let path = args.report.join("comparison.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows)?)
        .with_context(|| format!("{}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}
