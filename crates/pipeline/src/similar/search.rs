//! Exact nearest neighbours by dot product (cosine similarity for the unit
//! vectors a library holds): the library is cut into blocks of rows, each
//! block multiplied by the queries in one matrix product on the `gemm`
//! kernel, blocks in parallel on rayon's pool, and the best `k` of each
//! query kept as the scores stream past (nothing of size library × queries
//! is ever held).

use genreid_models::matmul::{MatRef, matmul};
use rayon::prelude::*;

/// Library rows per matrix product: 4096 × 400 floats (6.5 MB) stays in cache-friendly reach.
const BLOCK_ROWS: usize = 4096;
/// Queries per matrix product, bounding the score buffer at 256 × 4096 floats.
const QUERY_ROWS: usize = 256;

/// A library row and its similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// The row in the library.
    pub row: usize,
    /// The dot product with the query (cosine similarity for unit vectors).
    pub score: f32,
}

/// Whether `a` ranks before `b`: higher score, then lower row (a stable order for ties).
fn before(a: &Neighbour, b: &Neighbour) -> bool {
    a.score > b.score || (a.score == b.score && a.row < b.row)
}

/// The best `k` seen so far, best first.
#[derive(Debug, Clone)]
struct Best {
    k: usize,
    items: Vec<Neighbour>,
}

impl Best {
    fn new(k: usize) -> Self {
        Best { k, items: Vec::with_capacity(k + 1) }
    }

    /// The score a candidate must reach to enter (−∞ until `k` are held; +∞ when `k` is 0).
    fn floor(&self) -> f32 {
        match self.k {
            0 => f32::INFINITY,
            k if self.items.len() < k => f32::NEG_INFINITY,
            k => self.items[k - 1].score,
        }
    }

    fn offer(&mut self, candidate: Neighbour) {
        if self.k == 0 || (self.items.len() == self.k && !before(&candidate, &self.items[self.k - 1])) {
            return;
        }
        let at = self.items.partition_point(|held| before(held, &candidate));
        self.items.insert(at, candidate);
        self.items.truncate(self.k);
    }

    fn merge(mut self, other: Best) -> Best {
        other.items.into_iter().for_each(|n| self.offer(n));
        self
    }
}

/// The `k` rows of `library` (`n × dim`, row-major) most similar to each
/// row of `queries` (`m × dim`), best first, among the rows `keep(query,
/// row)` allows (a query's own row, say, left out).
///
/// # Panics
/// When `library` or `queries` is not a whole number of rows of `dim`.
pub fn exact_neighbours(
    library: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    keep: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Vec<Vec<Neighbour>> {
    assert!(
        dim > 0 && library.len().is_multiple_of(dim) && queries.len().is_multiple_of(dim),
        "rows are not {dim} wide"
    );
    let (n, m) = (library.len() / dim, queries.len() / dim);
    let mut results = Vec::with_capacity(m);
    for query_start in (0..m).step_by(QUERY_ROWS) {
        let query_rows = QUERY_ROWS.min(m - query_start);
        let lhs =
            MatRef::row_major(&queries[query_start * dim..(query_start + query_rows) * dim], query_rows, dim);
        let best = (0..n.div_ceil(BLOCK_ROWS))
            .into_par_iter()
            .map(|block| {
                let first = block * BLOCK_ROWS;
                let rows = BLOCK_ROWS.min(n - first);
                // The block transposed: element (c, r) is row r's component c.
                let rhs = MatRef {
                    data: &library[first * dim..(first + rows) * dim],
                    rows: dim,
                    cols: rows,
                    row_stride: 1,
                    col_stride: dim,
                };
                let mut scores = vec![0f32; query_rows * rows];
                matmul(&mut scores, lhs, rhs);
                let mut best: Vec<Best> = (0..query_rows).map(|_| Best::new(k)).collect();
                for (q, (row_scores, best)) in scores.chunks_exact(rows).zip(&mut best).enumerate() {
                    let query = query_start + q;
                    for (r, &score) in row_scores.iter().enumerate() {
                        if score >= best.floor() && score.is_finite() && keep(query, first + r) {
                            best.offer(Neighbour { row: first + r, score });
                        }
                    }
                }
                best
            })
            .reduce(
                || (0..query_rows).map(|_| Best::new(k)).collect(),
                |a, b| a.into_iter().zip(b).map(|(a, b)| a.merge(b)).collect(),
            );
        results.extend(best.into_iter().map(|b| b.items));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect()
    }

    fn brute_force(
        library: &[f32],
        query: &[f32],
        dim: usize,
        k: usize,
        skip: Option<usize>,
    ) -> Vec<Neighbour> {
        let mut all: Vec<Neighbour> = library
            .chunks_exact(dim)
            .enumerate()
            .filter(|(r, _)| Some(*r) != skip)
            .map(|(row, v)| Neighbour {
                row,
                score: v.iter().zip(query).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>() as f32,
            })
            .collect();
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        all.truncate(k);
        all
    }

    #[test]
    fn blocked_search_finds_what_brute_force_finds() {
        let dim = 24;
        // More rows than one block, so blocks are merged.
        let n = BLOCK_ROWS * 2 + 37;
        let library = pseudo_random(n * dim, 1);
        let queries: Vec<f32> =
            library[5 * dim..6 * dim].iter().chain(&pseudo_random(2 * dim, 9)).copied().collect();
        let found = exact_neighbours(&library, &queries, dim, 7, &|q, r| !(q == 0 && r == 5));
        assert_eq!(found.len(), 3);
        for (q, got) in found.iter().enumerate() {
            let query = &queries[q * dim..(q + 1) * dim];
            let want = brute_force(&library, query, dim, 7, (q == 0).then_some(5));
            assert_eq!(
                got.iter().map(|n| n.row).collect::<Vec<_>>(),
                want.iter().map(|n| n.row).collect::<Vec<_>>()
            );
            for (g, w) in got.iter().zip(&want) {
                assert!((g.score - w.score).abs() < 1e-4, "{} vs {}", g.score, w.score);
            }
        }
    }

    #[test]
    fn fewer_rows_than_k_gives_them_all_and_k_zero_gives_none() {
        let library = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
        let found = exact_neighbours(&library, &[1.0, 0.0], 2, 10, &|_, _| true);
        assert_eq!(found[0].iter().map(|n| n.row).collect::<Vec<_>>(), vec![0, 2, 1]);
        assert!(exact_neighbours(&library, &[1.0, 0.0], 2, 0, &|_, _| true)[0].is_empty());
    }

    #[test]
    fn ties_rank_by_row() {
        let library = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
        let found = exact_neighbours(&library, &[1.0, 1.0], 2, 2, &|_, _| true);
        assert_eq!(found[0].iter().map(|n| n.row).collect::<Vec<_>>(), vec![0, 1]);
    }
}
