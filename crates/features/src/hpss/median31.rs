//! Exact 31-point median filters along either axis of a matrix, eight
//! neighbouring lines at a time (one per SIMD lane), with SciPy's `reflect`
//! boundary — the kernel of `librosa.decompose.hpss`.
//!
//! Each step computes four neighbouring medians. Their windows share a core
//! of 28 values; a selection network (Batcher's odd-even merge sort for 32
//! inputs, pruned to 28 inputs and to the four ranks needed, 138
//! compare-exchanges) finds the core's ranks 12 to 15. Each window adds 3
//! values of its own, sorted by 3 compare-exchanges, and its median (rank
//! 15 of 31) is `min(A15, max(A14, E0), max(A13, E1), max(A12, E2))`: the
//! k-th of two sorted sequences `A`, `E` is `min over i of max(A[k-i],
//! E[i-1])`. Everything is `min`/`max` on lanes of eight `f32`, with no
//! branches, so it compiles to packed `minps`/`maxps` (with AVX2, chosen at
//! run time, eight lanes to a register).

use std::array;

/// Lines filtered at once, one per lane.
const LANES: usize = 8;
/// The kernel length this module is for.
pub(super) const KERNEL: usize = 31;
/// Neighbouring medians computed per step.
const STEP: usize = 4;
/// Values all windows of one step share.
const CORE: usize = KERNEL + 1 - STEP;

type Lanes = [f32; LANES];

/// The two operations a selection network needs, on one vector of lanes.
trait MinMax: Copy {
    /// One value per lane.
    type V: Copy;
    /// Lane-wise `if a < b { a } else { b }`.
    fn lo(self, a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise `if a < b { b } else { a }`.
    fn hi(self, a: Self::V, b: Self::V) -> Self::V;
}

/// Plain arrays, left to the compiler's vectoriser (SSE2 on any x86-64).
#[derive(Clone, Copy)]
struct ArrayLanes;

impl MinMax for ArrayLanes {
    type V = Lanes;

    #[inline(always)]
    fn lo(self, a: Lanes, b: Lanes) -> Lanes {
        array::from_fn(|l| if a[l] < b[l] { a[l] } else { b[l] })
    }

    #[inline(always)]
    fn hi(self, a: Lanes, b: Lanes) -> Lanes {
        array::from_fn(|l| if a[l] < b[l] { b[l] } else { a[l] })
    }
}

/// One SIMD register of eight `f32` (AVX2): `min_ps(a, b)` is `a < b ? a :
/// b` and `max_ps(b, a)` is `b > a ? b : a`, the same choices as
/// [`ArrayLanes`] bit for bit.
#[derive(Clone, Copy)]
struct SimdLanes<S>(S);

impl<S: pulp::Simd> MinMax for SimdLanes<S> {
    type V = S::f32s;

    #[inline(always)]
    fn lo(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.min_f32s(a, b)
    }

    #[inline(always)]
    fn hi(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.max_f32s(b, a)
    }
}

/// Compare-exchange of each listed pair of `v` (smaller value to the first
/// index), in order, as straight-line code.
macro_rules! network {
    ($m:ident, $v:ident; $($i:literal $j:literal),* $(,)?) => {
        $(
            let (a, b) = ($v[$i], $v[$j]);
            $v[$i] = $m.lo(a, b);
            $v[$j] = $m.hi(a, b);
        )*
    };
}

/// Ranks 12, 13, 14 and 15 of the 28 values of `core`, lane by lane.
///
/// The pairs are Batcher's odd-even merge sort for 32 inputs without the
/// comparators that touch inputs 28..32 (they would hold +∞ and never move)
/// and, working back from the outputs, without those that cannot reach
/// ranks 12..=15 (`benches/median_network.py` prints them).
#[inline(always)]
fn core_ranks<M: MinMax>(m: M, mut v: [M::V; CORE]) -> [M::V; 4] {
    network!(m, v;
        0 1, 2 3, 4 5, 6 7, 8 9, 10 11, 12 13, 14 15, 16 17, 18 19, 20 21, 22 23, 24 25, 26 27,
        0 2, 1 3, 4 6, 5 7, 8 10, 9 11, 12 14, 13 15, 16 18, 17 19, 20 22, 21 23, 24 26, 25 27,
        1 2, 5 6, 9 10, 13 14, 17 18, 21 22, 25 26, 0 4, 1 5, 2 6, 3 7, 8 12, 9 13, 10 14,
        11 15, 16 20, 17 21, 18 22, 19 23, 2 4, 3 5, 10 12, 11 13, 18 20, 19 21, 1 2, 3 4, 5 6,
        9 10, 11 12, 13 14, 17 18, 19 20, 21 22, 25 26, 0 8, 1 9, 2 10, 3 11, 4 12, 5 13, 6 14,
        7 15, 16 24, 17 25, 18 26, 19 27, 4 8, 5 9, 6 10, 7 11, 20 24, 21 25, 22 26, 23 27,
        2 4, 3 5, 6 8, 7 9, 10 12, 11 13, 18 20, 19 21, 22 24, 23 25, 1 2, 3 4, 5 6, 7 8,
        9 10, 11 12, 13 14, 17 18, 19 20, 21 22, 23 24, 25 26, 0 16, 1 17, 2 18, 3 19, 4 20,
        5 21, 6 22, 7 23, 8 24, 9 25, 10 26, 11 27, 8 16, 9 17, 10 18, 11 19, 12 20, 13 21,
        14 22, 15 23, 6 10, 7 11, 12 16, 13 17, 14 18, 15 19, 10 12, 11 13, 14 16, 15 17,
        11 12, 13 14, 15 16,
    );
    [v[12], v[13], v[14], v[15]]
}

/// Medians of every 31-value window of `padded` (lane by lane): `out[t]` is
/// the median of `padded[t..t + 31]`. `padded` holds `out.len() + 30`
/// values, `out.len()` a multiple of [`STEP`].
#[inline(always)]
fn medians<M: MinMax>(m: M, padded: &[M::V], out: &mut [M::V]) {
    debug_assert_eq!(out.len() % STEP, 0);
    debug_assert_eq!(padded.len(), out.len() + KERNEL - 1);
    for (block, medians) in out.chunks_exact_mut(STEP).enumerate() {
        let s = block * STEP;
        let window = &padded[s..s + KERNEL + STEP - 1];
        let [a12, a13, a14, a15] = core_ranks(m, array::from_fn(|i| window[STEP - 1 + i]));
        for (j, median) in medians.iter_mut().enumerate() {
            // The window of median j: its own values are window[j..3] on the
            // left and window[31..31 + j] on the right.
            let mut e: [M::V; 3] = array::from_fn(|i| {
                if j + i < STEP - 1 { window[j + i] } else { window[KERNEL + i + j - (STEP - 1)] }
            });
            network!(m, e; 0 1, 1 2, 0 1);
            *median = m.lo(m.lo(a15, m.hi(a14, e[0])), m.lo(m.hi(a13, e[1]), m.hi(a12, e[2])));
        }
    }
}

/// [`medians`] as a [`pulp::WithSimd`] operation, so that it is inlined into
/// (and vectorised for) the instruction set `pulp::Arch` picks.
struct Medians<'a> {
    padded: &'a [Lanes],
    out: &'a mut [Lanes],
}

impl pulp::WithSimd for Medians<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        if S::F32_LANES == LANES {
            let padded = pulp::bytemuck::cast_slice(self.padded);
            let out = pulp::bytemuck::cast_slice_mut(self.out);
            medians(SimdLanes(simd), padded, out);
        } else {
            medians(ArrayLanes, self.padded, self.out);
        }
    }
}

/// SciPy's `reflect` index for position `j` of a line of `n` values
/// (`d c b a | a b c d | d c b a`), repeated for windows longer than the line.
pub(super) fn reflect(mut j: isize, n: usize) -> usize {
    let n = n as isize;
    loop {
        if j < 0 {
            j = -j - 1;
        } else if j >= n {
            j = 2 * n - j - 1;
        } else {
            return j as usize;
        }
    }
}

/// The filtered line axis of a row-major matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Axis {
    /// Along each row (over columns): SciPy `size=(1, 31)`.
    Rows,
    /// Along each column (over rows): SciPy `size=(31, 1)`.
    Columns,
}

/// 31-point median filter of the row-major `rows x cols` matrix `x` along
/// `axis`, with the `reflect` boundary, written to `out` (same shape).
/// Equal to `scipy.ndimage.median_filter` for finite values.
pub(super) fn median_filter_31(x: &[f32], rows: usize, cols: usize, axis: Axis, out: &mut [f32]) {
    assert_eq!(x.len(), rows * cols);
    assert_eq!(out.len(), rows * cols);
    if rows == 0 || cols == 0 {
        return;
    }
    // A line is a row (Axis::Rows) or a column; its values lie `along`
    // apart, and neighbouring lines `across` apart.
    let (lines, len, along, across) = match axis {
        Axis::Rows => (rows, cols, 1, cols),
        Axis::Columns => (cols, rows, cols, 1),
    };
    let n_out = len.next_multiple_of(STEP);
    let mut padded: Vec<Lanes> = Vec::with_capacity(n_out + KERNEL - 1);
    let mut filtered = vec![[0f32; LANES]; n_out];
    let half = (KERNEL / 2) as isize;
    // Where each padded position of a line reads from, as an offset.
    let taps: Vec<usize> = (0..n_out + KERNEL - 1).map(|p| reflect(p as isize - half, len) * along).collect();
    let arch = pulp::Arch::new();
    for first in (0..lines).step_by(LANES) {
        let live = LANES.min(lines - first);
        // Lanes past the last line repeat it; their medians are dropped.
        let offsets: [usize; LANES] = array::from_fn(|l| (first + l.min(live - 1)) * across);
        padded.clear();
        padded.extend(taps.iter().map(|&at| array::from_fn(|l| x[offsets[l] + at])));
        // Compiled again with AVX2 where the CPU has it (lanes of eight
        // f32 are then one register), chosen at run time.
        arch.dispatch(Medians { padded: &padded, out: &mut filtered });
        for (t, m) in filtered[..len].iter().enumerate() {
            for (l, &v) in m[..live].iter().enumerate() {
                out[offsets[l] + t * along] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(x: &[f32], rows: usize, cols: usize, axis: Axis) -> Vec<f32> {
        let mut out = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                let mut w: Vec<f32> = (-15isize..=15)
                    .map(|d| match axis {
                        Axis::Rows => x[r * cols + reflect(c as isize + d, cols)],
                        Axis::Columns => x[reflect(r as isize + d, rows) * cols + c],
                    })
                    .collect();
                w.sort_by(f32::total_cmp);
                out[r * cols + c] = w[15];
            }
        }
        out
    }

    /// The plain-array kernel (CPUs without AVX2) and the dispatched one give
    /// the same medians as sorting, whichever this CPU runs by default.
    #[test]
    fn array_and_dispatched_kernels_equal_sorting() {
        let mut state = 42u32;
        let n_out = 64;
        let padded: Vec<Lanes> = (0..n_out + KERNEL - 1)
            .map(|_| {
                array::from_fn(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 27) as f32
                })
            })
            .collect();
        let mut plain = vec![[0f32; LANES]; n_out];
        medians(ArrayLanes, &padded, &mut plain);
        let mut dispatched = vec![[0f32; LANES]; n_out];
        pulp::Arch::new().dispatch(Medians { padded: &padded, out: &mut dispatched });
        assert_eq!(plain, dispatched);
        for (t, m) in plain.iter().enumerate() {
            for (l, &v) in m.iter().enumerate() {
                let mut w: Vec<f32> = padded[t..t + KERNEL].iter().map(|p| p[l]).collect();
                w.sort_by(f32::total_cmp);
                assert_eq!(v, w[KERNEL / 2], "median {t}, lane {l}");
            }
        }
    }

    #[test]
    fn equals_sorting_on_both_axes_with_ties_and_short_lines() {
        let mut state = 987_654_321u32;
        let mut next = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state >> 8
        };
        // Shapes around the lane count and the step, lines shorter than the
        // kernel (reflected more than once) and a single value.
        for (rows, cols) in [(1, 1), (3, 40), (9, 31), (17, 5), (33, 70), (8, 4), (13, 101)] {
            for ties in [false, true] {
                let x: Vec<f32> = (0..rows * cols)
                    .map(|_| if ties { (next() % 7) as f32 } else { next() as f32 / 1e4 })
                    .collect();
                for axis in [Axis::Rows, Axis::Columns] {
                    let mut out = vec![f32::NAN; rows * cols];
                    median_filter_31(&x, rows, cols, axis, &mut out);
                    assert_eq!(out, brute(&x, rows, cols, axis), "{rows}x{cols} {axis:?}");
                }
            }
        }
    }
}
