//! Pretrained taggers: musicnn and its VGG baseline (Pons & Serra 2019),
//! ported from the TensorFlow checkpoints of the `musicnn` 0.1.0 wheel, with
//! an optional genre head trained here. The deep-learning framework (burn)
//! stays inside this module: callers pass and get plain `f32` rows.

pub mod convert;
mod file;
mod musicnn;
mod musicnn_cpu;
mod pipeline;
pub mod tf_checkpoint;
mod timbral_dft;
mod vgg;
mod weights;

pub use file::{
    Architecture, GenreHead, LogMelInput, MANIFEST_KEY, TAGGER_VERSION, TaggerFile, TaggerManifest,
};
pub use musicnn::{EMBEDDING, N_MELS, PATCH_FRAMES, POOLED};
pub use pipeline::{TrackAnalysis, patch_hop_frames};
pub use weights::{BATCH_NORM_EPSILON, Weight, Weights};

use burn::tensor::{Device, Tensor, TensorData};

use crate::{ModelError, Result};
use musicnn::Musicnn;
use musicnn_cpu::MusicnnCpu;
use vgg::Vgg;

/// Patches per forward pass: large enough to keep the matrix kernels busy,
/// small enough that activations stay near 100 MB.
pub const BATCH_PATCHES: usize = 8;
/// Patches run between two checks for cancellation (about half a second
/// on two cores).
pub const PATCHES_PER_STEP: usize = 64;

/// Row-major rows of one per-patch output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    /// Values per row.
    pub cols: usize,
    /// `rows × cols` values.
    pub values: Vec<f32>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.cols).unwrap_or(0)
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }
    fn extend_row(&mut self, row: &[f32]) {
        self.cols = row.len();
        self.values.extend_from_slice(row);
    }
    fn push(&mut self, t: Tensor<2>) {
        self.cols = t.dims()[1];
        self.values.extend(to_vec(t.into_data()));
    }
}

/// Everything a tagger computed for a sequence of patches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchOutputs {
    /// Tag probabilities per patch.
    pub taggram: Rows,
    /// musicnn only: the 200-wide embedding per patch.
    pub penultimate: Rows,
    /// musicnn only: mean over time of the 753 front/mid-end channels.
    pub mean_pool: Rows,
    /// musicnn only: max over time of the 753 front/mid-end channels.
    pub max_pool: Rows,
    /// Genre probabilities per patch, when the model has a genre head.
    pub genres: Option<Vec<Vec<f64>>>,
}

impl PatchOutputs {
    /// Appends the patches of `more` (the next stretch of the same track).
    pub fn append(&mut self, more: PatchOutputs) {
        for (mine, theirs) in [
            (&mut self.taggram, more.taggram),
            (&mut self.penultimate, more.penultimate),
            (&mut self.mean_pool, more.mean_pool),
            (&mut self.max_pool, more.max_pool),
        ] {
            if theirs.cols > 0 {
                mine.cols = theirs.cols;
            }
            mine.values.extend(theirs.values);
        }
        match (&mut self.genres, more.genres) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// The named output rows (`taggram`, `penultimate`, `mean_pool`, `max_pool`).
    pub fn named(&self, name: &str) -> Option<&Rows> {
        match name {
            "taggram" => Some(&self.taggram),
            "penultimate" => Some(&self.penultimate),
            "mean_pool" => Some(&self.mean_pool),
            "max_pool" => Some(&self.max_pool),
            _ => None,
        }
    }

    /// The concatenation of the named outputs for patch `i` (a head's input).
    pub fn features(&self, names: &[String], i: usize) -> Result<Vec<f64>> {
        let mut row = Vec::new();
        for name in names {
            let rows = self
                .named(name)
                .filter(|r| r.len() > i)
                .ok_or_else(|| ModelError::InvalidInput(format!("this network has no {name:?} output")))?;
            row.extend(rows.row(i).iter().map(|&v| f64::from(v)));
        }
        Ok(row)
    }
}

/// One named intermediate layer: name, shape, row-major values.
pub type Layer = (String, Vec<usize>, Vec<f32>);

enum Network {
    /// musicnn on burn's CPU backend: the hand-fused kernels.
    MusicnnCpu(Box<MusicnnCpu>),
    /// musicnn on a GPU backend.
    Musicnn(Box<Musicnn>),
    Vgg(Box<Vgg>),
}

/// A tagger ready to run: network on a device, manifest, optional genre head.
pub struct Tagger {
    manifest: TaggerManifest,
    network: Network,
    device: Device,
}

impl std::fmt::Debug for Tagger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tagger").field("name", &self.manifest.name).finish_non_exhaustive()
    }
}

fn to_vec(data: TensorData) -> Vec<f32> {
    data.try_to_vec::<f32>().expect("float32 tensors come back as float32")
}

/// Whether `device` is burn's CPU backend, where musicnn runs on the
/// hand-fused kernels of [`MusicnnCpu`].
fn is_cpu(device: &Device) -> bool {
    *device == Device::flex()
}

impl Tagger {
    /// Builds the network of a tagger file on the default device (a GPU when
    /// one is compiled in and present, else burn's pure-Rust CPU backend).
    pub fn new(file: TaggerFile) -> Result<Self> {
        let device = Device::default();
        let m = &file.manifest;
        if m.input.n_mels != N_MELS || m.input.patch_frames != PATCH_FRAMES {
            return Err(ModelError::InvalidInput(format!(
                "network input {}×{} is not musicnn's {PATCH_FRAMES}×{N_MELS}",
                m.input.patch_frames, m.input.n_mels
            )));
        }
        let tags = m.tags.len();
        let network = match m.architecture {
            Architecture::Musicnn if is_cpu(&device) => {
                Network::MusicnnCpu(Box::new(MusicnnCpu::new(&file.weights, tags)?))
            }
            Architecture::Musicnn => Network::Musicnn(Box::new(Musicnn::new(&file.weights, tags, &device)?)),
            Architecture::Vgg => Network::Vgg(Box::new(Vgg::new(&file.weights, tags, &device)?)),
        };
        if let Some(head) = &m.genre_head
            && head.scaler.mean.len() != head.classifier.n_features()
        {
            return Err(ModelError::InvalidInput("genre head: scaler and classifier disagree".into()));
        }
        Ok(Self { manifest: file.manifest, network, device })
    }

    /// The manifest (tags, input settings, genre head).
    pub fn manifest(&self) -> &TaggerManifest {
        &self.manifest
    }

    /// [`Self::run`] a step of [`PATCHES_PER_STEP`] patches at a time,
    /// checking `cancel` between steps.
    pub fn run_until(&self, patches: &[f32], cancel: &crate::Cancel) -> Result<PatchOutputs> {
        let mut out = PatchOutputs::default();
        for step in patches.chunks(PATCHES_PER_STEP * PATCH_FRAMES * N_MELS) {
            cancel.check()?;
            out.append(self.run(step)?);
        }
        Ok(out)
    }

    /// Runs `patches` (`n × 187 × 96` log-mel values, patch after patch) in
    /// batches of [`BATCH_PATCHES`], and the genre head when there is one.
    pub fn run(&self, patches: &[f32]) -> Result<PatchOutputs> {
        let per_patch = PATCH_FRAMES * N_MELS;
        if !patches.len().is_multiple_of(per_patch) {
            return Err(ModelError::InvalidInput(format!("{} values is not whole patches", patches.len())));
        }
        let mut out = PatchOutputs::default();
        match &self.network {
            Network::MusicnnCpu(net) => {
                for y in net.run(patches, false) {
                    out.taggram.extend_row(&y.taggram);
                    out.penultimate.extend_row(&y.penultimate);
                    out.mean_pool.extend_row(&y.mean_pool);
                    out.max_pool.extend_row(&y.max_pool);
                }
            }
            Network::Musicnn(net) => {
                for x in self.batches(patches) {
                    let y = net.forward(x, false);
                    out.taggram.push(y.taggram);
                    out.penultimate.push(y.penultimate);
                    out.mean_pool.push(y.mean_pool);
                    out.max_pool.push(y.max_pool);
                }
            }
            Network::Vgg(net) => {
                for x in self.batches(patches) {
                    out.taggram.push(net.forward(x).taggram);
                }
            }
        }
        if let Some(head) = &self.manifest.genre_head {
            let genres = (0..out.taggram.len())
                .map(|i| {
                    Ok(head.classifier.predict_proba(&head.scaler.transform(&out.features(&head.inputs, i)?)))
                })
                .collect::<Result<Vec<_>>>()?;
            out.genres = Some(genres);
        }
        Ok(out)
    }

    /// Whole patches as tensors of up to [`BATCH_PATCHES`] on the device.
    fn batches<'a>(&'a self, patches: &'a [f32]) -> impl Iterator<Item = Tensor<3>> + 'a {
        let per_patch = PATCH_FRAMES * N_MELS;
        patches.chunks(BATCH_PATCHES * per_patch).map(move |chunk| {
            let shape = [chunk.len() / per_patch, PATCH_FRAMES, N_MELS];
            Tensor::<3>::from_data(TensorData::new(chunk.to_vec(), shape), &self.device)
        })
    }

    /// Every intermediate layer for one patch, named as musicnn's extractor
    /// names them, each with its shape (for parity checks and inspection).
    pub fn layers(&self, patch: &[f32]) -> Result<Vec<Layer>> {
        if patch.len() != PATCH_FRAMES * N_MELS {
            return Err(ModelError::InvalidInput("layers() takes exactly one patch".into()));
        }
        let x = || self.batches(patch).next().expect("one whole patch");
        let mut layers = Vec::new();
        match &self.network {
            Network::MusicnnCpu(net) => {
                for (name, channels, values) in net.forward(patch, true).layers.unwrap_or_default() {
                    layers.push((name.to_string(), vec![PATCH_FRAMES, channels], values));
                }
            }
            Network::Musicnn(net) => {
                for (name, t) in net.forward(x(), true).layers.unwrap_or_default() {
                    let [_, frames, channels] = t.dims();
                    layers.push((name.to_string(), vec![frames, channels], to_vec(t.into_data())));
                }
            }
            Network::Vgg(net) => {
                for (i, t) in net.forward(x()).pools.into_iter().enumerate() {
                    let [_, time, freq, channels] = t.dims();
                    layers.push((
                        format!("pool{}", i + 1),
                        vec![time, freq, channels],
                        to_vec(t.into_data()),
                    ));
                }
            }
        }
        Ok(layers)
    }
}
