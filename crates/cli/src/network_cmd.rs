//! `genreid train --model ARCH` and `genreid eval`: the arguments of network
//! training turned into a `genreid_pipeline::training::network` job, its
//! events drawn as progress bars, its scores printed and reported. Datasets
//! are named `gtzan:PATH`, `fma:PATH`, `mtt:PATH`, `folder:PATH` or `csv:FILE`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use genreid_features::{Augmentation, InputKind, SpectrogramInput};
use genreid_models::neural::ArchitectureSpec;
use genreid_pipeline::training::network;
use genreid_train::neural::{NetworkEvaluation, Schedule, TrainConfig, write_network_report};

use crate::progress::Reporter;

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

/// Trains, saves and evaluates one network (test scores, history included);
/// shared by `train` and `experiment`.
pub fn train_and_evaluate(job: &NetworkJob<'_>, options: &NetworkOptions) -> Result<NetworkEvaluation> {
    let job = network::NetworkJob {
        dataset: job.dataset.to_string(),
        split: job.split.to_string(),
        architecture: job.architecture.to_string(),
        config: config_for(job, options)?,
        out: job.out.to_path_buf(),
        checkpoint: options.checkpoint.clone(),
        resume: options.resume,
        max_seconds: options.max_seconds,
    };
    let reporter = Reporter::default();
    Ok(network::train_and_evaluate(&job, &|e| reporter.event(e))?)
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
    let reporter = Reporter::default();
    let evaluation =
        network::evaluate_network_file(model, dataset, split, max_seconds, &|e| reporter.event(e))?;
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
    let reporter = Reporter::default();
    Ok(network::evaluate_any(model_spec, dataset, split, &|e| reporter.event(e))?)
}
