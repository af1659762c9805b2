//! Same-padded, stride-1 2-D convolution forward and backward on plain `f32`
//! slices: the layer every convolutional network here is made of, computed
//! as tiles of im2col columns multiplied on the `gemm` kernel.
//!
//! Burn's generic backward turns the weight gradient into a convolution over
//! swapped axes and the input gradient into a transposed convolution, each
//! with its own transposes and fresh buffers. Here the weight gradient is one
//! accumulated product per tile (`dW += dY · colsᵀ`), the input gradient is
//! the forward convolution of `dY` with the flipped, transposed kernel, and
//! the column buffer is one per thread, reused across calls.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::matmul::{MatRef, matmul_accumulate, matmul_rows};

/// Output pixels per im2col tile: small enough that a tile's columns stay in
/// cache between im2col and the product on the wide early layers.
const TILE_PIXELS: usize = 1024;

/// Padding after each row of a tile's columns, in floats (64 bytes): see
/// [`stride`]. It took VGG training from 24.6 to 34.6 samples/s.
const ROW_SKEW: usize = 16;

thread_local! {
    /// Each thread's im2col buffer, grown once and reused.
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Sizes of one same-padded, stride-1 convolution over `[batch, c_in, height, width]`
/// with a `[c_out, c_in, kernel, kernel]` weight (`kernel` odd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Samples in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Rows of each plane (time frames).
    pub height: usize,
    /// Columns of each plane (frequency bins).
    pub width: usize,
    /// Side of the square kernel (odd, so "same" padding is symmetric).
    pub kernel: usize,
}

impl ConvShape {
    /// Zero padding on each side.
    fn pad(&self) -> usize {
        (self.kernel - 1) / 2
    }

    /// Pixels per plane.
    fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Rows of the im2col matrix (one per input channel and kernel tap).
    fn taps(&self) -> usize {
        self.c_in * self.kernel * self.kernel
    }

    /// Plane rows per tile.
    fn tile_rows(&self) -> usize {
        (TILE_PIXELS / self.width.max(1)).clamp(1, self.height.max(1))
    }

    /// The same convolution with input and output channels exchanged (the
    /// input gradient's).
    fn transposed(self) -> Self {
        Self { c_in: self.c_out, c_out: self.c_in, ..self }
    }
}

/// `y = conv(x, weight) + bias` for `x` `[batch, c_in, h, w]`, `weight`
/// `[c_out, c_in, k, k]` and `bias` `[c_out]`; returns `[batch, c_out, h, w]`.
/// Samples run in parallel.
///
/// # Panics
/// When a slice's length disagrees with `shape` (a bug in the caller).
pub fn conv_forward(x: &[f32], weight: &[f32], bias: &[f32], shape: ConvShape) -> Vec<f32> {
    assert_eq!(bias.len(), shape.c_out, "conv: bias is not [c_out]");
    convolve(x, weight, Some(bias), shape)
}

/// [`conv_forward`] with an optional bias (the input gradient has none, and
/// skips the pass that would add zeros).
fn convolve(x: &[f32], weight: &[f32], bias: Option<&[f32]>, shape: ConvShape) -> Vec<f32> {
    check(shape, x.len(), weight.len());
    let (plane, c_out) = (shape.plane(), shape.c_out);
    let mut y = vec![0.0; shape.batch * c_out * plane];
    if y.is_empty() {
        return y;
    }
    y.par_chunks_mut(c_out * plane).zip(x.par_chunks(shape.c_in * plane.max(1))).for_each(|(y_n, x_n)| {
        with_columns(shape, |columns| forward_sample(x_n, weight, y_n, columns, shape));
        for (row, &b) in y_n.chunks_mut(plane).zip(bias.unwrap_or_default()) {
            row.iter_mut().for_each(|v| *v += b);
        }
    });
    y
}

/// Gradients of [`conv_forward`] given the output gradient `dy`:
/// `(dx, dweight, dbias)`, `dx` only when `need_dx`.
///
/// # Panics
/// As [`conv_forward`].
pub fn conv_backward(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    shape: ConvShape,
    need_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    check(shape, x.len(), weight.len());
    let (plane, c_out, taps) = (shape.plane(), shape.c_out, shape.taps());
    assert_eq!(dy.len(), shape.batch * c_out * plane, "conv: output gradient is not [batch, c_out, h, w]");
    let chunk = shape.batch.div_ceil(rayon::current_num_threads()).max(1);
    let zero = || (vec![0.0; c_out * taps], vec![0.0; c_out]);
    let (dweight, dbias) = if x.is_empty() || dy.is_empty() {
        zero()
    } else {
        x.par_chunks(chunk * shape.c_in * plane)
            .zip(dy.par_chunks(chunk * c_out * plane))
            .map(|(xs, dys)| {
                let (mut dw, mut db) = zero();
                for (x_n, dy_n) in xs.chunks(shape.c_in * plane).zip(dys.chunks(c_out * plane)) {
                    with_columns(shape, |columns| weight_grad_sample(x_n, dy_n, &mut dw, columns, shape));
                    for (d, row) in db.iter_mut().zip(dy_n.chunks(plane)) {
                        *d += row.iter().sum::<f32>();
                    }
                }
                (dw, db)
            })
            .reduce(zero, |(mut wa, mut ba), (wb, bb)| {
                wa.iter_mut().zip(wb).for_each(|(a, b)| *a += b);
                ba.iter_mut().zip(bb).for_each(|(a, b)| *a += b);
                (wa, ba)
            })
    };
    let dx = need_dx.then(|| {
        let flipped = flip_transpose(weight, shape);
        convolve(dy, &flipped, None, shape.transposed())
    });
    (dx, dweight, dbias)
}

fn check(shape: ConvShape, x_len: usize, weight_len: usize) {
    assert!(shape.kernel % 2 == 1, "conv: same padding needs an odd kernel, not {}", shape.kernel);
    assert_eq!(x_len, shape.batch * shape.c_in * shape.plane(), "conv: input is not [batch, c_in, h, w]");
    assert_eq!(weight_len, shape.c_out * shape.taps(), "conv: weight is not [c_out, c_in, k, k]");
}

/// Distance between rows of a tile's column buffer: one cache line more
/// than the row, so that walking down a column (the weight gradient reads
/// the columns transposed) does not hit the same cache set on every row, as
/// a 4 KiB stride (1024 floats) does.
fn stride(pixels: usize) -> usize {
    pixels + ROW_SKEW
}

/// Runs `f` with this thread's column buffer, sized for one tile.
fn with_columns<R>(shape: ConvShape, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let len = if shape.kernel == 1 { 0 } else { shape.taps() * stride(shape.tile_rows() * shape.width) };
    COLUMNS.with(|cell| {
        let mut buffer = cell.borrow_mut();
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        f(&mut buffer[..len])
    })
}

/// One sample's `y_n = W · cols(x_n)`, tile by tile.
fn forward_sample(x_n: &[f32], weight: &[f32], y_n: &mut [f32], columns: &mut [f32], shape: ConvShape) {
    let (plane, taps) = (shape.plane(), shape.taps());
    let w = MatRef::row_major(weight, shape.c_out, taps);
    if shape.kernel == 1 {
        matmul_rows(y_n, plane, w, MatRef::row_major(x_n, shape.c_in, plane));
        return;
    }
    for_each_tile(x_n, columns, shape, |row0, cols| {
        matmul_rows(&mut y_n[row0 * shape.width..], plane, w, cols);
    });
}

/// Adds one sample's `dY_n · cols(x_n)ᵀ` to `dweight`, tile by tile.
fn weight_grad_sample(x_n: &[f32], dy_n: &[f32], dweight: &mut [f32], columns: &mut [f32], shape: ConvShape) {
    let (plane, taps) = (shape.plane(), shape.taps());
    if shape.kernel == 1 {
        let dy = MatRef::row_major(dy_n, shape.c_out, plane);
        let xt = MatRef { data: x_n, rows: plane, cols: shape.c_in, row_stride: 1, col_stride: plane };
        matmul_accumulate(dweight, dy, xt);
        return;
    }
    for_each_tile(x_n, columns, shape, |row0, cols| {
        let dy = MatRef {
            data: &dy_n[row0 * shape.width..],
            rows: shape.c_out,
            cols: cols.cols,
            row_stride: plane,
            col_stride: 1,
        };
        let cols_t = MatRef {
            data: cols.data,
            rows: cols.cols,
            cols: taps,
            row_stride: 1,
            col_stride: cols.row_stride,
        };
        matmul_accumulate(dweight, dy, cols_t);
    });
}

/// Fills `columns` with each tile's im2col matrix of `x_n` in turn and calls
/// `f(first plane row, the tile's columns: taps × pixels)`.
fn for_each_tile(x_n: &[f32], columns: &mut [f32], shape: ConvShape, mut f: impl FnMut(usize, MatRef<'_>)) {
    let taps = shape.taps();
    for (row0, rows) in tiles(shape) {
        let pixels = rows * shape.width;
        let row_stride = stride(pixels);
        let cols = &mut columns[..taps * row_stride];
        im2col(x_n, row0, rows, cols, row_stride, shape);
        f(row0, MatRef { data: cols, rows: taps, cols: pixels, row_stride, col_stride: 1 });
    }
}

/// `(first row, rows)` of each tile of a plane.
fn tiles(shape: ConvShape) -> impl Iterator<Item = (usize, usize)> {
    let step = shape.tile_rows();
    (0..shape.height).step_by(step).map(move |r| (r, step.min(shape.height - r)))
}

/// The im2col columns of plane rows `row0..row0 + rows` of one sample, rows
/// `stride` apart: row `(c, kh, kw)` holds `x[c, oh + kh - pad, ow + kw - pad]` (zero outside)
/// for each output pixel `(oh, ow)` of the tile.
fn im2col(x_n: &[f32], row0: usize, rows: usize, cols: &mut [f32], stride: usize, shape: ConvShape) {
    let (w, k, pad, plane) = (shape.width, shape.kernel, shape.pad(), shape.plane());
    let pixels = rows * w;
    for (tap, dst) in cols.chunks_mut(stride).enumerate() {
        let dst = &mut dst[..pixels];
        let (c, kh, kw) = (tap / (k * k), tap / k % k, tap % k);
        let channel = &x_n[c * plane..(c + 1) * plane];
        for (i, out) in dst.chunks_mut(w).enumerate() {
            let ih = (row0 + i + kh).checked_sub(pad).filter(|&r| r < shape.height);
            let Some(ih) = ih else {
                out.fill(0.0);
                continue;
            };
            let src = &channel[ih * w..(ih + 1) * w];
            if kw >= pad {
                let shift = (kw - pad).min(w);
                out[..w - shift].copy_from_slice(&src[shift..]);
                out[w - shift..].fill(0.0);
            } else {
                let shift = (pad - kw).min(w);
                out[..shift].fill(0.0);
                out[shift..].copy_from_slice(&src[..w - shift]);
            }
        }
    }
}

/// `W'[ci, co, kh, kw] = W[co, ci, k-1-kh, k-1-kw]`: the kernel whose forward
/// convolution of `dY` is the input gradient.
fn flip_transpose(weight: &[f32], shape: ConvShape) -> Vec<f32> {
    let (k, taps2) = (shape.kernel, shape.kernel * shape.kernel);
    let mut out = vec![0.0; weight.len()];
    for co in 0..shape.c_out {
        for ci in 0..shape.c_in {
            let src = &weight[(co * shape.c_in + ci) * taps2..][..taps2];
            let dst = &mut out[(ci * shape.c_out + co) * taps2..][..taps2];
            for (t, d) in dst.iter_mut().enumerate() {
                *d = src[(k - 1 - t / k) * k + (k - 1 - t % k)];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Calls `f(y index, x index, weight index)` for every output pixel
    /// and every kernel tap that falls inside the input: the definition of a
    /// same-padded convolution, index by index.
    fn for_each_term(s: ConvShape, mut f: impl FnMut(usize, usize, usize)) {
        let (h, w, k) = (s.height, s.width, s.kernel);
        let inside = |o: usize, t: usize, n: usize| (o + t).checked_sub(s.pad()).filter(|&i| i < n);
        for n in 0..s.batch {
            for co in 0..s.c_out {
                for (oh, ow) in (0..h).flat_map(|oh| (0..w).map(move |ow| (oh, ow))) {
                    let yi = ((n * s.c_out + co) * h + oh) * w + ow;
                    for (ci, kh, kw) in (0..s.c_in).flat_map(|ci| (0..k * k).map(move |t| (ci, t / k, t % k)))
                    {
                        if let (Some(ih), Some(iw)) = (inside(oh, kh, h), inside(ow, kw, w)) {
                            f(
                                yi,
                                ((n * s.c_in + ci) * h + ih) * w + iw,
                                ((co * s.c_in + ci) * k + kh) * k + kw,
                            );
                        }
                    }
                }
            }
        }
    }

    /// The definition, in f64.
    fn naive(x: &[f32], weight: &[f32], bias: &[f32], s: ConvShape) -> Vec<f64> {
        let mut y = vec![0.0; s.batch * s.c_out * s.plane()];
        for (n_co, plane) in y.chunks_mut(s.plane()).enumerate() {
            plane.fill(f64::from(bias[n_co % s.c_out]));
        }
        for_each_term(s, |yi, xi, wi| y[yi] += f64::from(x[xi]) * f64::from(weight[wi]));
        y
    }

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5) - 1.0).collect()
    }

    fn close(a: &[f32], b: &[f64], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (&a, &b)) in a.iter().zip(b).enumerate() {
            assert!((f64::from(a) - b).abs() <= 1e-5 * scale, "{what}[{i}]: {a} vs {b}");
        }
    }

    /// Shapes with tiles that do not divide the plane, planes narrower than
    /// the kernel and 1×1 kernels.
    fn shapes() -> Vec<ConvShape> {
        let s = |batch, c_in, c_out, height, width, kernel| ConvShape {
            batch,
            c_in,
            c_out,
            height,
            width,
            kernel,
        };
        vec![
            s(3, 2, 5, 9, 7, 3),
            s(2, 3, 4, 2, 1, 3),
            s(2, 4, 3, 5, 6, 5),
            s(3, 3, 2, 4, 5, 1),
            s(2, 2, 3, 37, 40, 3),
        ]
    }

    #[test]
    fn forward_equals_the_definition() {
        for s in shapes() {
            let x = values(s.batch * s.c_in * s.plane(), 1);
            let wt = values(s.c_out * s.taps(), 2);
            let b = values(s.c_out, 3);
            close(&conv_forward(&x, &wt, &b, s), &naive(&x, &wt, &b, s), &format!("y {s:?}"));
        }
    }

    /// The gradients by their definition, in f64: every (output pixel, tap)
    /// pair adds `g·w` to `dx` and `g·x` to `dw`; `db` sums `g` per channel.
    fn naive_grads(x: &[f32], weight: &[f32], g: &[f32], s: ConvShape) -> [Vec<f64>; 3] {
        let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; weight.len()], vec![0.0; s.c_out]);
        for (n_co, plane) in g.chunks(s.plane()).enumerate() {
            db[n_co % s.c_out] += plane.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
        for_each_term(s, |yi, xi, wi| {
            dx[xi] += f64::from(g[yi]) * f64::from(weight[wi]);
            dw[wi] += f64::from(g[yi]) * f64::from(x[xi]);
        });
        [dx, dw, db]
    }

    #[test]
    fn gradients_equal_the_definition() {
        for s in shapes() {
            let x = values(s.batch * s.c_in * s.plane(), 4);
            let wt = values(s.c_out * s.taps(), 5);
            let g = values(s.batch * s.c_out * s.plane(), 7);
            let [ex, ew, eb] = naive_grads(&x, &wt, &g, s);
            let (dx, dw, db) = conv_backward(&x, &wt, &g, s, true);
            close(&dx.expect("dx was asked for"), &ex, &format!("dx {s:?}"));
            close(&dw, &ew, &format!("dw {s:?}"));
            close(&db, &eb, &format!("db {s:?}"));
            assert!(conv_backward(&x, &wt, &g, s, false).0.is_none());
        }
    }

    #[test]
    #[should_panic(expected = "odd kernel")]
    fn an_even_kernel_is_refused() {
        let s = ConvShape { batch: 1, c_in: 1, c_out: 1, height: 4, width: 4, kernel: 2 };
        conv_forward(&[0.0; 16], &[0.0; 4], &[0.0], s);
    }
}
