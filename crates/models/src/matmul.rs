//! The one place genreid calls a matrix kernel by pointer: a bounds-checked,
//! safe front to the `gemm` crate's `f32` product (the kernel burn-flex uses),
//! for hand-fused inference paths that need strided views of their buffers
//! (convolutions read as overlapping rows of one padded buffer, no im2col).
#![allow(unsafe_code)]

/// A read-only matrix view: element `(r, c)` is `data[r·row_stride + c·col_stride]`.
/// Rows may overlap (a convolution's sliding windows over one buffer).
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The elements the view reads from.
    pub data: &'a [f32],
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// Whether every element of the view lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| (self.cols - 1).checked_mul(self.col_stride).and_then(|c| r.checked_add(c)));
        matches!(last, Some(i) if i < self.data.len())
            && isize::try_from(self.row_stride).is_ok()
            && isize::try_from(self.col_stride).is_ok()
    }
}

/// `dst = lhs · rhs`, with `dst` dense row-major `lhs.rows × rhs.cols`,
/// single-threaded (callers parallelise over independent products).
///
/// # Panics
/// When the shapes disagree or a view reaches outside its slice (a bug in
/// the caller, never a property of user input).
pub fn matmul(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>) {
    assert_eq!(dst.len(), lhs.rows * rhs.cols, "matmul: destination is not {}×{}", lhs.rows, rhs.cols);
    matmul_rows(dst, rhs.cols, lhs, rhs);
}

/// `dst = lhs · rhs` where row `r` of the product goes to
/// `dst[r·dst_row_stride..][..rhs.cols]` (rows of a wider matrix); elements
/// between the rows are left as they are.
///
/// # Panics
/// As [`matmul`], and when rows would overlap or `dst` is too short.
pub fn matmul_rows(dst: &mut [f32], dst_row_stride: usize, lhs: MatRef<'_>, rhs: MatRef<'_>) {
    product(dst, dst_row_stride, lhs, rhs, false);
}

/// `dst += lhs · rhs`, with `dst` dense row-major `lhs.rows × rhs.cols`
/// (sums of products over blocks, such as a weight gradient over pixels).
///
/// # Panics
/// As [`matmul`].
pub fn matmul_accumulate(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>) {
    assert_eq!(dst.len(), lhs.rows * rhs.cols, "matmul: destination is not {}×{}", lhs.rows, rhs.cols);
    product(dst, rhs.cols, lhs, rhs, true);
}

/// `dst = lhs · rhs` or, with `accumulate`, `dst += lhs · rhs`, into rows
/// `dst_row_stride` apart.
fn product(dst: &mut [f32], dst_row_stride: usize, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(lhs.in_bounds() && rhs.in_bounds(), "matmul: a view reaches outside its slice");
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        dst_row_stride >= n && isize::try_from(dst_row_stride).is_ok(),
        "matmul: destination rows overlap"
    );
    assert!((m - 1) * dst_row_stride + n <= dst.len(), "matmul: destination is too short");
    if k == 0 {
        if !accumulate {
            dst.chunks_mut(dst_row_stride).take(m).for_each(|row| row[..n].fill(0.0));
        }
        return;
    }
    // SAFETY: every element gemm reads is `lhs.data[r·rs + c·cs]` for r < m,
    // c < k (and likewise for rhs), which `in_bounds` checked lies inside the
    // slice; strides fit in isize (checked). gemm writes exactly
    // `dst[r·dst_row_stride + c]` for r < m, c < n, inside `dst` (checked),
    // an exclusive borrow that aliases neither input; it reads those same
    // elements only when accumulating (read_dst).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] = (0..lhs.cols)
                    .map(|i| {
                        f64::from(lhs.data[r * lhs.row_stride + i * lhs.col_stride])
                            * f64::from(rhs.data[i * rhs.row_stride + c * rhs.col_stride])
                    })
                    .sum::<f64>() as f32;
            }
        }
        out
    }

    #[test]
    fn overlapping_strided_views_multiply_like_the_definition() {
        let buffer: Vec<f32> = (0..400).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
        let weights: Vec<f32> = (0..5 * 7).map(|i| ((i * 13) % 17) as f32 * 0.25 - 2.0).collect();
        // Sliding windows: row r reads buffer[r + 3c] (rows overlap).
        let lhs = MatRef { data: &buffer, rows: 50, cols: 5, row_stride: 1, col_stride: 3 };
        let rhs = MatRef::row_major(&weights, 5, 7);
        let mut dst = vec![f32::NAN; 50 * 7];
        matmul(&mut dst, lhs, rhs);
        for (a, b) in dst.iter().zip(naive(lhs, rhs)) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
        // A transposed right-hand side.
        let rhs_t = MatRef { data: &weights, rows: 7, cols: 5, row_stride: 1, col_stride: 7 };
        let lhs2 = MatRef { data: &buffer, rows: 4, cols: 7, row_stride: 10, col_stride: 1 };
        let mut dst2 = vec![0.0; 4 * 5];
        matmul(&mut dst2, lhs2, rhs_t);
        assert_eq!(dst2.len(), 20);
        for (a, b) in dst2.iter().zip(naive(lhs2, rhs_t)) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0));
        }
        // Into rows of a wider matrix: the gaps keep their values.
        let mut wide = vec![-7.0; 3 * 8 + 5];
        matmul_rows(&mut wide, 8, lhs2, rhs_t);
        let expected = naive(lhs2, rhs_t);
        for r in 0..4 {
            for (a, b) in wide[r * 8..r * 8 + 5].iter().zip(&expected[r * 5..r * 5 + 5]) {
                assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0));
            }
            if r < 3 {
                assert_eq!(&wide[r * 8 + 5..r * 8 + 8], &[-7.0; 3]);
            }
        }
    }

    #[test]
    fn accumulating_adds_the_product_to_what_is_there() {
        let a: Vec<f32> = (0..6 * 9).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..9 * 4).map(|i| ((i * 3) % 7) as f32 * 0.5).collect();
        let (lhs, rhs) = (MatRef::row_major(&a, 6, 9), MatRef::row_major(&b, 9, 4));
        let mut dst: Vec<f32> = (0..24).map(|i| i as f32).collect();
        matmul_accumulate(&mut dst, lhs, rhs);
        for (i, (got, p)) in dst.iter().zip(naive(lhs, rhs)).enumerate() {
            assert!((got - (p + i as f32)).abs() <= 1e-4 * p.abs().max(1.0), "{got} vs {p} + {i}");
        }
    }

    #[test]
    #[should_panic(expected = "outside its slice")]
    fn a_view_past_the_end_is_refused() {
        let buffer = vec![1.0; 10];
        let lhs = MatRef { data: &buffer, rows: 4, cols: 4, row_stride: 3, col_stride: 1 };
        let rhs = MatRef::row_major(&buffer[..4], 4, 1);
        matmul(&mut [0.0; 4], lhs, rhs);
    }
}
