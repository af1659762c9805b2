//! A dense row-major `f32` matrix in librosa's `[n_features, n_frames]` layout.

/// A feature matrix: `rows` features (frequency bins, mel bands, coefficients)
/// by `cols` frames, stored row-major like a C-ordered NumPy array.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows (features).
    pub rows: usize,
    /// Number of columns (frames).
    pub cols: usize,
    /// `rows * cols` values; element `(r, c)` is at `r * cols + c`.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![0.0; rows * cols] }
    }

    /// Wraps `data` (length `rows * cols`) as a matrix.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix data has the wrong length");
        Self { rows, cols, data }
    }

    /// Element at row `r`, column `c`.
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.cols + c]
    }

    /// Row `r` as a slice.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r` as a mutable slice.
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Column `c` copied out.
    pub fn column(&self, c: usize) -> Vec<f32> {
        (0..self.rows).map(|r| self.get(r, c)).collect()
    }

    /// `[rows, cols]`, as NumPy would print the shape.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// Keeps columns `start..end` only.
    pub fn slice_cols(&self, start: usize, end: usize) -> Matrix {
        let end = end.min(self.cols);
        let start = start.min(end);
        let mut data = Vec::with_capacity(self.rows * (end - start));
        for r in 0..self.rows {
            data.extend_from_slice(&self.row(r)[start..end]);
        }
        Matrix::from_vec(self.rows, end - start, data)
    }

    /// Applies `f` to every element.
    pub fn map(mut self, f: impl Fn(f32) -> f32) -> Matrix {
        self.data.iter_mut().for_each(|x| *x = f(*x));
        self
    }

    /// Largest element (NaN-free input assumed); `-inf` when empty.
    pub fn max(&self) -> f32 {
        self.data.iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }
}

/// Transposes a `rows x cols` row-major slice into `out` (`cols x rows`), in
/// cache-sized blocks.
pub fn transpose<T: Copy>(src: &[T], rows: usize, cols: usize, out: &mut [T]) {
    assert_eq!(src.len(), rows * cols);
    assert_eq!(out.len(), rows * cols);
    const BLOCK: usize = 32;
    for r0 in (0..rows).step_by(BLOCK) {
        let r1 = (r0 + BLOCK).min(rows);
        for c0 in (0..cols).step_by(BLOCK) {
            for c in c0..(c0 + BLOCK).min(cols) {
                // Contiguous writes; the strided reads stay within one block.
                let dst = &mut out[c * rows + r0..c * rows + r1];
                for (d, r) in dst.iter_mut().zip(r0..r1) {
                    *d = src[r * cols + c];
                }
            }
        }
    }
}
