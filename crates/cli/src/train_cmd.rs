//! `genreid train`, `genreid eval` and `genreid compare`: classical models
//! on feature tables, evaluated over honest splits, with reports; networks
//! (`--model ARCH`) and transfer heads (`--backbone`) hand over to
//! `network_cmd` and `transfer_cmd`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use genreid_data::{DatasetSpec, FeatureTable, SplitSpec};
use genreid_models::classical::{Params, ReduceSpec};
use genreid_models::neural::{ArchitectureSpec, NetworkFile};
use genreid_models::{ClassifierKind, ModelFile, Preprocessing};
use genreid_train::metrics::Metrics;
use genreid_train::report::{write_comparison, write_latent_view, write_report};
use genreid_train::{Grid, Recipe, evaluate, fit_model, tune};

use crate::dataset::dataset_table;
use crate::features_cmd::TableOptions;
use crate::network_cmd::{self, NetworkJob, NetworkOptions};
use crate::params::parse_params;
use crate::table::read_feature_table;
use crate::transfer_cmd::{self, TransferJob};

/// Arguments shared by the table-based commands.
#[derive(Debug, clap::Args)]
#[group(id = "source", required = true, multiple = false, args = ["features", "dataset"])]
pub struct TableArgs {
    /// Feature table (.csv or .parquet) with a `label` column, e.g. from `genreid features`.
    #[arg(long)]
    features: Option<PathBuf>,
    /// Audio dataset: gtzan:PATH, fma:PATH[:small|medium|large], mtt:PATH, folder:PATH,
    /// csv:FILE, or a folder with one subfolder per label. Classical models get a feature
    /// table computed on the way (see --set); networks get spectrograms; both are cached.
    #[arg(long)]
    dataset: Option<PathBuf>,
    #[command(flatten)]
    table: TableOptions,
    /// Split: holdout:FRACTION[:SEED], kfold:K[:SEED], lists:DIR (train/valid/test lists),
    /// artist[:K[:SEED]] (K-fold keeping each artist in one fold; needs artists) or official
    /// (the dataset's own split: FMA's, MagnaTagATune's, a manifest's `split` column).
    #[arg(long, default_value = "holdout:0.2")]
    split: String,
    /// Reduce the standardised features before the classifier: svd:N or rf-importance:N
    /// (fitted on training rows only).
    #[arg(long)]
    reduce: Option<String>,
}

/// Arguments of `genreid train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Model family: svm, knn, logreg, random-forest, gbm or mlp on feature tables; or a network
    /// on spectrograms: lenet5, cnn, spectral-cnn, vgg, crnn, crnn-l2reg, crnn-lrs,
    /// crnn-3conv, crnn-2conv, lstm, gru, custom-cnn; ImageNet networks resnet18, resnet50,
    /// mobilenet-v2, efficientnet-v2-s, vgg16, vgg16-bn (NAME@SIZE for another image side;
    /// --weights for PyTorch weights); msd-musicnn or mtt-musicnn to fine-tune musicnn (with --dataset).
    #[arg(long, required_unless_present = "backbone")]
    model: Option<String>,
    /// Transfer learning: a pretrained tagger (msd-musicnn, mtt-musicnn, msd-vgg, mtt-vgg or a
    /// tagger file) whose per-patch embeddings feed a classical head (--head) on --dataset.
    #[arg(long, conflicts_with = "model")]
    backbone: Option<String>,
    /// With --backbone msd-musicnn|mtt-musicnn: fine-tune the whole network with a new head
    /// instead of fitting a head on frozen embeddings (as --model msd-musicnn; the network
    /// options apply: --epochs, --lr, --freeze-epochs, --finetune-lr, ...).
    #[arg(long, requires = "backbone")]
    finetune: bool,
    /// Backbone outputs the head reads: penultimate, mean_pool, max_pool, taggram (comma-separated).
    #[arg(long, default_value = "penultimate")]
    embedding: String,
    /// The head on the embeddings: logreg, svm, knn, random-forest, gbm or mlp.
    #[arg(long, default_value = "logreg")]
    head: String,
    /// Hyper-parameter NAME=VALUE, repeatable (svm: c, kernel, gamma, seed; knn: k; logreg: c,
    /// max_iter; random-forest: n_trees, max_depth, min_samples_split, max_features, seed; gbm:
    /// n_rounds, learning_rate, max_depth, lambda, min_child_weight).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Values to search by 5-fold cross-validation on the training rows, NAME=V1,V2,...;
    /// repeatable (the grid is their product).
    #[arg(long = "grid", value_name = "NAME=V1,V2")]
    grid: Vec<String>,
    /// Where to write the trained model file.
    #[arg(long)]
    out: PathBuf,
    /// Also write an evaluation report (report.md, metrics.json, plots) here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Seconds of audio per table row, recorded so `classify` cuts audio the same way
    /// [default: --segment, else 30].
    #[arg(long)]
    segment_seconds: Option<f64>,
    #[command(flatten)]
    network: NetworkOptions,
}

/// Arguments of `genreid eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Model to evaluate: a model file, a built-in model, or an ensemble
    /// (`a.genreid,b.genreid:2`; with --dataset SPEC, scored on audio).
    #[arg(long)]
    model: PathBuf,
    /// Report folder.
    #[arg(long)]
    report: PathBuf,
    /// Seconds of each file decoded at most (network models).
    #[arg(long, default_value_t = 600.0)]
    max_seconds: f64,
}

/// Arguments of `genreid compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Comma-separated model families.
    #[arg(long, default_value = "svm,knn,logreg,random-forest,gbm")]
    models: String,
    /// Report folder.
    #[arg(long)]
    report: PathBuf,
    /// Use each family's default parameters instead of tuning them on a small grid by
    /// inner 5-fold cross-validation.
    #[arg(long)]
    no_tune: bool,
    /// Also evaluate every model at these reduced dimensions (comma-separated; with
    /// --reduce's method, svd by default) and tabulate accuracy and time against them.
    #[arg(long, value_name = "N1,N2,...")]
    reduce_sweep: Option<String>,
    /// Reduction methods the sweep compares in one table: any of svd, rf-importance,
    /// autoencoder (seed 000's dual-loss autoencoder; adds a t-SNE plot of its code)
    /// [default: --reduce's method, else svd].
    #[arg(long, value_name = "M1,M2,...", requires = "reduce_sweep")]
    reduce_methods: Option<String>,
}

impl TableArgs {
    /// The table or folder, for messages.
    fn source(&self) -> String {
        self.features.as_ref().or(self.dataset.as_ref()).map_or(String::new(), |p| p.display().to_string())
    }
}

fn load(args: &TableArgs) -> Result<(FeatureTable, SplitSpec, Option<ReduceSpec>)> {
    let spec = SplitSpec::parse(&args.split)?;
    let reduce: Option<ReduceSpec> = args.reduce.as_deref().map(str::parse).transpose()?;
    let table = match (&args.features, &args.dataset) {
        (Some(path), _) => read_feature_table(path)?,
        (None, Some(dir)) => dataset_table(&dataset_folder(dir)?, &args.table, None)?,
        (None, None) => bail!("give --features TABLE or --dataset FOLDER"),
    };
    if table.classes().len() < 2 {
        bail!("{}: need at least two labels to train a classifier", args.source());
    }
    Ok((table, spec, reduce))
}

/// The folder of a `folder:` or `gtzan:` dataset (or a bare folder), for feature tables.
fn dataset_folder(spec: &Path) -> Result<PathBuf> {
    let text = spec.to_string_lossy();
    if spec.is_dir() {
        return Ok(spec.to_path_buf());
    }
    match DatasetSpec::parse(&text)? {
        DatasetSpec::Folder(p) | DatasetSpec::Gtzan(p) => Ok(p),
        other => bail!(
            "{other}: feature tables are computed from folder-per-label datasets (gtzan:, folder:); \
                        use a network model or `genreid features` for this dataset"
        ),
    }
}

/// Trains a model, reports its held-out scores, and saves it fitted on the
/// split's training rows (all rows for k-fold).
pub fn train(args: TrainArgs) -> Result<ExitCode> {
    if let Some(backbone) = &args.backbone
        && !args.finetune
    {
        let dataset =
            args.table.dataset.as_ref().ok_or_else(|| anyhow!("--backbone trains on --dataset SPEC"))?;
        let dataset = dataset.to_string_lossy();
        let job = TransferJob {
            dataset: &dataset,
            split: &args.table.split,
            backbone,
            embedding: &args.embedding,
            head: &args.head,
            params: &args.params,
            out: &args.out,
        };
        let evaluation = transfer_cmd::train_and_evaluate(&job)?;
        return network_cmd::conclude(&evaluation, Some(&args.out), args.report.as_deref());
    }
    let model = if args.finetune { args.backbone.clone() } else { args.model.clone() }.unwrap_or_default();
    if ArchitectureSpec::from_name(&model).is_some() {
        let dataset =
            args.table.dataset.as_ref().ok_or_else(|| anyhow!("networks train on --dataset SPEC"))?;
        let dataset = dataset.to_string_lossy();
        let job = NetworkJob {
            dataset: &dataset,
            split: &args.table.split,
            architecture: &model,
            segment: args.table.table.segment,
            out: &args.out,
            report: args.report.as_deref(),
        };
        return network_cmd::train(job, &args.network);
    }
    let (table, spec, reduce) = load(&args.table)?;
    let kind: ClassifierKind = model.parse()?;
    let params = parse_params(&args.params)?;
    let grid = Grid::parse(&args.grid).map_err(|e| anyhow!(e))?;
    let recipe = Recipe { kind, params, grid, reduce };
    let preprocessing = Preprocessing {
        feature_set: args.table.table.set.name().to_string(),
        sample_rate: args.table.table.sample_rate().unwrap_or(0),
        segment_seconds: args.segment_seconds.or(args.table.table.segment).unwrap_or(30.0),
        columns: table.columns.clone(),
    };
    let evaluation = evaluate(&table, &spec, &recipe, &preprocessing).map_err(|e| anyhow!(e))?;
    eprintln!(
        "{} on {}: accuracy {:.3}, macro F1 {:.3} ({} test rows)",
        kind, evaluation.split, evaluation.test.accuracy, evaluation.test.macro_f1, evaluation.n_test
    );
    if let Some(dir) = &args.report {
        let files = write_report(
            dir,
            &format!("{kind} on {}", args.table.source()),
            std::slice::from_ref(&evaluation),
            Some(&table),
        )
        .map_err(|e| anyhow!(e))?;
        eprintln!("report: {}", files.join(", "));
    }
    let rows: Vec<usize> = match &spec {
        SplitSpec::KFold { .. } => (0..table.len()).collect(),
        SplitSpec::Artist { .. } => (0..table.len()).collect(),
        _ => table.folds(&spec)?.remove(0).train,
    };
    let tuned = tune(&table, &rows, &recipe).map_err(|e| anyhow!(e))?;
    if let Some(score) = tuned.cv_score {
        eprintln!("grid search: best {:?} (mean 5-fold accuracy {score:.3})", tuned.params);
    }
    let provenance = serde_json::json!({
        "trained_on": args.table.source().to_string(),
        "training_rows": rows.len(),
        "params": tuned.params,
        "reduce": reduce.map(|r| r.to_string()),
        "evaluation": { "split": evaluation.split, "accuracy": evaluation.test.accuracy, "macro_f1": evaluation.test.macro_f1 },
    });
    let model = fit_model(&table, &rows, &recipe, &tuned.params, preprocessing, provenance)
        .map_err(|e| anyhow!(e))?;
    model.save(&args.out)?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Scores an existing model on the test rows of a split (every row for k-fold).
pub fn eval(args: EvalArgs) -> Result<ExitCode> {
    if let Some(dataset) = &args.table.dataset {
        let dataset = dataset.to_string_lossy();
        let spec = args.model.to_string_lossy();
        if NetworkFile::load(&args.model).is_ok() {
            return network_cmd::eval(
                &args.model,
                &dataset,
                &args.table.split,
                &args.report,
                args.max_seconds,
            );
        }
        // Taggers with a genre head, built-in models and ensembles are scored
        // on audio, as `classify` runs them.
        if spec.contains(',') || ModelFile::load(&args.model).is_err() {
            return network_cmd::eval_any(&spec, &dataset, &args.table.split, &args.report);
        }
    }
    let (table, spec, _) = load(&args.table)?;
    let model = ModelFile::load(&args.model)?;
    if model.preprocessing.columns != table.columns {
        bail!(
            "{}: the table's feature columns differ from those the model was trained on ({})",
            args.table.source(),
            args.model.display()
        );
    }
    let rows: Vec<usize> = table.folds(&spec)?.into_iter().flat_map(|f| f.test).collect();
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
        reduce: model.provenance.get("reduce").and_then(|r| r.as_str()).map(String::from),
        train: None,
        test: metrics,
        cv_best: None,
        params: Vec::new(),
        importances: None,
        fit_seconds: 0.0,
        n_test: rows.len(),
        test_truth: truth,
        test_probabilities: probs,
    };
    write_report(
        &args.report,
        &format!("{} on {}", args.model.display(), args.table.source()),
        &[evaluation],
        Some(&table),
    )
    .map_err(|e| anyhow!(e))?;
    Ok(ExitCode::SUCCESS)
}

/// Evaluates several model families on one split and writes the comparison
/// (and, with `--reduce-sweep`, the accuracy-and-time-versus-dimension table).
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    let (table, spec, reduce) = load(&args.table)?;
    let preprocessing = Preprocessing {
        feature_set: String::new(),
        sample_rate: 0,
        segment_seconds: 0.0,
        columns: table.columns.clone(),
    };
    let kinds: Vec<ClassifierKind> = args
        .models
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let recipe = |kind: ClassifierKind, reduce: Option<ReduceSpec>| Recipe {
        kind,
        params: Params::new(),
        grid: if args.no_tune { Grid::default() } else { Grid::default_for(kind) },
        reduce,
    };
    let progress = crate::progress::Progress::new(kinds.len(), "models");
    let mut evaluations = Vec::new();
    for &kind in &kinds {
        let e = evaluate(&table, &spec, &recipe(kind, reduce), &preprocessing).map_err(|e| anyhow!(e))?;
        progress.note(&format!(
            "{kind}: accuracy {:.3}, macro F1 {:.3}, fit {:.2} s",
            e.test.accuracy, e.test.macro_f1, e.fit_seconds
        ));
        progress.ok();
        evaluations.push(e);
    }
    progress.finish();
    let title = format!("Model comparison on {}", args.table.source());
    write_report(&args.report, &title, &evaluations, Some(&table)).map_err(|e| anyhow!(e))?;
    let mut sweep = Vec::new();
    let mut latent = None;
    if let Some(dims) = &args.reduce_sweep {
        let dims: Vec<usize> = dims
            .split(',')
            .map(|d| d.trim().parse().with_context(|| format!("--reduce-sweep: {d:?} is not a dimension")))
            .collect::<Result<_>>()?;
        let default_method = reduce
            .map_or("svd".to_string(), |r| r.to_string().split(':').next().unwrap_or("svd").to_string());
        let methods: Vec<String> = args
            .reduce_methods
            .as_deref()
            .unwrap_or(&default_method)
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        let progress = crate::progress::Progress::new(dims.len() * kinds.len() * methods.len(), "sweep");
        for method in &methods {
            for &n in &dims {
                let spec_n: ReduceSpec = format!("{method}:{n}").parse()?;
                for &kind in &kinds {
                    let e = evaluate(&table, &spec, &recipe(kind, Some(spec_n)), &preprocessing)
                        .map_err(|e| anyhow!(e))?;
                    progress.ok();
                    let width = if matches!(spec_n, ReduceSpec::Autoencoder { .. }) {
                        n
                    } else {
                        n.min(table.columns.len())
                    };
                    sweep.push((width, e));
                }
            }
        }
        progress.finish();
        if methods.iter().any(|m| m == "autoencoder") {
            latent = dims.iter().min().copied();
        }
    }
    let mut files = write_comparison(&args.report, &evaluations, &sweep).map_err(|e| anyhow!(e))?;
    if let Some(n) = latent {
        files.extend(write_latent_view(&args.report, &table, n).map_err(|e| anyhow!(e))?);
        let md = args.report.join("report.md");
        let mut text = std::fs::read_to_string(&md).unwrap_or_default();
        text.push_str(&format!(
            "\n## The dual-loss autoencoder's {n}-wide code\n\nFitted on the whole table (a view of \
             the training fit, not a held-out one), by t-SNE.\n\n![autoencoder code](autoencoder_tsne.png)\n"
        ));
        std::fs::write(&md, text).with_context(|| format!("{}: cannot write", md.display()))?;
    }
    eprintln!("report: {}", files.join(", "));
    Ok(ExitCode::SUCCESS)
}
