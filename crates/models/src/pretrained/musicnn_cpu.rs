//! musicnn inference on the CPU, fused by hand. The same network as
//! [`super::musicnn::Musicnn`] (which runs on any burn device and is the
//! reference in tests), computed patch by patch with the `gemm` kernel:
//!
//! - the timbral convolutions go through the DFT along frequency
//!   ([`super::timbral_dft`]), and the temporal and mid-end convolutions
//!   read their sliding windows straight from one zero-padded buffer
//!   (strided views, no im2col);
//! - bias, ReLU, batch-norm and the max over frequency are one pass over
//!   each tile: batch-norm after ReLU is monotonic per channel, so the max
//!   over frequency of the normalised activation is the normalised
//!   activation of the largest (or, for a negative scale, smallest) product;
//! - nothing the size of a whole feature map is written: the products are
//!   computed 16 frames at a time (a tile's spectra take ~1.3 MB, about one L2),
//!   so patches run in parallel without thrashing caches.

use rayon::prelude::*;

use super::musicnn::{EMBEDDING, N_MELS, PATCH_FRAMES, POOLED};
use super::timbral_dft::{SPECTRUM, SpectralKernel, forward_transform};
use super::weights::{Loader, Norm, Weights};
use crate::Result;
use crate::matmul::{MatRef, matmul};

/// Filters of each timbral branch.
const TIMBRAL: usize = 204;
/// Filters of each temporal branch.
const TEMPORAL: usize = 51;
/// Front-end channels: two timbral and three temporal branches.
const FRONT: usize = 2 * TIMBRAL + 3 * TEMPORAL;
/// Channels of each mid-end layer.
const MID: usize = 64;
/// Mid-end kernel length (frames) and its 'same' padding before.
const MID_KERNEL: usize = 7;
const MID_PAD: usize = 3;
/// Zero frames on each side of the normalised patch: enough for the longest
/// temporal kernel (128 frames, 'same' padding of 63 before and 64 after).
const PAD: usize = 64;
/// Frames per front-end product (8, 16 and 32
/// measured within 3 % of each other).
const TILE_FRAMES: usize = 16;
/// 'Same' padding of the 7-frame timbral kernels, and the frames they read.
const TIMBRAL_PAD: usize = 3;
const TIMBRAL_FRAMES: usize = PATCH_FRAMES + 2 * TIMBRAL_PAD;

/// A convolution's weights as a `[taps × filters]` matrix (TensorFlow's
/// kernel layout flattened), its bias and the batch-norm after its ReLU.
#[derive(Debug, Clone)]
struct Conv {
    kernel: Vec<f32>,
    bias: Vec<f32>,
    norm: Norm,
    filters: usize,
}

impl Conv {
    /// `norm(relu(product + bias))` of filter `k`.
    #[inline]
    fn activate(&self, k: usize, product: f32) -> f32 {
        self.norm.apply(k, (product + self.bias[k]).max(0.0))
    }
}

/// A front-end branch: a `time × freq` kernel ('same' in time, 'valid' in
/// frequency), then the max over frequency.
#[derive(Debug, Clone)]
struct Branch {
    conv: Conv,
    /// Timbral branches: the kernel in the frequency domain (then
    /// `conv.kernel` is empty).
    spectral: Option<SpectralKernel>,
    time: usize,
    freq: usize,
    pad_before: usize,
}

impl Branch {
    /// Frequency positions of the valid convolution.
    fn positions(&self) -> usize {
        N_MELS - self.freq + 1
    }

    /// Writes the branch's output for frames `t0..t0 + frames` into `front`
    /// (rows of [`FRONT`] channels, from channel `offset`).
    fn forward_tile(
        &self,
        padded: &[f32],
        t0: usize,
        frames: usize,
        (front, offset): (&mut [f32], usize),
        scratch: &mut Scratch,
    ) {
        let Scratch { by_bin, spectra, product } = scratch;
        let positions = self.positions();
        let filters = self.conv.filters;
        product.resize(frames * positions * filters, 0.0);
        if let Some(spectral) = &self.spectral {
            spectral.correlate(by_bin, TIMBRAL_FRAMES, (t0, frames), spectra, product);
        } else {
            // Row (t, f) of the window matrix is padded[(first + t)·96 + f + i·96].
            let first = PAD - self.pad_before + t0;
            let lhs = MatRef {
                data: &padded[first * N_MELS..],
                rows: frames * N_MELS,
                cols: self.time,
                row_stride: 1,
                col_stride: N_MELS,
            };
            matmul(product, lhs, MatRef::row_major(&self.conv.kernel, self.time, filters));
        }
        let (mut high, mut low) = (vec![0.0f32; filters], vec![0.0f32; filters]);
        for (t, frame) in product.chunks_exact(positions * filters).enumerate() {
            high.fill(f32::NEG_INFINITY);
            low.fill(f32::INFINITY);
            for row in frame.chunks_exact(filters) {
                for ((h, l), &v) in high.iter_mut().zip(low.iter_mut()).zip(row) {
                    *h = h.max(v);
                    *l = l.min(v);
                }
            }
            let out = &mut front[(MID_PAD + t0 + t) * FRONT + offset..][..filters];
            for (k, o) in out.iter_mut().enumerate() {
                let extreme = if self.conv.norm.scale[k] >= 0.0 { high[k] } else { low[k] };
                *o = self.conv.activate(k, extreme);
            }
        }
    }
}

/// A patch's buffers: its frames in the frequency domain (`[bin][frame][re,
/// im]`, for the timbral branches), their per-frame spectra, a product.
#[derive(Debug, Default)]
struct Scratch {
    by_bin: Vec<f32>,
    spectra: Vec<f32>,
    product: Vec<f32>,
}

/// Everything one patch produced.
#[derive(Debug, Clone)]
pub(crate) struct PatchResult {
    /// Tag probabilities.
    pub taggram: Vec<f32>,
    /// The 200-wide embedding.
    pub penultimate: Vec<f32>,
    /// Max over time of the 753 front/mid-end channels.
    pub max_pool: Vec<f32>,
    /// Mean over time of the same channels.
    pub mean_pool: Vec<f32>,
    /// Frame-level layers (`timbral`, `temporal`, `cnn1`..`cnn3`), each
    /// `(channels, frame-major values)`, when asked for.
    pub layers: Option<Vec<(&'static str, usize, Vec<f32>)>>,
}

/// The musicnn network, weights as plain matrices.
#[derive(Debug, Clone)]
pub(crate) struct MusicnnCpu {
    /// `[96 × 98]`: bands to frequency-domain bins (timbral branches).
    to_spectrum: Vec<f32>,
    input_norm: Norm,
    timbral: [Branch; 2],
    temporal: [Branch; 3],
    mid: [Conv; 3],
    pooled_norm: Norm,
    dense: Conv,
    output: (Vec<f32>, Vec<f32>),
    tags: usize,
}

impl MusicnnCpu {
    /// Builds the network from TensorFlow-named weights (PORTING.md §7).
    pub fn new(weights: &Weights, tags: usize) -> Result<Self> {
        let device = Default::default();
        let w = Loader { weights, device: &device };
        let conv = |name: &str, shape: &[usize], bn: &str| -> Result<Conv> {
            let filters = shape[shape.len() - 1];
            Ok(Conv {
                kernel: w.values(&format!("{name}/kernel"), shape)?.to_vec(),
                bias: w.values(&format!("{name}/bias"), &[filters])?.to_vec(),
                norm: w.norm(bn, filters)?,
                filters,
            })
        };
        let branch = |i: usize, time: usize, freq: usize, filters: usize| -> Result<Branch> {
            let name = if i == 0 { "conv2d".to_string() } else { format!("conv2d_{i}") };
            let mut conv = conv(&name, &[time, freq, 1, filters], &format!("batch_normalization_{}", i + 1))?;
            let spectral =
                (freq > 1).then(|| SpectralKernel::new(&std::mem::take(&mut conv.kernel), freq, filters));
            Ok(Branch { conv, spectral, time, freq, pad_before: (time - 1) / 2 })
        };
        let mid = |i: usize, c_in: usize| {
            conv(
                &format!("conv2d_{i}"),
                &[MID_KERNEL, c_in, 1, MID],
                &format!("batch_normalization_{}", i + 1),
            )
        };
        Ok(Self {
            to_spectrum: forward_transform(),
            input_norm: w.norm("batch_normalization", 1)?,
            timbral: [branch(0, 7, 38, TIMBRAL)?, branch(1, 7, 67, TIMBRAL)?],
            temporal: [
                branch(2, 128, 1, TEMPORAL)?,
                branch(3, 64, 1, TEMPORAL)?,
                branch(4, 32, 1, TEMPORAL)?,
            ],
            mid: [mid(5, FRONT)?, mid(6, MID)?, mid(7, MID)?],
            pooled_norm: w.norm("batch_normalization_9", 2 * POOLED)?,
            dense: conv("dense", &[2 * POOLED, EMBEDDING], "batch_normalization_10")?,
            output: (
                w.values("dense_1/kernel", &[EMBEDDING, tags])?.to_vec(),
                w.values("dense_1/bias", &[tags])?.to_vec(),
            ),
            tags,
        })
    }

    /// Runs patches (`n × 187 × 96` values) in parallel, one result each.
    pub fn run(&self, patches: &[f32], keep_layers: bool) -> Vec<PatchResult> {
        patches.par_chunks_exact(PATCH_FRAMES * N_MELS).map(|p| self.forward(p, keep_layers)).collect()
    }

    /// The timbral branches' input (the patch with 3 zero frames each side)
    /// transformed along frequency, laid out `[bin][frame][re, im]`.
    fn timbral_spectra(&self, padded: &[f32]) -> Vec<f32> {
        let input = &padded[(PAD - TIMBRAL_PAD) * N_MELS..][..TIMBRAL_FRAMES * N_MELS];
        let mut by_frame = vec![0.0f32; TIMBRAL_FRAMES * SPECTRUM];
        matmul(
            &mut by_frame,
            MatRef::row_major(input, TIMBRAL_FRAMES, N_MELS),
            MatRef::row_major(&self.to_spectrum, N_MELS, SPECTRUM),
        );
        let mut by_bin = vec![0.0f32; TIMBRAL_FRAMES * SPECTRUM];
        for (t, spectrum) in by_frame.chunks_exact(SPECTRUM).enumerate() {
            for (w, pair) in spectrum.chunks_exact(2).enumerate() {
                by_bin[(w * TIMBRAL_FRAMES + t) * 2..][..2].copy_from_slice(pair);
            }
        }
        by_bin
    }

    /// Runs one patch (`187 × 96` log-mel values).
    pub fn forward(&self, patch: &[f32], keep_layers: bool) -> PatchResult {
        debug_assert_eq!(patch.len(), PATCH_FRAMES * N_MELS);
        // Input batch-norm, then zero frames around it (musicnn pads after it).
        let mut padded = vec![0.0f32; (PAD + PATCH_FRAMES + PAD) * N_MELS];
        for (p, &x) in padded[PAD * N_MELS..].iter_mut().zip(patch) {
            *p = self.input_norm.apply(0, x);
        }
        // Front end: [MID_PAD zero frames, 187 frames, MID_PAD zero frames] × 561.
        let mut front = vec![0.0f32; (PATCH_FRAMES + 2 * MID_PAD) * FRONT];
        let mut scratch = Scratch { by_bin: self.timbral_spectra(&padded), ..Scratch::default() };
        let branches = self.timbral.iter().chain(&self.temporal);
        let mut offset = 0;
        for branch in branches {
            for t0 in (0..PATCH_FRAMES).step_by(TILE_FRAMES) {
                let frames = TILE_FRAMES.min(PATCH_FRAMES - t0);
                branch.forward_tile(&padded, t0, frames, (&mut front, offset), &mut scratch);
            }
            offset += branch.conv.filters;
        }
        // Mid end: 1-D convolutions over time, the last two residual.
        let mut mids: Vec<Vec<f32>> = Vec::with_capacity(3);
        for (i, layer) in self.mid.iter().enumerate() {
            let (input, channels) = match mids.last() {
                None => (&front, FRONT),
                Some(previous) => (previous, MID),
            };
            let lhs = MatRef {
                data: input,
                rows: PATCH_FRAMES,
                cols: MID_KERNEL * channels,
                row_stride: channels,
                col_stride: 1,
            };
            let product = &mut scratch.product;
            product.resize(PATCH_FRAMES * MID, 0.0);
            matmul(product, lhs, MatRef::row_major(&layer.kernel, MID_KERNEL * channels, MID));
            let mut out = vec![0.0f32; (PATCH_FRAMES + 2 * MID_PAD) * MID];
            for (t, row) in product.chunks_exact(MID).enumerate() {
                let at = (MID_PAD + t) * MID;
                for (k, &v) in row.iter().enumerate() {
                    let y = layer.activate(k, v);
                    out[at + k] = if i == 0 { y } else { y + input[at + k] };
                }
            }
            mids.push(out);
        }
        // Back end: max and mean over time of every channel, interleaved.
        let frames = |buffer: &[f32], channels: usize| {
            buffer[MID_PAD * channels..(MID_PAD + PATCH_FRAMES) * channels].to_vec()
        };
        let mut max_pool = Vec::with_capacity(POOLED);
        let mut mean_pool = Vec::with_capacity(POOLED);
        for (buffer, channels) in [(&front, FRONT), (&mids[0], MID), (&mids[1], MID), (&mids[2], MID)] {
            let rows = &buffer[MID_PAD * channels..(MID_PAD + PATCH_FRAMES) * channels];
            for c in 0..channels {
                let column = rows.iter().skip(c).step_by(channels);
                max_pool.push(column.clone().fold(f32::NEG_INFINITY, |a, &b| a.max(b)));
                mean_pool.push((column.map(|&v| f64::from(v)).sum::<f64>() / PATCH_FRAMES as f64) as f32);
            }
        }
        let pooled: Vec<f32> = (0..2 * POOLED)
            .map(|i| self.pooled_norm.apply(i, if i % 2 == 0 { max_pool[i / 2] } else { mean_pool[i / 2] }))
            .collect();
        let mut hidden = vec![0.0f32; EMBEDDING];
        matmul(
            &mut hidden,
            MatRef::row_major(&pooled, 1, 2 * POOLED),
            MatRef::row_major(&self.dense.kernel, 2 * POOLED, EMBEDDING),
        );
        let penultimate: Vec<f32> =
            hidden.iter().enumerate().map(|(k, &v)| self.dense.activate(k, v)).collect();
        let mut logits = vec![0.0f32; self.tags];
        matmul(
            &mut logits,
            MatRef::row_major(&penultimate, 1, EMBEDDING),
            MatRef::row_major(&self.output.0, EMBEDDING, self.tags),
        );
        let taggram =
            logits.iter().zip(&self.output.1).map(|(&l, &b)| 1.0 / (1.0 + (-(l + b)).exp())).collect();
        let layers = keep_layers.then(|| {
            let front = frames(&front, FRONT);
            let split = |from: usize, to: usize| -> Vec<f32> {
                front.chunks_exact(FRONT).flat_map(|row| row[from..to].iter().copied()).collect()
            };
            vec![
                ("timbral", 2 * TIMBRAL, split(0, 2 * TIMBRAL)),
                ("temporal", 3 * TEMPORAL, split(2 * TIMBRAL, FRONT)),
                ("cnn1", MID, frames(&mids[0], MID)),
                ("cnn2", MID, frames(&mids[1], MID)),
                ("cnn3", MID, frames(&mids[2], MID)),
            ]
        });
        PatchResult { taggram, penultimate, max_pool, mean_pool, layers }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use burn::tensor::{Device, Tensor, TensorData};

    use super::super::TaggerFile;
    use super::super::musicnn::Musicnn;
    use super::*;

    /// Deterministic log-mel-like patches (values in [0, 4), some silence).
    fn patches(n: usize) -> Vec<f32> {
        let mut state = 0x2545_f491_u32;
        (0..n * PATCH_FRAMES * N_MELS)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let frame = i / N_MELS;
                if frame % 50 < 3 { 0.0 } else { (state % 4000) as f32 / 1000.0 }
            })
            .collect()
    }

    /// `|ours - reference| <= atol + 4e-6·max|reference|` (a few float32
    /// ulps of the largest value: the two sum in different orders).
    fn assert_close(what: &str, ours: &[f32], reference: &[f32], atol: f32) {
        assert_eq!(ours.len(), reference.len(), "{what}: lengths");
        let largest = reference.iter().fold(0.0f32, |a, b| a.max(b.abs()));
        let tolerance = atol + 4e-6 * largest;
        let diff = ours.iter().zip(reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        eprintln!("{what}: max |diff| {diff:.2e} (largest {largest:.1})");
        assert!(diff <= tolerance, "{what}: max |diff| {diff:.2e} > {tolerance:.1e}");
    }

    #[test]
    fn the_fused_kernels_compute_what_the_burn_network_computes() {
        for model in ["msd-musicnn.genreid", "mtt-musicnn.genreid"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(model);
            let file = TaggerFile::load(&path).unwrap();
            let tags = file.manifest.tags.len();
            let fused = MusicnnCpu::new(&file.weights, tags).unwrap();
            let device = Device::flex();
            let reference = Musicnn::new(&file.weights, tags, &device).unwrap();
            let n = 3;
            let input = patches(n);
            let ours = fused.run(&input, true);
            let x = Tensor::<3>::from_data(TensorData::new(input, [n, PATCH_FRAMES, N_MELS]), &device);
            let theirs = reference.forward(x, true);
            let rows = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
            let collect =
                |f: fn(&PatchResult) -> &Vec<f32>| ours.iter().flat_map(|p| f(p).clone()).collect::<Vec<_>>();
            assert_close("taggram", &collect(|p| &p.taggram), &rows(theirs.taggram), 2e-6);
            assert_close("penultimate", &collect(|p| &p.penultimate), &rows(theirs.penultimate), 2e-5);
            assert_close("mean_pool", &collect(|p| &p.mean_pool), &rows(theirs.mean_pool), 2e-5);
            assert_close("max_pool", &collect(|p| &p.max_pool), &rows(theirs.max_pool), 2e-5);
            for (i, (name, t)) in theirs.layers.unwrap().into_iter().enumerate() {
                let reference = t.into_data().try_to_vec::<f32>().unwrap();
                let ours: Vec<f32> =
                    ours.iter().flat_map(|p| p.layers.as_ref().unwrap()[i].2.clone()).collect();
                assert_close(name, &ours, &reference, 2e-5);
            }
        }
    }
}
