//! Checkpoints: after every epoch, the weights and optimizer state under
//! epoch-numbered names, then `state.json` (history, schedule and early
//! stopping state) naming them, each written to a temporary file and renamed.
//! A kill at any moment leaves the previous epoch's complete checkpoint, so
//! resuming loses at most the epoch that was running.

use std::path::{Path, PathBuf};

use burn::tensor::{Bytes, Device};
use genreid_models::neural::{Network, load_weights, weights_of};
use genreid_models::pretrained::Weights;
use genreid_models::tensor_file;
use serde::{Deserialize, Serialize};

use super::{EpochStats, Schedule, TrainConfig};

/// The checkpoint's index file.
pub const STATE_FILE: &str = "state.json";

/// Training state between epochs.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct State {
    config: serde_json::Value,
    pub epochs_done: usize,
    pub history: Vec<EpochStats>,
    pub best_epoch: usize,
    best_loss: f64,
    pub plateau_lr: f64,
    plateau_best: f64,
    plateau_wait: usize,
    pub stopped: bool,
    pub seconds: f64,
    #[serde(skip)]
    pub best_weights: Option<Weights>,
}

/// The parts of a config a resumed run must share (more epochs are allowed).
fn identity(config: &TrainConfig) -> serde_json::Value {
    let mut v = serde_json::to_value(config).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("epochs");
    }
    v
}

impl State {
    pub fn new(config: &TrainConfig) -> Self {
        Self {
            config: identity(config),
            epochs_done: 0,
            history: Vec::new(),
            best_epoch: 0,
            best_loss: f64::MAX,
            plateau_lr: config.learning_rate,
            plateau_best: f64::MAX,
            plateau_wait: 0,
            stopped: false,
            seconds: 0.0,
            best_weights: None,
        }
    }

    /// Folds one epoch into early-stopping and plateau state.
    pub fn record(&mut self, config: &TrainConfig, stats: &EpochStats) {
        self.epochs_done = stats.epoch;
        self.history.push(stats.clone());
        // Without validation tracks, the training loss is what is watched.
        let watched = if stats.valid_loss.is_finite() { stats.valid_loss } else { stats.train_loss };
        if watched < self.best_loss {
            self.best_loss = watched;
            self.best_epoch = stats.epoch;
        }
        if let Some(patience) = config.patience
            && stats.epoch - self.best_epoch >= patience
        {
            self.stopped = true;
        }
        if let Schedule::Plateau { patience, factor } = config.schedule {
            if watched < self.plateau_best - 1e-4 {
                self.plateau_best = watched;
                self.plateau_wait = 0;
            } else {
                self.plateau_wait += 1;
                if self.plateau_wait > patience {
                    self.plateau_lr *= factor;
                    self.plateau_wait = 0;
                }
            }
        }
    }
}

/// A checkpoint folder.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    genreid_core::write_bytes_atomic(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn encode(weights: &Weights) -> Result<Vec<u8>, String> {
    tensor_file::encode(weights, std::collections::HashMap::new()).map_err(|e| e.to_string())
}

impl Checkpoint {
    /// The checkpoint in `dir` (created on first save).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether it holds a saved epoch.
    pub fn exists(&self) -> bool {
        self.dir.join(STATE_FILE).is_file()
    }

    fn model_path(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("model-{epoch:04}.safetensors"))
    }
    fn optimizer_path(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("optimizer-{epoch:04}.burnpack"))
    }
    fn best_path(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("best-{epoch:04}.safetensors"))
    }

    pub(crate) fn save(
        &self,
        config: &TrainConfig,
        state: &State,
        network: &Network,
        optimizer: &[u8],
    ) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let epoch = state.epochs_done;
        let weights = weights_of(network);
        let model = encode(&weights)?;
        write_atomic(&self.model_path(epoch), &model)?;
        write_atomic(&self.optimizer_path(epoch), optimizer)?;
        if state.best_epoch == epoch && config.patience.is_some() {
            write_atomic(&self.best_path(epoch), &model)?;
        }
        let json = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
        write_atomic(&self.dir.join(STATE_FILE), &json)?;
        // Older epochs are no longer needed.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let p = e.path();
                let keep = p == self.model_path(epoch)
                    || p == self.optimizer_path(epoch)
                    || p == self.best_path(state.best_epoch)
                    || p.file_name().is_some_and(|n| n == STATE_FILE);
                if !keep {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        Ok(())
    }

    /// The saved state, network and optimizer bytes, if the folder holds a
    /// run; an error if it holds a run of a different configuration.
    pub(crate) fn load(
        &self,
        config: &TrainConfig,
        fresh: &Network,
        device: &Device,
    ) -> Result<Option<(State, Network, Bytes)>, String> {
        let path = self.dir.join(STATE_FILE);
        let Ok(text) = std::fs::read(&path) else { return Ok(None) };
        let state: State = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: damaged checkpoint state ({e})", path.display()))?;
        if state.config != identity(config) {
            return Err(format!(
                "{} holds a run with different settings; resume with the same settings or use another checkpoint folder",
                self.dir.display()
            ));
        }
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()));
        let weights =
            tensor_file::decode(&read(self.model_path(state.epochs_done))?).map_err(|e| e.to_string())?;
        let network = load_weights(fresh.clone(), &weights, device).map_err(|e| e.to_string())?;
        let optimizer = Bytes::from_bytes_vec(read(self.optimizer_path(state.epochs_done))?);
        Ok(Some((state, network, optimizer)))
    }

    /// The best epoch's weights, as the state names them.
    pub(crate) fn best_weights(&self) -> Result<Option<Weights>, String> {
        let path = self.dir.join(STATE_FILE);
        let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let state: State = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        let best = self.best_path(state.best_epoch);
        if !best.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(&best).map_err(|e| format!("{}: {e}", best.display()))?;
        tensor_file::decode(&bytes).map(Some).map_err(|e| e.to_string())
    }
}
