//! `genreid train --model ARCH` and `genreid eval` of network model files:
//! datasets named `gtzan:PATH`, `fma:PATH`, `mtt:PATH`, `folder:PATH` or
//! `csv:FILE`, spectrograms through the cache, splits by track before any
//! segment is cut, checkpoints and `--resume`, reports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use genreid_data::{Dataset, DatasetSpec, Fold, SpectrogramCache, SplitSpec, Track};
use genreid_features::{Augmentation, InputKind, SpectrogramInput};
use genreid_models::neural::{
    ArchitectureSpec, Classifier, NETWORK_VERSION, NetworkFile, NetworkManifest, weights_of,
};
use genreid_models::pretrained::PATCH_FRAMES;
use genreid_models::verdict::{ClassifyOptions, Probabilities};
use genreid_models::{FORMAT, classify_path, load_model};
use genreid_train::neural::{
    Checkpoint, NetworkEvaluation, Progress, Schedule, TrainConfig, TrainData, carve_validation,
    evaluate_network, pool_evaluations, score_tracks, train_network, write_network_report,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::progress::Progress as FileProgress;

/// Options of network training (`genreid train --model ARCH`).
#[derive(Debug, Clone, clap::Args)]
pub struct NetworkOptions {
    /// Network input: mel, stft or mfcc (dB, min-max normalised per segment).
    #[arg(long, default_value = "mel")]
    pub input: String,
    /// Mel bands (mel and mfcc inputs).
    #[arg(long, default_value_t = 128)]
    pub n_mels: usize,
    /// Training epochs (at most, with early stopping).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Segments per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// L2 weight decay [default: 1e-4 for crnn-l2reg/3conv/2conv, else 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// constant, step:EVERY:GAMMA, cosine or plateau:PATIENCE:FACTOR
    /// [default: step:10:0.5 for crnn-lrs, else constant].
    #[arg(long)]
    pub schedule: Option<String>,
    /// Stop after N epochs without a better validation loss and keep the best
    /// epoch (0: never stop early).
    #[arg(long, default_value_t = 8)]
    pub patience: usize,
    /// Weight classes by inverse frequency (imbalanced datasets such as FMA).
    #[arg(long)]
    pub class_weights: bool,
    /// SpecAugment: mask a random time band and frequency band of each training segment.
    #[arg(long)]
    pub spec_augment: bool,
    /// Waveform augmentation of the training tracks (seed 001), e.g.
    /// `noise:0.005,pitch:2,stretch:0.8-1.2,p:0.5,copies:2`: COPIES extra versions of
    /// each training track, each transform applied with probability P.
    #[arg(long)]
    pub augment: Option<String>,
    /// Overlap between training segments (0 to 0.9).
    #[arg(long, default_value_t = 0.0)]
    pub overlap: f64,
    /// Seed of initialisation, shuffling, dropout, masking and the validation carve-out.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Checkpoint folder [default: OUT with `.checkpoint` appended].
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run saved in the checkpoint folder.
    #[arg(long)]
    pub resume: bool,
    /// Seconds of each file decoded at most.
    #[arg(long, default_value_t = 600.0)]
    pub max_seconds: f64,
    /// PyTorch weights (`state_dict` as .pth or .safetensors, e.g. torchvision's
    /// ImageNet files) for an ImageNet network's backbone; the head starts fresh.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Epochs training only the head with the backbone frozen, before all layers
    /// train (seed 003's two-stage schedule; ImageNet networks; equal to
    /// --epochs trains the head alone).
    #[arg(long, default_value_t = 0)]
    pub freeze_epochs: usize,
    /// Learning rate once the backbone is unfrozen [default: 1e-4 with --freeze-epochs].
    #[arg(long)]
    pub finetune_lr: Option<f64>,
}

/// Everything `train` needs besides the network options.
pub struct NetworkJob<'a> {
    /// `--dataset` as given.
    pub dataset: &'a str,
    /// `--split` as given.
    pub split: &'a str,
    /// `--model`.
    pub architecture: &'a str,
    /// `--segment` (seconds).
    pub segment: Option<f64>,
    /// `--out`.
    pub out: &'a Path,
    /// `--report`.
    pub report: Option<&'a Path>,
}

/// Opens a dataset spec, printing what it holds.
pub fn open_dataset(spec: &str) -> Result<Dataset> {
    let spec = DatasetSpec::parse(spec)?;
    let ds = spec.open()?;
    let counts: Vec<String> = ds.counts().iter().map(|(l, n)| format!("{l} {n}")).collect();
    eprintln!("{spec}: {} tracks ({})", ds.tracks.len(), counts.join(", "));
    if ds.missing > 0 {
        eprintln!("warning: {} tracks listed by the dataset's metadata are not on disk", ds.missing);
    }
    Ok(ds)
}

/// Spectrograms of every track, from the cache or computed with a progress bar.
pub fn spectrograms(ds: &Dataset, input: &SpectrogramInput, max_seconds: f64) -> Result<SpectrogramCache> {
    spectrograms_of(&ds.tracks, input, max_seconds, None)
}

/// Spectrograms of `tracks` (augmented when asked), cached.
fn spectrograms_of(
    tracks: &[Track],
    input: &SpectrogramInput,
    max_seconds: f64,
    augmentation: Option<&Augmentation>,
) -> Result<SpectrogramCache> {
    let bar = ProgressBar::with_draw_target(Some(tracks.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} spectrograms [{bar:40}] {pos}/{len} {per_sec} ETA {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let dir = genreid_data::cache::default_dir().join("spectrograms");
    let cache =
        SpectrogramCache::open_or_build(&dir, tracks, input, max_seconds, augmentation, &|done, _| {
            bar.set_position(done as u64)
        })?;
    bar.finish_and_clear();
    eprintln!(
        "{} {} {}spectrograms ({} × {} per second of audio) {}",
        if cache.reused { "reused" } else { "computed" },
        tracks.len() - cache.failures.len(),
        if augmentation.is_some() { "augmented " } else { "" },
        input.bins(),
        f64::from(input.sample_rate) / input.hop_length as f64,
        cache.path.display()
    );
    for (path, reason) in &cache.failures {
        eprintln!("warning: skipped {}: {reason}", path.display());
    }
    Ok(cache)
}

/// The first fold of `split` over the dataset, by track.
fn first_fold(ds: &Dataset, split: &SplitSpec) -> Result<Fold> {
    let mut folds = ds.folds(split)?;
    if folds.len() > 1 {
        eprintln!("{split}: scoring the test tracks of fold 1 of {}", folds.len());
    }
    Ok(folds.remove(0))
}

/// Training bar: steps of the running epoch, with loss and accuracy.
fn training_bar(epochs: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(format!("epoch 1/{epochs}"));
    bar
}

fn config_for(job: &NetworkJob<'_>, o: &NetworkOptions) -> Result<TrainConfig> {
    let architecture = ArchitectureSpec::from_name(job.architecture)
        .ok_or_else(|| anyhow!("{:?} is not a network architecture", job.architecture))?;
    let input = if matches!(architecture, ArchitectureSpec::Musicnn { .. }) {
        // musicnn reads its own input, whatever --input says.
        SpectrogramInput::musicnn()
    } else {
        let kind: InputKind = o.input.parse()?;
        let mut input = SpectrogramInput::new(kind);
        input.n_mels = o.n_mels;
        input
    };
    input.validate()?;
    let segment = job.segment.unwrap_or(3.0);
    if !(segment > 0.0 && segment <= 600.0) {
        bail!("--segment must lie between 0 and 600 seconds");
    }
    let mut c = TrainConfig::new(job.architecture, architecture, input, segment);
    c.epochs = o.epochs;
    c.batch_size = o.batch_size;
    c.learning_rate = o.lr;
    if let Some(wd) = o.weight_decay {
        c.weight_decay = wd;
    }
    if let Some(s) = &o.schedule {
        c.schedule = s.parse::<Schedule>().map_err(|e| anyhow!(e))?;
    }
    c.patience = (o.patience > 0).then_some(o.patience);
    c.class_weights = o.class_weights;
    c.spec_augment = o.spec_augment;
    if !(0.0..0.95).contains(&o.overlap) {
        bail!("--overlap must lie in [0, 0.95)");
    }
    c.overlap = o.overlap;
    c.seed = o.seed;
    c.augmentation =
        o.augment.as_deref().map(str::parse::<Augmentation>).transpose().map_err(|e| anyhow!(e))?;
    if let Some(path) = &o.weights
        && !path.is_file()
    {
        bail!("--weights {}: no such file", path.display());
    }
    c.pretrained = o.weights.clone();
    if o.freeze_epochs > o.epochs {
        bail!("--freeze-epochs ({}) is more than --epochs ({})", o.freeze_epochs, o.epochs);
    }
    c.freeze_epochs = o.freeze_epochs;
    c.finetune_learning_rate = o.finetune_lr.or((o.freeze_epochs > 0).then_some(1e-4));
    Ok(c)
}

/// A short name for a run: architecture, input and segment length.
pub fn run_name(architecture: &str, config: &TrainConfig) -> String {
    format!("{architecture} {} {}s", config.input.kind, config.segment_seconds)
}

/// Trains, saves and evaluates one network (test scores, history included);
/// shared by `train` and `experiment`.
pub fn train_and_evaluate(job: &NetworkJob<'_>, options: &NetworkOptions) -> Result<NetworkEvaluation> {
    let config = config_for(job, options)?;
    let ds = open_dataset(job.dataset)?;
    let classes = ds.classes();
    if classes.len() < 2 {
        bail!("{}: need at least two labels to train a classifier", job.dataset);
    }
    let split = SplitSpec::parse(job.split)?;
    let folds = ds.folds(&split)?;
    let targets: Vec<usize> =
        ds.tracks.iter().map(|t| classes.binary_search(&t.label).unwrap_or(0)).collect();
    let cache = spectrograms(&ds, &config.input, options.max_seconds)?;
    let base = options.checkpoint.clone().unwrap_or_else(|| {
        let mut s = job.out.as_os_str().to_owned();
        s.push(".checkpoint");
        PathBuf::from(s)
    });
    let ctx = FoldContext {
        job,
        options,
        config: &config,
        ds: &ds,
        classes: &classes,
        targets: &targets,
        cache: &cache,
    };
    if folds.len() == 1 {
        return train_fold(&ctx, &folds[0], &split, job.out, &base);
    }
    // Cross-validation: one network per fold, test predictions pooled. Fold
    // 1's network is saved as OUT, the others beside it as STEM.foldK.genreid.
    let mut evaluations = Vec::new();
    for (k, fold) in folds.iter().enumerate() {
        eprintln!("\n-- fold {} of {} --", k + 1, folds.len());
        let (out, checkpoint) = if k == 0 {
            (job.out.to_path_buf(), base.clone())
        } else {
            let suffixed = |p: &Path, suffix: &str| {
                let mut s = p.as_os_str().to_owned();
                s.push(suffix);
                PathBuf::from(s)
            };
            let stem =
                job.out.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
            let out = job.out.with_file_name(format!("{stem}.fold{}.genreid", k + 1));
            (out, suffixed(&base, &format!(".fold{}", k + 1)))
        };
        evaluations.push(train_fold(&ctx, fold, &split, &out, &checkpoint)?);
    }
    Ok(pool_evaluations(&evaluations, &classes, &split.to_string()))
}

/// What every fold of one run shares.
struct FoldContext<'a> {
    job: &'a NetworkJob<'a>,
    options: &'a NetworkOptions,
    config: &'a TrainConfig,
    ds: &'a Dataset,
    classes: &'a [String],
    targets: &'a [usize],
    cache: &'a SpectrogramCache,
}

/// Trains, saves (to `out`) and evaluates the network of one fold.
fn train_fold(
    ctx: &FoldContext<'_>,
    fold: &Fold,
    split: &SplitSpec,
    out: &Path,
    checkpoint_dir: &Path,
) -> Result<NetworkEvaluation> {
    let FoldContext { job, options, config, ds, classes, targets, cache } = *ctx;
    let config = config.clone();
    let (train, valid) = if fold.valid.is_empty() {
        let (t, v) = carve_validation(&fold.train, targets, 0.1, config.seed);
        eprintln!(
            "validation: {} of the {} training tracks held out for early stopping",
            v.len(),
            fold.train.len()
        );
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
        Some(a) => Some(spectrograms_of(&augmented_tracks, &config.input, options.max_seconds, Some(a))?),
        None => None,
    };
    let checkpoint = Checkpoint::new(checkpoint_dir);
    if checkpoint.exists() && !options.resume {
        bail!(
            "{} holds an earlier run: pass --resume to continue it, or remove the folder to start over",
            checkpoint_dir.display()
        );
    }
    let data = TrainData {
        cache,
        targets,
        classes: classes.len(),
        train: &train,
        valid: &valid,
        augmented: augmented_cache.as_ref().map(|c| (c, augmented_targets.as_slice())),
    };
    let name = run_name(job.architecture, &config);
    eprintln!(
        "training {name}: {} training / {} validation / {} test tracks, split {split}",
        train.len(),
        valid.len(),
        fold.test.len()
    );
    let bar = training_bar(config.epochs);
    let trained = train_network(&config, &data, Some(&checkpoint), &|p| match p {
        Progress::Step { epoch, step, steps, loss, accuracy } => {
            bar.set_length(steps as u64);
            bar.set_position(step as u64);
            bar.set_prefix(format!("epoch {epoch}/{}", config.epochs));
            bar.set_message(format!("loss {loss:.4} acc {accuracy:.3}"));
        }
        Progress::Epoch(s) => bar.suspend(|| {
            eprintln!(
                "epoch {:>3}: lr {:.1e}  loss {:.4}  acc {:.3}  valid loss {:.4}  valid acc {:.3}  ({:.1} s)",
                s.epoch,
                s.learning_rate,
                s.train_loss,
                s.train_accuracy,
                s.valid_loss,
                s.valid_accuracy,
                s.seconds
            )
        }),
        Progress::Resumed(n) => {
            bar.suspend(|| eprintln!("resumed from {} after epoch {n}", checkpoint_dir.display()))
        }
        Progress::Imported { tensors } => bar.suspend(|| {
            let file = config.pretrained.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
            eprintln!(
                "imported {tensors} pretrained tensors from {file} (new head for {} classes)",
                classes.len()
            )
        }),
        Progress::Stopped { best_epoch } => {
            bar.suspend(|| eprintln!("early stopping: no better validation loss since epoch {best_epoch}"))
        }
    })
    .map_err(|e| anyhow!(e))?;
    bar.finish_and_clear();
    eprintln!("{name}: {} parameters, weights of epoch {} kept", trained.parameters, trained.best_epoch);
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
    let mut evaluation = evaluate_network(&classifier, cache, targets, &fold.test, &name, &split.to_string())
        .map_err(|e| anyhow!(e))?;
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
    file.save(out).with_context(|| format!("{}: cannot write the model", out.display()))?;
    Ok(evaluation)
}

/// Prints the scores of one evaluation.
pub fn print_summary(e: &NetworkEvaluation) {
    if e.segment_seconds == 0.0 {
        eprintln!(
            "{}: {} test tracks: track accuracy {:.3} (macro F1 {:.3}) by mean probability, {:.3} by vote",
            e.model, e.n_tracks, e.track_accuracy_mean, e.track_macro_f1_mean, e.track_accuracy_vote
        );
        return;
    }
    eprintln!(
        "{}: {} test tracks, {} segments of {} s: segment accuracy {:.3} (macro F1 {:.3}), \
         track accuracy {:.3} by mean probability, {:.3} by majority vote",
        e.model,
        e.n_tracks,
        e.n_segments,
        e.segment_seconds,
        e.accuracy,
        e.macro_f1,
        e.track_accuracy_mean,
        e.track_accuracy_vote
    );
}

/// The end of every train and eval command: the scores, the model file
/// written (if any) and the report (if asked for).
pub fn conclude(e: &NetworkEvaluation, saved: Option<&Path>, report: Option<&Path>) -> Result<ExitCode> {
    print_summary(e);
    if let Some(path) = saved {
        eprintln!("saved {}", path.display());
    }
    if let Some(dir) = report {
        let files = write_network_report(dir, &e.model, e).map_err(|err| anyhow!(err))?;
        eprintln!("report: {}", files.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `genreid train --model ARCH ...`.
pub fn train(job: NetworkJob<'_>, options: &NetworkOptions) -> Result<ExitCode> {
    let run = train_and_evaluate(&job, options)?;
    conclude(&run, Some(job.out), job.report)
}

/// `genreid eval --model NETWORK.genreid --dataset SPEC --split SPEC --report DIR`.
pub fn eval(model: &Path, dataset: &str, split: &str, report: &Path, max_seconds: f64) -> Result<ExitCode> {
    let file = NetworkFile::load(model)?;
    let m = file.manifest.clone();
    let ds = open_dataset(dataset)?;
    let split_spec = SplitSpec::parse(split)?;
    let fold = first_fold(&ds, &split_spec)?;
    let unknown: Vec<String> = ds.classes().into_iter().filter(|l| !m.labels.contains(l)).collect();
    if !unknown.is_empty() {
        bail!("{dataset}: labels the model does not know: {}", unknown.join(", "));
    }
    let targets: Vec<usize> =
        ds.tracks.iter().map(|t| m.labels.iter().position(|l| *l == t.label).unwrap_or(0)).collect();
    let cache = spectrograms(&ds, &m.input, max_seconds)?;
    let classifier = Classifier::new(file)?;
    let name = format!(
        "{} ({})",
        model.display(),
        m.provenance.get("architecture").and_then(|v| v.as_str()).unwrap_or("network")
    );
    let evaluation =
        evaluate_network(&classifier, &cache, &targets, &fold.test, &name, &split_spec.to_string())
            .map_err(|e| anyhow!(e))?;
    conclude(&evaluation, None, Some(report))
}

/// `genreid eval --model SPEC --dataset SPEC ...` for any model that is not a
/// single network file (a tagger with a genre head, a classical model on
/// audio, an ensemble): every test track classified as `classify` does, its
/// segments (or, for an ensemble, the track itself) scored like a network's.
pub fn eval_any(model_spec: &str, dataset: &str, split: &str, report: &Path) -> Result<ExitCode> {
    conclude(&evaluate_any(model_spec, dataset, split)?, None, Some(report))
}

/// Scores any model (`--model` spec: built-in, file, ensemble) on the test
/// tracks of a dataset split, classifying the audio as `classify` does.
pub fn evaluate_any(model_spec: &str, dataset: &str, split: &str) -> Result<NetworkEvaluation> {
    let model = load_model(Some(model_spec))?;
    let labels = model.labels();
    let ds = open_dataset(dataset)?;
    let split_spec = SplitSpec::parse(split)?;
    let fold = first_fold(&ds, &split_spec)?;
    let unknown: Vec<String> = ds.classes().into_iter().filter(|l| !labels.contains(l)).collect();
    if !unknown.is_empty() {
        bail!("{dataset}: labels the model does not know: {}", unknown.join(", "));
    }
    let progress = FileProgress::new(fold.test.len(), "classify");
    let scored: Vec<Option<(usize, Vec<Vec<f64>>)>> = fold
        .test
        .par_iter()
        .map(|&t| {
            let track = &ds.tracks[t];
            let options = ClassifyOptions { hop: PATCH_FRAMES, segments: true, ..Default::default() };
            match classify_path(&model, &track.path, &options) {
                Ok(v) => {
                    progress.ok();
                    let row = |p: &Probabilities| -> Vec<f64> {
                        labels
                            .iter()
                            .map(|l| p.get(l).and_then(serde_json::Value::as_f64).unwrap_or(0.0))
                            .collect()
                    };
                    let segments = match &v.segments {
                        Some(s) if !s.is_empty() => s.iter().map(|s| row(&s.probabilities)).collect(),
                        _ => vec![row(&v.probabilities)],
                    };
                    let truth = labels.iter().position(|l| *l == track.label).unwrap_or(0);
                    Some((truth, segments))
                }
                Err(e) => {
                    progress.failed(&e.to_string());
                    None
                }
            }
        })
        .collect();
    progress.finish();
    let per_track: Vec<(usize, Vec<Vec<f64>>)> = scored.into_iter().flatten().collect();
    if per_track.is_empty() {
        bail!("no test track could be classified");
    }
    Ok(score_tracks(&labels, &per_track, model_spec, &split_spec.to_string(), 0.0, 0))
}
