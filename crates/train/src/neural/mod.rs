//! Training networks on spectrogram segments: Adam with weight decay,
//! learning-rate schedules, early stopping on validation loss, class
//! weights, SpecAugment, seeded and reproducible, with a checkpoint after
//! every epoch that `resume` continues exactly; then segment- and
//! track-level evaluation (mean probability and majority vote), the same
//! metrics as the classical models.

mod checkpoint;
mod evaluate;
pub mod segments;

pub use checkpoint::Checkpoint;
pub use evaluate::{
    NetworkEvaluation, TrackScores, evaluate_network, pool_evaluations, score_tracks, write_network_report,
};

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use genreid_data::{SpectrogramCache, SplitMix64};
use genreid_features::{Augmentation, SpectrogramInput};
use genreid_models::neural::image::read_torch_weights;
use genreid_models::neural::{ArchitectureSpec, Network, parameter_count, with_stable_ids};
use serde::{Deserialize, Serialize};

use segments::{Cutting, Segment, read_batch, segments_of, spec_augment};

/// A learning-rate schedule, applied once per epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// Multiply by `gamma` every `every` epochs (`step:EVERY:GAMMA`).
    Step {
        /// Epochs between drops.
        every: usize,
        /// Factor per drop.
        gamma: f64,
    },
    /// Cosine annealing from the initial rate to zero over the epochs (`cosine`).
    Cosine,
    /// Multiply by `factor` when validation loss has not improved for
    /// `patience` epochs (`plateau:PATIENCE:FACTOR`, Keras's ReduceLROnPlateau).
    Plateau {
        /// Epochs without improvement before a drop.
        patience: usize,
        /// Factor per drop.
        factor: f64,
    },
}

impl std::str::FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |i: usize, default: f64| -> Result<f64, String> {
            parts.get(i).map_or(Ok(default), |v| {
                v.parse().map_err(|_| format!("schedule {s:?}: {v:?} is not a number"))
            })
        };
        match parts[0] {
            "constant" | "none" => Ok(Self::Constant),
            "step" => Ok(Self::Step { every: num(1, 10.0)?.max(1.0) as usize, gamma: num(2, 0.5)? }),
            "cosine" => Ok(Self::Cosine),
            "plateau" => Ok(Self::Plateau { patience: num(1, 3.0)? as usize, factor: num(2, 0.5)? }),
            _ => Err(format!(
                "schedule {s:?}: expected constant, step:EVERY:GAMMA, cosine or plateau:PATIENCE:FACTOR"
            )),
        }
    }
}

/// Everything that shapes a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The network.
    pub architecture: ArchitectureSpec,
    /// The input picture.
    pub input: SpectrogramInput,
    /// Seconds per segment (30, 10, 3, 2, ...).
    pub segment_seconds: f64,
    /// Fraction of overlap between consecutive training segments (0 ≤ o < 1).
    pub overlap: f64,
    /// Epochs at most.
    pub epochs: usize,
    /// Segments per step.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub learning_rate: f64,
    /// L2 weight decay added to the gradients (Adam's, as Keras/PyTorch `weight_decay`).
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss (restoring the best).
    pub patience: Option<usize>,
    /// Weight classes by inverse frequency in the loss (for imbalanced sets such as FMA).
    pub class_weights: bool,
    /// SpecAugment masking of training segments.
    pub spec_augment: bool,
    /// Waveform augmentation: extra copies of the training tracks.
    #[serde(default)]
    pub augmentation: Option<Augmentation>,
    /// Seed of initialisation, shuffling, dropout and masking.
    pub seed: u64,
    /// PyTorch weights (`.pth` or `.safetensors` `state_dict`) for an
    /// ImageNet network's backbone; its head starts fresh for these labels.
    #[serde(default)]
    pub pretrained: Option<PathBuf>,
    /// Epochs with everything but the head frozen before all layers train
    /// (seed 003's two-stage schedule; 0 trains all layers from the start).
    #[serde(default)]
    pub freeze_epochs: usize,
    /// Learning rate once the backbone is unfrozen (seed 003: 1e-4).
    #[serde(default)]
    pub finetune_learning_rate: Option<f64>,
}

impl TrainConfig {
    /// Defaults for `architecture` (seed 000's recipe for its CRNN variants:
    /// weight decay for L2Reg, a step schedule for LRS).
    pub fn new(
        name: &str,
        architecture: ArchitectureSpec,
        input: SpectrogramInput,
        segment_seconds: f64,
    ) -> Self {
        let mut c = Self {
            architecture,
            input,
            segment_seconds,
            overlap: 0.0,
            epochs: 30,
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            schedule: Schedule::Constant,
            patience: Some(8),
            class_weights: false,
            spec_augment: false,
            augmentation: None,
            seed: 0,
            pretrained: None,
            freeze_epochs: 0,
            finetune_learning_rate: None,
        };
        match name {
            "crnn-l2reg" | "crnn-3conv" | "crnn-2conv" => c.weight_decay = 1e-4,
            "crnn-lrs" => c.schedule = Schedule::Step { every: 10, gamma: 0.5 },
            _ => {}
        }
        c
    }

    /// How segments are cut for training.
    pub fn cutting(&self) -> Cutting {
        let frames = self.input.segment_frames(self.segment_seconds);
        let full = self.input.hop_frames(self.segment_seconds);
        let hop = ((full as f64) * (1.0 - self.overlap.clamp(0.0, 0.95))).round().max(1.0) as usize;
        Cutting { frames, hop }
    }

    /// Segments as evaluation cuts them (never overlapping).
    pub fn eval_cutting(&self) -> Cutting {
        Cutting {
            frames: self.input.segment_frames(self.segment_seconds),
            hop: self.input.hop_frames(self.segment_seconds),
        }
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training segment accuracy (with dropout active).
    pub train_accuracy: f64,
    /// Validation loss (NaN, `null` in JSON, without validation tracks).
    #[serde(with = "nan_as_null")]
    pub valid_loss: f64,
    /// Validation segment accuracy (NaN, `null` in JSON, without validation tracks).
    #[serde(with = "nan_as_null")]
    pub valid_accuracy: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// JSON has no NaN: a missing measurement is written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_some(v) } else { s.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Progress reports from training.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A step finished: epoch, step, steps per epoch, running loss and accuracy.
    Step {
        /// 1-based epoch.
        epoch: usize,
        /// Steps done this epoch.
        step: usize,
        /// Steps per epoch.
        steps: usize,
        /// Mean loss so far this epoch.
        loss: f64,
        /// Accuracy so far this epoch.
        accuracy: f64,
    },
    /// An epoch finished.
    Epoch(EpochStats),
    /// Training resumed from a checkpoint after this many epochs.
    Resumed(usize),
    /// Pretrained backbone weights were imported.
    Imported {
        /// Tensors taken from the file.
        tensors: usize,
    },
    /// Early stopping triggered.
    Stopped {
        /// Epoch with the best validation loss (restored).
        best_epoch: usize,
    },
}

/// A trained network and how it got there.
#[derive(Debug)]
pub struct Trained {
    /// The network (best validation epoch when early stopping is on).
    pub network: Network,
    /// Per-epoch statistics.
    pub history: Vec<EpochStats>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Segments trained on per epoch.
    pub train_segments: usize,
    /// Seconds spent training (this process and any resumed ones).
    pub seconds: f64,
}

/// The data a run trains on.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    /// Pictures of every track.
    pub cache: &'a SpectrogramCache,
    /// Class index of every track.
    pub targets: &'a [usize],
    /// Number of classes.
    pub classes: usize,
    /// Tracks to fit on.
    pub train: &'a [usize],
    /// Tracks for early stopping and schedules.
    pub valid: &'a [usize],
    /// Augmented copies of training tracks (every entry trains) and their
    /// class indices.
    pub augmented: Option<(&'a SpectrogramCache, &'a [usize])>,
}

impl TrainData<'_> {
    fn sources(&self) -> Vec<&SpectrogramCache> {
        std::iter::once(self.cache).chain(self.augmented.map(|a| a.0)).collect()
    }

    fn target(&self, s: &Segment) -> usize {
        match (s.source, self.augmented) {
            (1, Some((_, targets))) => targets[s.track],
            _ => self.targets[s.track],
        }
    }
}

fn lr_at(config: &TrainConfig, epoch: usize, plateau_lr: f64) -> f64 {
    if epoch > config.freeze_epochs
        && config.freeze_epochs > 0
        && let Some(finetune) = config.finetune_learning_rate
    {
        return finetune;
    }
    let base = config.learning_rate;
    match config.schedule {
        Schedule::Constant => base,
        Schedule::Step { every, gamma } => base * gamma.powi(((epoch - 1) / every.max(1)) as i32),
        Schedule::Cosine => {
            let t = (epoch - 1) as f64 / config.epochs.max(1) as f64;
            0.5 * base * (1.0 + (std::f64::consts::PI * t).cos())
        }
        Schedule::Plateau { .. } => plateau_lr,
    }
}

/// Weighted cross-entropy (mean over the batch weighted as PyTorch's
/// `CrossEntropyLoss(weight=...)`), and the batch's correct predictions.
fn loss_and_hits(
    logits: Tensor<2>,
    targets: &[usize],
    weights: &[f32],
    device: &Device,
) -> (Tensor<1>, usize) {
    let [b, k] = logits.dims();
    let predicted: Vec<usize> = {
        let v = logits.clone().detach().into_data().try_to_vec::<f32>().unwrap_or_default();
        v.chunks(k).map(|row| (0..k).fold(0, |best, i| if row[i] > row[best] { i } else { best })).collect()
    };
    let hits = predicted.iter().zip(targets).filter(|(p, t)| p == t).count();
    let idx: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
    let idx = Tensor::<2, Int>::from_data(TensorData::new(idx, [b, 1]), device);
    let w: Vec<f32> = targets.iter().map(|&t| weights[t]).collect();
    let total: f32 = w.iter().sum();
    let w = Tensor::<2>::from_data(TensorData::new(w, [b, 1]), device);
    let picked = log_softmax(logits, 1).gather(1, idx);
    ((picked * w).sum().neg() / f64::from(total.max(f32::MIN_POSITIVE)), hits)
}

/// Mean loss and accuracy of `network` (inference mode) over `segments`.
fn validate(
    network: &Network,
    data: &TrainData<'_>,
    segments: &[Segment],
    cutting: Cutting,
    device: &Device,
) -> Result<(f64, f64), String> {
    if segments.is_empty() {
        return Ok((f64::NAN, f64::NAN));
    }
    let weights = vec![1.0f32; data.classes];
    let (mut loss, mut hits) = (0.0, 0usize);
    for batch in segments.chunks(64) {
        let x = read_batch(&[data.cache], batch, cutting.frames).map_err(|e| e.to_string())?;
        let x = Tensor::<3>::from_data(
            TensorData::new(x, [batch.len(), cutting.frames, data.cache.bins]),
            device,
        );
        let targets: Vec<usize> = batch.iter().map(|s| data.targets[s.track]).collect();
        let (l, h) = loss_and_hits(network.forward(x), &targets, &weights, device);
        loss += f64::from(l.into_scalar::<f32>()) * batch.len() as f64;
        hits += h;
    }
    Ok((loss / segments.len() as f64, hits as f64 / segments.len() as f64))
}

/// Trains `config.architecture` on `data`; with `checkpoint`, saves state
/// after every epoch and, when it already holds a run of the same config,
/// continues from it.
pub fn train_network(
    config: &TrainConfig,
    data: &TrainData<'_>,
    checkpoint: Option<&Checkpoint>,
    progress: &dyn Fn(Progress),
) -> Result<Trained, String> {
    if config.batch_size == 0 || config.epochs == 0 {
        return Err("batch size and epochs must be positive".into());
    }
    let device = Device::default().autodiff();
    device.seed(config.seed);
    let bins = data.cache.bins;
    let cutting = config.cutting();
    let mut train_segments = segments_of(data.cache, 0, data.train, cutting);
    if let Some((augmented, targets)) = data.augmented {
        let all: Vec<usize> = (0..targets.len()).collect();
        train_segments.extend(segments_of(augmented, 1, &all, cutting));
    }
    let valid_segments = segments_of(data.cache, 0, data.valid, config.eval_cutting());
    let sources = data.sources();
    if train_segments.is_empty() {
        return Err("no training segments: every training track failed to decode".into());
    }
    let class_weights: Vec<f32> = if config.class_weights {
        let mut counts = vec![0usize; data.classes];
        for s in &train_segments {
            counts[data.target(s)] += 1;
        }
        let n = train_segments.len() as f32;
        counts.iter().map(|&c| if c == 0 { 0.0 } else { n / (data.classes as f32 * c as f32) }).collect()
    } else {
        vec![1.0; data.classes]
    };

    let mut fresh = with_stable_ids(config.architecture.build(data.classes, bins, &device), &device);
    if config.freeze_epochs > 0
        && !matches!(config.architecture, ArchitectureSpec::Image(_) | ArchitectureSpec::Musicnn { .. })
    {
        return Err(
            "a frozen first stage needs a pretrained network (resnet18, mobilenet-v2, msd-musicnn, ...)"
                .into(),
        );
    }
    if let ArchitectureSpec::Musicnn { backbone, .. } = &config.architecture
        && config.pretrained.is_none()
    {
        let (net, tensors) = fresh.with_tagger_backbone(backbone, &device).map_err(|e| e.to_string())?;
        fresh = net;
        progress(Progress::Imported { tensors });
    }
    if let Some(path) = &config.pretrained {
        let weights = read_torch_weights(path).map_err(|e| e.to_string())?;
        let (imported, summary) =
            fresh.import_backbone(&weights, &device).map_err(|e| format!("{}: {e}", path.display()))?;
        fresh = imported;
        progress(Progress::Imported { tensors: summary.loaded });
    }
    let parameters = parameter_count(&fresh);
    let mut adam = AdamConfig::new().with_epsilon(1e-7);
    if config.weight_decay > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)));
    }
    let mut optimizer = adam.init();
    let mut network = fresh;
    let mut state = checkpoint::State::new(config);
    if let Some(ckpt) = checkpoint
        && let Some((restored, net, opt_bytes)) = ckpt.load(config, &network, &device)?
    {
        network = net;
        optimizer =
            optimizer.from_bytes(opt_bytes).map_err(|e| format!("checkpoint optimizer state: {e:?}"))?;
        progress(Progress::Resumed(restored.epochs_done));
        state = restored;
    }
    let l2 = config.architecture.l2();
    let started = Instant::now();
    let seconds_before = state.seconds;
    while state.epochs_done < config.epochs && !state.stopped {
        let epoch = state.epochs_done + 1;
        let t0 = Instant::now();
        let lr = lr_at(config, epoch, state.plateau_lr);
        // Each epoch's randomness derives from (seed, epoch) alone, so a resumed
        // run draws exactly what an uninterrupted one would.
        let mut rng = SplitMix64::new(config.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        device.seed(rng.next_u64());
        let mut order = train_segments.clone();
        rng.shuffle(&mut order);
        let steps = order.len().div_ceil(config.batch_size);
        let (mut loss_sum, mut hits, mut seen) = (0.0, 0usize, 0usize);
        network = network.train();
        if config.freeze_epochs > 0 {
            network =
                if epoch <= config.freeze_epochs { network.freeze_backbone() } else { network.unfreeze() };
        }
        for (step, batch) in order.chunks(config.batch_size).enumerate() {
            let mut x = read_batch(&sources, batch, cutting.frames).map_err(|e| e.to_string())?;
            if config.spec_augment {
                for seg in x.chunks_mut(cutting.frames * bins) {
                    spec_augment(seg, cutting.frames, bins, &mut rng);
                }
            }
            let x = Tensor::<3>::from_data(TensorData::new(x, [batch.len(), cutting.frames, bins]), &device);
            let targets: Vec<usize> = batch.iter().map(|s| data.target(s)).collect();
            let (mut loss, h) = loss_and_hits(network.forward(x), &targets, &class_weights, &device);
            if l2 > 0.0
                && let Some(p) = network.penalty()
            {
                loss = loss + p.mul_scalar(l2);
            }
            let value = f64::from(loss.clone().detach().into_scalar::<f32>());
            if !value.is_finite() {
                return Err(format!("training diverged at epoch {epoch}, step {} (loss {value})", step + 1));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optimizer.step(lr, network, grads);
            loss_sum += value * batch.len() as f64;
            hits += h;
            seen += batch.len();
            progress(Progress::Step {
                epoch,
                step: step + 1,
                steps,
                loss: loss_sum / seen as f64,
                accuracy: hits as f64 / seen as f64,
            });
        }
        let eval_net = network.valid();
        let (valid_loss, valid_accuracy) =
            validate(&eval_net, data, &valid_segments, config.eval_cutting(), &device)?;
        let stats = EpochStats {
            epoch,
            learning_rate: lr,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: hits as f64 / seen.max(1) as f64,
            valid_loss,
            valid_accuracy,
            seconds: t0.elapsed().as_secs_f64(),
        };
        state.record(config, &stats);
        state.seconds = seconds_before + started.elapsed().as_secs_f64();
        progress(Progress::Epoch(stats));
        if let Some(ckpt) = checkpoint {
            let opt_bytes = optimizer.into_bytes().map_err(|e| format!("optimizer state: {e:?}"))?;
            ckpt.save(config, &state, &network, &opt_bytes)?;
        } else if state.best_epoch == epoch {
            state.best_weights = Some(genreid_models::neural::weights_of(&network));
        }
        if state.stopped {
            progress(Progress::Stopped { best_epoch: state.best_epoch });
        }
    }
    // Keep the best validation epoch's weights when early stopping watches.
    let best = match (config.patience, state.best_epoch) {
        (Some(_), best) if best > 0 && best != state.epochs_done => match checkpoint {
            Some(ckpt) => ckpt.best_weights()?,
            None => state.best_weights.take(),
        },
        _ => None,
    };
    let network = match best {
        Some(w) => genreid_models::neural::load_weights(network, &w, &device).map_err(|e| e.to_string())?,
        None => network,
    };
    let best_epoch =
        if config.patience.is_some() && state.best_epoch > 0 { state.best_epoch } else { state.epochs_done };
    Ok(Trained {
        network: network.valid(),
        history: state.history,
        best_epoch,
        parameters,
        train_segments: train_segments.len(),
        seconds: seconds_before + started.elapsed().as_secs_f64(),
    })
}

/// Splits `tracks` into training and validation tracks when a split gives no
/// validation part: about `fraction` of each class (at least one where the
/// class has three or more), seeded.
pub fn carve_validation(
    tracks: &[usize],
    targets: &[usize],
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut by_class: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for &t in tracks {
        by_class.entry(targets[t]).or_default().push(t);
    }
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let (mut train, mut valid) = (Vec::new(), Vec::new());
    for (_, mut members) in by_class {
        rng.shuffle(&mut members);
        let n =
            if members.len() >= 3 { ((members.len() as f64 * fraction).round() as usize).max(1) } else { 0 };
        valid.extend_from_slice(&members[..n]);
        train.extend_from_slice(&members[n..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

/// Whether `path` looks like a checkpoint folder this module wrote.
pub fn is_checkpoint(path: &Path) -> bool {
    path.join(checkpoint::STATE_FILE).is_file()
}
