//! Two-dimensional views of a feature table for the reports: PCA, LDA and
//! t-SNE of the standardised features (seed 003 looks at its GTZAN table
//! this way).

use genreid_data::SplitMix64;
use nalgebra::{DMatrix, SymmetricEigen};
use rayon::prelude::*;

/// Columns of `x` scaled to zero mean and unit variance (constant columns
/// are centred only).
pub fn standardise(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let scaler = genreid_models::StandardScaler::fit(x);
    x.iter().map(|r| scaler.transform(r)).collect()
}

fn matrix(x: &[Vec<f64>]) -> DMatrix<f64> {
    let d = x.first().map_or(0, Vec::len);
    DMatrix::from_fn(x.len(), d, |i, j| x[i][j])
}

/// Eigenvectors of a symmetric matrix, by decreasing eigenvalue.
fn top_eigenvectors(m: DMatrix<f64>, n: usize) -> Vec<Vec<f64>> {
    let eigen = SymmetricEigen::new(m);
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    order.iter().take(n).map(|&k| eigen.eigenvectors.column(k).iter().copied().collect()).collect()
}

fn project(x: &[Vec<f64>], axes: &[Vec<f64>]) -> Vec<Vec<f64>> {
    x.iter().map(|r| axes.iter().map(|a| a.iter().zip(r).map(|(u, v)| u * v).sum()).collect()).collect()
}

/// The first `n` principal components of centred rows.
pub fn pca(x: &[Vec<f64>], n: usize) -> Vec<Vec<f64>> {
    let m = matrix(x);
    let mean = m.row_mean();
    let centred = DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] - mean[j]);
    let axes = top_eigenvectors(centred.transpose() * &centred, n);
    let rows: Vec<Vec<f64>> = (0..m.nrows()).map(|i| centred.row(i).iter().copied().collect()).collect();
    project(&rows, &axes)
}

/// Fisher's linear discriminants: the two directions that best separate the
/// classes `y` relative to their spread (within-class scatter lightly
/// regularised so that it is invertible).
pub fn lda(x: &[Vec<f64>], y: &[usize], n_classes: usize, n: usize) -> Vec<Vec<f64>> {
    let d = x.first().map_or(0, Vec::len);
    let mut means = vec![vec![0.0; d]; n_classes];
    let mut counts = vec![0usize; n_classes];
    for (r, &c) in x.iter().zip(y) {
        counts[c] += 1;
        means[c].iter_mut().zip(r).for_each(|(m, v)| *m += v);
    }
    for (m, &c) in means.iter_mut().zip(&counts) {
        m.iter_mut().for_each(|v| *v /= c.max(1) as f64);
    }
    let overall: Vec<f64> =
        (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / x.len().max(1) as f64).collect();
    let mut within = DMatrix::<f64>::zeros(d, d);
    for (r, &c) in x.iter().zip(y) {
        let v = DMatrix::from_fn(d, 1, |j, _| r[j] - means[c][j]);
        within += &v * v.transpose();
    }
    let mut between = DMatrix::<f64>::zeros(d, d);
    for (m, &c) in means.iter().zip(&counts) {
        let v = DMatrix::from_fn(d, 1, |j, _| m[j] - overall[j]);
        between += (&v * v.transpose()) * c as f64;
    }
    let ridge = 1e-6 * within.trace().max(1e-12) / d.max(1) as f64;
    within += DMatrix::identity(d, d) * ridge;
    // Whiten by within^(-1/2), then the ordinary eigenproblem.
    let w = SymmetricEigen::new(within);
    let inv_sqrt = &w.eigenvectors
        * DMatrix::from_diagonal(&w.eigenvalues.map(|v| 1.0 / v.max(1e-300).sqrt()))
        * w.eigenvectors.transpose();
    let axes = top_eigenvectors(&inv_sqrt * between * &inv_sqrt, n);
    let axes: Vec<Vec<f64>> = axes
        .iter()
        .map(|u| (&inv_sqrt * DMatrix::from_column_slice(d, 1, u)).iter().copied().collect())
        .collect();
    project(x, &axes)
}

fn normal(rng: &mut SplitMix64) -> f64 {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let v = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Exact t-SNE (van der Maaten and Hinton 2008) to two dimensions, with
/// scikit-learn's settings: perplexity 30, early exaggeration 12 for 250
/// iterations, 1000 iterations, learning rate `max(n / 48, 50)`, momentum
/// 0.5 then 0.8, gains. Rows are first reduced to 50 principal components.
pub fn tsne(x: &[Vec<f64>], perplexity: f64, seed: u64) -> Vec<[f64; 2]> {
    let n = x.len();
    if n < 3 {
        return vec![[0.0, 0.0]; n];
    }
    let x = if x[0].len() > 50 { pca(x, 50) } else { x.to_vec() };
    let dist: Vec<Vec<f64>> = x
        .par_iter()
        .map(|a| x.iter().map(|b| a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum()).collect())
        .collect();
    let perplexity = perplexity.min((n - 1) as f64 / 3.0).max(1.0);
    let target = perplexity.ln();
    // Conditional probabilities with each row's bandwidth found by bisection.
    let conditional: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (mut lo, mut hi, mut beta) = (0.0f64, f64::INFINITY, 1.0f64);
            let mut p = vec![0.0; n];
            for _ in 0..100 {
                let min = (0..n).filter(|&j| j != i).map(|j| dist[i][j]).fold(f64::INFINITY, f64::min);
                let mut sum = 0.0;
                for (j, (pj, dj)) in p.iter_mut().zip(&dist[i]).enumerate() {
                    *pj = if j == i { 0.0 } else { (-(dj - min) * beta).exp() };
                    sum += *pj;
                }
                let mut entropy = 0.0;
                for pj in &mut p {
                    *pj /= sum;
                    if *pj > 1e-300 {
                        entropy -= *pj * pj.ln();
                    }
                }
                if (entropy - target).abs() < 1e-5 {
                    break;
                }
                if entropy > target {
                    lo = beta;
                    beta = if hi.is_finite() { (beta + hi) / 2.0 } else { beta * 2.0 };
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2.0;
                }
            }
            p
        })
        .collect();
    let p: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n).map(|j| ((conditional[i][j] + conditional[j][i]) / (2.0 * n as f64)).max(1e-12)).collect()
        })
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut y: Vec<[f64; 2]> = (0..n).map(|_| [1e-4 * normal(&mut rng), 1e-4 * normal(&mut rng)]).collect();
    let mut update = vec![[0.0; 2]; n];
    let mut gains = vec![[1.0; 2]; n];
    let rate = (n as f64 / 48.0).max(50.0);
    for iteration in 0..1000 {
        let exaggeration = if iteration < 250 { 12.0 } else { 1.0 };
        let momentum = if iteration < 250 { 0.5 } else { 0.8 };
        let kernel: Vec<Vec<f64>> = y
            .par_iter()
            .enumerate()
            .map(|(i, a)| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            0.0
                        } else {
                            1.0 / (1.0 + (a[0] - y[j][0]).powi(2) + (a[1] - y[j][1]).powi(2))
                        }
                    })
                    .collect()
            })
            .collect();
        let total: f64 = kernel.iter().map(|r| r.iter().sum::<f64>()).sum();
        let grad: Vec<[f64; 2]> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut g = [0.0; 2];
                for j in 0..n {
                    let w = (exaggeration * p[i][j] - kernel[i][j] / total) * kernel[i][j];
                    g[0] += 4.0 * w * (y[i][0] - y[j][0]);
                    g[1] += 4.0 * w * (y[i][1] - y[j][1]);
                }
                g
            })
            .collect();
        for i in 0..n {
            for d in 0..2 {
                let same_sign = (grad[i][d] > 0.0) == (update[i][d] > 0.0);
                gains[i][d] = if same_sign { (gains[i][d] * 0.8f64).max(0.01) } else { gains[i][d] + 0.2 };
                update[i][d] = momentum * update[i][d] - rate * gains[i][d] * grad[i][d];
                y[i][d] += update[i][d];
            }
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_clusters() -> (Vec<Vec<f64>>, Vec<usize>) {
        let mut rng = SplitMix64::new(5);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let c = i % 2;
            let centre = if c == 0 { -3.0 } else { 3.0 };
            x.push(vec![centre + 0.5 * normal(&mut rng), normal(&mut rng), normal(&mut rng) * 0.1]);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn pca_lda_and_tsne_keep_separated_clusters_apart() {
        let (x, y) = two_clusters();
        for (name, view) in [("pca", pca(&x, 2)), ("lda", lda(&x, &y, 2, 2))] {
            // The first axis alone separates the classes at the midpoint of their means.
            let mean = |c: usize| {
                view.iter().zip(&y).filter(|(_, l)| **l == c).map(|(v, _)| v[0]).sum::<f64>() / 30.0
            };
            let (m0, m1) = (mean(0), mean(1));
            let mid = (m0 + m1) / 2.0;
            for (v, &c) in view.iter().zip(&y) {
                let nearer_own =
                    if c == 0 { (v[0] - mid) * (m0 - mid) > 0.0 } else { (v[0] - mid) * (m1 - mid) > 0.0 };
                assert!(nearer_own, "{name}: {v:?} of class {c}, means {m0} {m1}");
            }
        }
        let t = tsne(&x, 10.0, 0);
        let centroid = |c: usize| {
            let pts: Vec<&[f64; 2]> = t.iter().zip(&y).filter(|(_, l)| **l == c).map(|(p, _)| p).collect();
            [pts.iter().map(|p| p[0]).sum::<f64>() / 30.0, pts.iter().map(|p| p[1]).sum::<f64>() / 30.0]
        };
        let (a, b) = (centroid(0), centroid(1));
        // Every point sits nearer its own cluster's centroid.
        for (p, &c) in t.iter().zip(&y) {
            let d = |q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
            assert_eq!(d(a) < d(b), c == 0);
        }
    }
}
