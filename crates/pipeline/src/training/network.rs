//! Networks trained on spectrogram segments of a dataset: spectrograms
//! through the cache, splits by track before any segment is cut, a network
//! per fold with checkpoints and resume, the test tracks scored, the model
//! file written. Also the evaluation of a saved network, or of any model,
//! on a dataset's test tracks.

use std::path::{Path, PathBuf};

use genreid_data::{Dataset, Fold, SpectrogramCache, SplitSpec, Track};
use genreid_models::FORMAT;
use genreid_models::neural::{Classifier, NETWORK_VERSION, NetworkFile, NetworkManifest, weights_of};
use genreid_models::pretrained::PATCH_FRAMES;
use genreid_train::neural::{
    Checkpoint, NetworkEvaluation, TrainConfig, TrainData, carve_validation, evaluate_network,
    pool_evaluations, score_tracks, train_network,
};
use rayon::prelude::*;

use super::{Event, Observer, first_fold, open_dataset, spectrograms, suffixed};
use crate::error::{PipelineError, Result};
use crate::registry::load_model;
use crate::verdict::{ClassifyOptions, Probabilities, classify_path};

/// One network training run.
#[derive(Debug, Clone)]
pub struct NetworkJob {
    /// Dataset spec (`gtzan:PATH`, ...).
    pub dataset: String,
    /// Split spec (`holdout:0.2`, `kfold:5`, ...).
    pub split: String,
    /// The architecture's name as the user gave it (`vgg`, `crnn-lrs`, ...).
    pub architecture: String,
    /// Network, input, segments and optimisation.
    pub config: TrainConfig,
    /// Where the model file goes (fold K of a cross-validation beside it as `STEM.foldK.genreid`).
    pub out: PathBuf,
    /// Checkpoint folder (default: `out` with `.checkpoint` appended).
    pub checkpoint: Option<PathBuf>,
    /// Continue the run saved in the checkpoint folder.
    pub resume: bool,
    /// Seconds of each file decoded at most.
    pub max_seconds: f64,
}

/// A short name for a run: architecture, input and segment length.
pub fn run_name(architecture: &str, config: &TrainConfig) -> String {
    format!("{architecture} {} {}s", config.input.kind, config.segment_seconds)
}

/// Trains, saves and evaluates the job's network (test scores and history
/// included); with several folds, one network per fold and the test
/// predictions pooled.
pub fn train_and_evaluate(job: &NetworkJob, on: Observer<'_>) -> Result<NetworkEvaluation> {
    let ds = open_dataset(&job.dataset, on)?;
    let classes = ds.classes();
    if classes.len() < 2 {
        return Err(PipelineError::Invalid(format!(
            "{}: need at least two labels to train a classifier",
            job.dataset
        )));
    }
    let split = SplitSpec::parse(&job.split)?;
    let folds = ds.folds(&split)?;
    let targets: Vec<usize> =
        ds.tracks.iter().map(|t| classes.binary_search(&t.label).unwrap_or(0)).collect();
    let cache = spectrograms(&ds.tracks, &job.config.input, job.max_seconds, None, on)?;
    let base = job.checkpoint.clone().unwrap_or_else(|| suffixed(&job.out, ".checkpoint"));
    let ctx =
        FoldContext { job, ds: &ds, classes: &classes, targets: &targets, cache: &cache, split: &split, on };
    if folds.len() == 1 {
        return train_fold(&ctx, &folds[0], &job.out, &base);
    }
    // Fold 1's network is saved as OUT, the others beside it as STEM.foldK.genreid.
    let mut evaluations = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        on(Event::Note(&format!("\n-- fold {} of {} --", k + 1, folds.len())));
        let (out, checkpoint) = if k == 0 {
            (job.out.clone(), base.clone())
        } else {
            let stem =
                job.out.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
            (
                job.out.with_file_name(format!("{stem}.fold{}.genreid", k + 1)),
                suffixed(&base, &format!(".fold{}", k + 1)),
            )
        };
        evaluations.push(train_fold(&ctx, fold, &out, &checkpoint)?);
    }
    Ok(pool_evaluations(&evaluations, &classes, &split.to_string()))
}

/// What every fold of one run shares.
struct FoldContext<'a> {
    job: &'a NetworkJob,
    ds: &'a Dataset,
    classes: &'a [String],
    targets: &'a [usize],
    cache: &'a SpectrogramCache,
    split: &'a SplitSpec,
    on: Observer<'a>,
}

/// Trains, saves (to `out`) and evaluates the network of one fold.
fn train_fold(
    ctx: &FoldContext<'_>,
    fold: &Fold,
    out: &Path,
    checkpoint_dir: &Path,
) -> Result<NetworkEvaluation> {
    let FoldContext { job, ds, classes, targets, cache, split, on } = *ctx;
    let config = &job.config;
    let (train, valid) = if fold.valid.is_empty() {
        let (t, v) = carve_validation(&fold.train, targets, 0.1, config.seed);
        on(Event::Note(&format!(
            "validation: {} of the {} training tracks held out for early stopping",
            v.len(),
            fold.train.len()
        )));
        (t, v)
    } else {
        (fold.train.clone(), fold.valid.clone())
    };
    // Augmented copies of the training tracks only: validation and test stay clean.
    let (augmented_tracks, augmented_targets): (Vec<Track>, Vec<usize>) = match &config.augmentation {
        Some(a) => {
            (0..a.copies).flat_map(|_| train.iter().map(|&t| (ds.tracks[t].clone(), targets[t]))).unzip()
        }
        None => (Vec::new(), Vec::new()),
    };
    let augmented_cache = match &config.augmentation {
        Some(a) => Some(spectrograms(&augmented_tracks, &config.input, job.max_seconds, Some(a), on)?),
        None => None,
    };
    let checkpoint = Checkpoint::new(checkpoint_dir);
    if checkpoint.exists() && !job.resume {
        return Err(PipelineError::Invalid(format!(
            "{} holds an earlier run: pass --resume to continue it, or remove the folder to start over",
            checkpoint_dir.display()
        )));
    }
    let data = TrainData {
        cache,
        targets,
        classes: classes.len(),
        train: &train,
        valid: &valid,
        augmented: augmented_cache.as_ref().map(|c| (c, augmented_targets.as_slice())),
    };
    let name = run_name(&job.architecture, config);
    on(Event::Note(&format!(
        "training {name}: {} training / {} validation / {} test tracks, split {split}",
        train.len(),
        valid.len(),
        fold.test.len()
    )));
    on(Event::TrainingStarted { epochs: config.epochs });
    let trained = train_network(config, &data, Some(&checkpoint), &|p| on(Event::Training(&p)));
    on(Event::TrainingFinished);
    let trained = trained?;
    on(Event::Note(&format!(
        "{name}: {} parameters, weights of epoch {} kept",
        trained.parameters, trained.best_epoch
    )));
    let manifest = NetworkManifest {
        format: FORMAT.into(),
        version: NETWORK_VERSION,
        architecture: config.architecture.clone(),
        labels: classes.to_vec(),
        input: config.input.clone(),
        segment_seconds: config.segment_seconds,
        parameters: trained.parameters,
        provenance: serde_json::json!({
            "trained_on": ds.spec.to_string(),
            "architecture": job.architecture,
            "split": split.to_string(),
            "tracks": {"train": train.len(), "valid": valid.len(), "test": fold.test.len()},
            "config": config,
            "best_epoch": trained.best_epoch,
            "epochs_run": trained.history.len(),
            "train_seconds": trained.seconds,
        }),
    };
    let mut file = NetworkFile { manifest, weights: weights_of(&trained.network) };
    let classifier = Classifier::new(file.clone())?;
    let mut evaluation =
        evaluate_network(&classifier, cache, targets, &fold.test, &name, &split.to_string())?;
    evaluation.fit_seconds = trained.seconds;
    evaluation.best_epoch = trained.best_epoch;
    evaluation.history = trained.history;
    if let Some(p) = file.manifest.provenance.as_object_mut() {
        p.insert(
            "test".into(),
            serde_json::json!({
                "segment_accuracy": evaluation.accuracy,
                "track_accuracy_mean": evaluation.track_accuracy_mean,
                "track_accuracy_vote": evaluation.track_accuracy_vote,
                "macro_f1": evaluation.macro_f1,
            }),
        );
    }
    file.save(out).map_err(|e| PipelineError::Write {
        path: out.to_path_buf(),
        reason: format!("cannot write the model: {e}"),
    })?;
    Ok(evaluation)
}

/// Checks that a dataset holds only labels a model knows.
fn known_labels(dataset: &str, ds: &Dataset, labels: &[String]) -> Result<()> {
    let unknown: Vec<String> = ds.classes().into_iter().filter(|l| !labels.contains(l)).collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(PipelineError::Invalid(format!(
            "{dataset}: labels the model does not know: {}",
            unknown.join(", ")
        )))
    }
}

/// Scores a saved network file on the test tracks of a dataset split.
pub fn evaluate_network_file(
    model: &Path,
    dataset: &str,
    split: &str,
    max_seconds: f64,
    on: Observer<'_>,
) -> Result<NetworkEvaluation> {
    let file = NetworkFile::load(model)?;
    let m = file.manifest.clone();
    let ds = open_dataset(dataset, on)?;
    let split_spec = SplitSpec::parse(split)?;
    let fold = first_fold(&ds, &split_spec, on)?;
    known_labels(dataset, &ds, &m.labels)?;
    let targets: Vec<usize> =
        ds.tracks.iter().map(|t| m.labels.iter().position(|l| *l == t.label).unwrap_or(0)).collect();
    let cache = spectrograms(&ds.tracks, &m.input, max_seconds, None, on)?;
    let classifier = Classifier::new(file)?;
    let name = format!(
        "{} ({})",
        model.display(),
        m.provenance.get("architecture").and_then(|v| v.as_str()).unwrap_or("network")
    );
    Ok(evaluate_network(&classifier, &cache, &targets, &fold.test, &name, &split_spec.to_string())?)
}

/// Scores any model (a `--model` spec: built-in, file, ensemble) on the
/// test tracks of a dataset split, classifying the audio as `classify`
/// does: each track's segments (or, for an ensemble, the track itself).
pub fn evaluate_any(
    model_spec: &str,
    dataset: &str,
    split: &str,
    on: Observer<'_>,
) -> Result<NetworkEvaluation> {
    let model = load_model(Some(model_spec))?;
    let labels = model.labels();
    let ds = open_dataset(dataset, on)?;
    let split_spec = SplitSpec::parse(split)?;
    let fold = first_fold(&ds, &split_spec, on)?;
    known_labels(dataset, &ds, &labels)?;
    on(Event::PassStarted { what: "classify", total: fold.test.len() });
    let done = std::sync::atomic::AtomicUsize::new(0);
    let options = ClassifyOptions { hop: PATCH_FRAMES, segments: true, ..Default::default() };
    let row = |p: &Probabilities| -> Vec<f64> {
        labels.iter().map(|l| p.get(l).and_then(serde_json::Value::as_f64).unwrap_or(0.0)).collect()
    };
    let scored: Vec<Option<(usize, Vec<Vec<f64>>)>> = fold
        .test
        .par_iter()
        .map(|&t| {
            let track = &ds.tracks[t];
            let outcome = match classify_path(&model, &track.path, &options) {
                Ok(v) => {
                    let segments = match &v.segments {
                        Some(s) if !s.is_empty() => s.iter().map(|s| row(&s.probabilities)).collect(),
                        _ => vec![row(&v.probabilities)],
                    };
                    Some((labels.iter().position(|l| *l == track.label).unwrap_or(0), segments))
                }
                Err(e) => {
                    on(Event::PassFailed(&e.to_string()));
                    None
                }
            };
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            on(Event::PassProgress { done: n });
            outcome
        })
        .collect();
    on(Event::PassFinished);
    let per_track: Vec<(usize, Vec<Vec<f64>>)> = scored.into_iter().flatten().collect();
    if per_track.is_empty() {
        return Err(PipelineError::Invalid("no test track could be classified".into()));
    }
    Ok(score_tracks(&labels, &per_track, model_spec, &split_spec.to_string(), 0.0, 0))
}
