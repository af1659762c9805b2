//! Table rows of long tracks computed block by block, equal to the
//! whole-track rows up to float rounding, in memory that grows only with
//! what a row's statistics need: GTZAN-57 keeps running moments and the
//! onset envelope (4 bytes a frame); FMA-518's medians keep its 74
//! per-frame values (about 300 bytes a frame, 25 MB an hour at 22,050 Hz).
//!
//! Each block carries margins of real audio around its core (see
//! `genreid_audio::Blocks`), so a frame of its core sees what it would see
//! in the whole track. What depends on the whole track (estimated tunings,
//! the mel spectrogram's dB maximum) comes from a first pass over the
//! blocks; the second pass computes the frames.
//!
//! A block hands over its samples, the index of its first sample in the
//! whole signal, and its core; boundaries must be multiples of the hop
//! (512).

mod fma518;
mod gtzan57;

pub use crate::table::Fma518Globals;
pub use fma518::{FMA518_MARGIN_SECONDS, Fma518Blocks, Fma518Prepass};
pub use gtzan57::{Gtzan57Blocks, Gtzan57Globals, Gtzan57Prepass};

use crate::matrix::Matrix;
use crate::stft::ComplexMatrix;

/// The frame hop every table uses; block boundaries fall on it.
const HOP: usize = 512;

/// One block of a track: `samples[0]` is sample `start` of the whole
/// signal; the block answers for samples `[core_start, core_end)`; `last`
/// when it ends where the signal ends.
#[derive(Debug, Clone, Copy)]
pub struct BlockView<'a> {
    /// The block's samples, margins included.
    pub samples: &'a [f32],
    /// Index of `samples[0]` in the whole signal.
    pub start: usize,
    /// First sample the block answers for.
    pub core_start: usize,
    /// End of the samples it answers for.
    pub core_end: usize,
    /// Whether the signal ends with this block.
    pub last: bool,
}

impl BlockView<'_> {
    /// The block's STFT frames that belong to its core, as `(first, end)`
    /// local frame indices, for a block STFT of `frames` frames.
    pub(crate) fn core_frames(&self, frames: usize) -> (usize, usize) {
        let first = (self.core_start - self.start) / HOP;
        let end = if self.last { frames } else { (self.core_end - self.start).div_ceil(HOP) };
        (first.min(frames), end.min(frames))
    }
}

/// Columns `[from, to)` of a complex STFT, each value mapped by `f`.
pub(crate) fn columns(
    m: &ComplexMatrix,
    from: usize,
    to: usize,
    f: impl Fn(realfft::num_complex::Complex<f32>) -> f32,
) -> Matrix {
    let cols = to - from;
    let mut data = Vec::with_capacity(m.rows * cols);
    for r in 0..m.rows {
        data.extend(m.data[r * m.cols + from..r * m.cols + to].iter().map(|&z| f(z)));
    }
    Matrix::from_vec(m.rows, cols, data)
}
