//! Support-vector classification as libsvm does it (and so scikit-learn's
//! `SVC`): C-SVC per pair of classes (one-vs-one), solved by SMO with
//! second-order working-set selection (Fan, Chen and Lin 2005), Platt
//! sigmoids fitted on 5-fold cross-validated decision values, and pairwise
//! coupling (Wu, Lin and Weng 2004) into class probabilities.

use genreid_core::SplitMix64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// Kernel of the SVM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Kernel {
    /// `exp(-gamma * |a - b|^2)`.
    Rbf {
        /// Width parameter.
        gamma: f64,
    },
    /// `a . b`.
    Linear,
}

impl Kernel {
    fn eval(self, a: &[f64], b: &[f64]) -> f64 {
        match self {
            Self::Rbf { gamma } => {
                (-gamma * a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>()).exp()
            }
            Self::Linear => a.iter().zip(b).map(|(x, y)| x * y).sum(),
        }
    }
}

/// Hyper-parameters of [`Svm::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvmParams {
    /// Penalty on margin violations.
    pub c: f64,
    /// Kernel.
    pub kernel: Kernel,
    /// Stopping tolerance on the KKT gap (libsvm's `eps`, 1e-3).
    pub tol: f64,
    /// Seed of the cross-validation that calibrates probabilities.
    pub seed: u64,
}

/// One binary machine: class `a` (positive) against class `b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairMachine {
    /// Positive class index.
    pub a: usize,
    /// Negative class index.
    pub b: usize,
    /// Indices into [`Svm::support`].
    pub support: Vec<u32>,
    /// `y_i * alpha_i` of each support vector.
    pub coef: Vec<f64>,
    /// Offset: decision = `sum coef * K - rho`.
    pub rho: f64,
    /// Platt sigmoid slope.
    pub prob_a: f64,
    /// Platt sigmoid offset.
    pub prob_b: f64,
}

/// A fitted one-vs-one SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Svm {
    /// Kernel.
    pub kernel: Kernel,
    /// Number of classes.
    pub n_classes: usize,
    /// Support vectors shared by all pairs.
    pub support: Vec<Vec<f64>>,
    /// The `k (k - 1) / 2` binary machines, pair `(a, b)` with `a < b`.
    pub machines: Vec<PairMachine>,
}

const TAU: f64 = 1e-12;

/// Kernel rows of the training subset, computed on demand and cached under
/// a memory budget (rows evicted first in, first out).
struct KernelRows<'a> {
    x: Vec<&'a [f64]>,
    kernel: Kernel,
    rows: Vec<Option<Vec<f64>>>,
    order: std::collections::VecDeque<usize>,
    capacity: usize,
}

impl<'a> KernelRows<'a> {
    fn new(x: Vec<&'a [f64]>, kernel: Kernel) -> Self {
        let n = x.len().max(1);
        let capacity = ((256usize << 20) / (8 * n)).max(2);
        Self { rows: vec![None; x.len()], x, kernel, order: Default::default(), capacity }
    }

    fn row(&mut self, i: usize) -> &[f64] {
        if self.rows[i].is_none() {
            if self.order.len() >= self.capacity
                && let Some(old) = self.order.pop_front()
            {
                self.rows[old] = None;
            }
            let xi = self.x[i];
            self.rows[i] = Some(self.x.iter().map(|xj| self.kernel.eval(xi, xj)).collect());
            self.order.push_back(i);
        }
        self.rows[i].as_deref().unwrap_or(&[])
    }
}

/// Dual solution of one binary C-SVC: `alpha` and `rho`.
fn solve(x: &[&[f64]], y: &[f64], c: f64, kernel: Kernel, tol: f64) -> (Vec<f64>, f64) {
    let n = x.len();
    let diag: Vec<f64> = x.iter().map(|r| kernel.eval(r, r)).collect();
    let mut k = KernelRows::new(x.to_vec(), kernel);
    let mut alpha = vec![0.0; n];
    let mut grad = vec![-1.0; n];
    let upper = |a: f64| a >= c;
    let lower = |a: f64| a <= 0.0;
    let max_iter = 10_000_000usize.max(100 * n);
    // Copies of the two kernel rows in use (the cache may evict either).
    let (mut ki, mut kj) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..max_iter {
        // First index: the most violating in the "up" set.
        let (mut gmax, mut i) = (f64::NEG_INFINITY, usize::MAX);
        for t in 0..n {
            let v = if y[t] > 0.0 {
                (!upper(alpha[t])).then(|| -grad[t])
            } else {
                (!lower(alpha[t])).then(|| grad[t])
            };
            if let Some(v) = v
                && v >= gmax
            {
                (gmax, i) = (v, t);
            }
        }
        if i == usize::MAX {
            break;
        }
        ki.clear();
        ki.extend_from_slice(k.row(i));
        // Second index: the largest second-order decrease of the objective.
        let (mut gmax2, mut j, mut best) = (f64::NEG_INFINITY, usize::MAX, f64::INFINITY);
        for t in 0..n {
            let (movable, g) =
                if y[t] > 0.0 { (!lower(alpha[t]), grad[t]) } else { (!upper(alpha[t]), -grad[t]) };
            if !movable {
                continue;
            }
            gmax2 = gmax2.max(g);
            let diff = gmax + g;
            if diff > 0.0 {
                let quad = diag[i] + diag[t] - 2.0 * ki[t];
                let obj = -(diff * diff) / if quad > 0.0 { quad } else { TAU };
                if obj <= best {
                    (best, j) = (obj, t);
                }
            }
        }
        if gmax + gmax2 < tol || j == usize::MAX {
            break;
        }
        kj.clear();
        kj.extend_from_slice(k.row(j));
        let (old_i, old_j) = (alpha[i], alpha[j]);
        let qij = y[i] * y[j] * ki[j];
        if y[i] != y[j] {
            let quad = diag[i] + diag[j] + 2.0 * qij;
            let delta = (-grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    (alpha[j], alpha[i]) = (0.0, diff);
                }
            } else if alpha[i] < 0.0 {
                (alpha[i], alpha[j]) = (0.0, -diff);
            }
            if diff > 0.0 {
                if alpha[i] > c {
                    (alpha[i], alpha[j]) = (c, c - diff);
                }
            } else if alpha[j] > c {
                (alpha[j], alpha[i]) = (c, c + diff);
            }
        } else {
            let quad = diag[i] + diag[j] - 2.0 * qij;
            let delta = (grad[i] - grad[j]) / if quad > 0.0 { quad } else { TAU };
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c {
                if alpha[i] > c {
                    (alpha[i], alpha[j]) = (c, sum - c);
                }
            } else if alpha[j] < 0.0 {
                (alpha[j], alpha[i]) = (0.0, sum);
            }
            if sum > c {
                if alpha[j] > c {
                    (alpha[j], alpha[i]) = (c, sum - c);
                }
            } else if alpha[i] < 0.0 {
                (alpha[i], alpha[j]) = (0.0, sum);
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        for t in 0..n {
            grad[t] += y[t] * (y[i] * ki[t] * di + y[j] * kj[t] * dj);
        }
    }
    // Offset from the free support vectors (or the middle of the bounds).
    let (mut ub, mut lb, mut sum, mut free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
    for t in 0..n {
        let yg = y[t] * grad[t];
        if upper(alpha[t]) {
            if y[t] < 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
        } else if lower(alpha[t]) {
            if y[t] > 0.0 { ub = ub.min(yg) } else { lb = lb.max(yg) }
        } else {
            free += 1;
            sum += yg;
        }
    }
    let rho = if free > 0 { sum / free as f64 } else { (ub + lb) / 2.0 };
    (alpha, rho)
}

/// Decision value of a binary solution on `row`.
fn decide(x: &[&[f64]], y: &[f64], alpha: &[f64], rho: f64, kernel: Kernel, row: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .zip(alpha)
        .filter(|(_, a)| **a > 0.0)
        .map(|((xi, yi), a)| yi * a * kernel.eval(xi, row))
        .sum::<f64>()
        - rho
}

/// Platt's sigmoid `1 / (1 + exp(A f + B))` fitted to decision values
/// (the Newton method with backtracking of Lin, Lin and Weng 2007).
fn fit_sigmoid(dec: &[f64], positive: &[bool]) -> (f64, f64) {
    let prior1 = positive.iter().filter(|p| **p).count() as f64;
    let prior0 = dec.len() as f64 - prior1;
    let hi = (prior1 + 1.0) / (prior1 + 2.0);
    let lo = 1.0 / (prior0 + 2.0);
    let t: Vec<f64> = positive.iter().map(|&p| if p { hi } else { lo }).collect();
    let objective = |a: f64, b: f64| -> f64 {
        dec.iter()
            .zip(&t)
            .map(|(d, t)| {
                let f = d * a + b;
                if f >= 0.0 { t * f + (-f).exp().ln_1p() } else { (t - 1.0) * f + f.exp().ln_1p() }
            })
            .sum()
    };
    let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
    let mut fval = objective(a, b);
    for _ in 0..100 {
        let (mut h11, mut h22, mut h21, mut g1, mut g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0);
        for (d, t) in dec.iter().zip(&t) {
            let f = d * a + b;
            let (p, q) = if f >= 0.0 {
                let e = (-f).exp();
                (e / (1.0 + e), 1.0 / (1.0 + e))
            } else {
                let e = f.exp();
                (1.0 / (1.0 + e), e / (1.0 + e))
            };
            let d2 = p * q;
            h11 += d * d * d2;
            h22 += d2;
            h21 += d * d2;
            g1 += d * (t - p);
            g2 += t - p;
        }
        if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
            break;
        }
        let det = h11 * h22 - h21 * h21;
        let da = -(h22 * g1 - h21 * g2) / det;
        let db = -(-h21 * g1 + h11 * g2) / det;
        let gd = g1 * da + g2 * db;
        let mut step = 1.0;
        while step >= 1e-10 {
            let (na, nb) = (a + step * da, b + step * db);
            let nf = objective(na, nb);
            if nf < fval + 1e-4 * step * gd {
                (a, b, fval) = (na, nb, nf);
                break;
            }
            step /= 2.0;
        }
        if step < 1e-10 {
            break;
        }
    }
    (a, b)
}

fn sigmoid(dec: f64, a: f64, b: f64) -> f64 {
    let f = dec * a + b;
    if f >= 0.0 { (-f).exp() / (1.0 + (-f).exp()) } else { 1.0 / (1.0 + f.exp()) }
}

/// Class probabilities from pairwise ones, `r[i][j] = P(i | i or j)`
/// (method 2 of Wu, Lin and Weng, as libsvm).
fn couple(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    let eps = 0.005 / k as f64;
    for _ in 0..100.max(k) {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = (0..k).map(|j| q[t][j] * p[j]).sum();
            pqp += p[t] * qp[t];
        }
        if qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max) < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / ((1.0 + diff) * (1.0 + diff));
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

/// Decision values of 5-fold cross-validation on one pair's rows, for
/// calibrating its sigmoid without the optimism of training-set scores.
fn cross_validated_decisions(x: &[&[f64]], y: &[f64], params: &SvmParams) -> Vec<f64> {
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(params.seed).shuffle(&mut order);
    let folds = 5.min(n);
    let mut dec = vec![0.0; n];
    for f in 0..folds {
        let test: Vec<usize> = order.iter().skip(f).step_by(folds).copied().collect();
        let train: Vec<usize> =
            order.iter().enumerate().filter(|(position, _)| position % folds != f).map(|(_, &i)| i).collect();
        let xt: Vec<&[f64]> = train.iter().map(|&i| x[i]).collect();
        let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let positives = yt.iter().filter(|v| **v > 0.0).count();
        if positives == 0 || positives == yt.len() {
            // One class only in this training part: libsvm's fixed answer.
            let v = if positives > 0 { 1.0 } else { -1.0 };
            test.iter().for_each(|&i| dec[i] = v);
            continue;
        }
        let (alpha, rho) = solve(&xt, &yt, params.c, params.kernel, params.tol);
        for &i in &test {
            dec[i] = decide(&xt, &yt, &alpha, rho, params.kernel, x[i]);
        }
    }
    dec
}

impl Svm {
    /// Fits one machine per pair of classes, in parallel.
    pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, params: SvmParams) -> Result<Self> {
        if params.c.is_nan() || params.c <= 0.0 {
            return Err(ModelError::InvalidInput(format!("SVM: C must be positive, got {}", params.c)));
        }
        if let Kernel::Rbf { gamma } = params.kernel
            && (gamma.is_nan() || gamma <= 0.0)
        {
            return Err(ModelError::InvalidInput(format!("SVM: gamma must be positive, got {gamma}")));
        }
        let pairs: Vec<(usize, usize)> =
            (0..n_classes).flat_map(|a| (a + 1..n_classes).map(move |b| (a, b))).collect();
        // Each machine first lists its support vectors as training-row
        // indices; they are renumbered into the shared set below.
        let solved: Vec<PairMachine> = pairs
            .par_iter()
            .map(|&(a, b)| {
                let rows: Vec<usize> = (0..x.len()).filter(|&i| y[i] == a || y[i] == b).collect();
                let xs: Vec<&[f64]> = rows.iter().map(|&i| x[i].as_slice()).collect();
                let ys: Vec<f64> = rows.iter().map(|&i| if y[i] == a { 1.0 } else { -1.0 }).collect();
                if ys.iter().all(|v| *v > 0.0) || ys.iter().all(|v| *v < 0.0) {
                    // A class absent from training: this machine always
                    // favours the present one.
                    let bias = if ys.first().is_some_and(|v| *v > 0.0) { -1.0 } else { 1.0 };
                    return PairMachine {
                        a,
                        b,
                        support: Vec::new(),
                        coef: Vec::new(),
                        rho: bias,
                        prob_a: 0.0,
                        prob_b: 0.0,
                    };
                }
                let dec = cross_validated_decisions(&xs, &ys, &params);
                let positive: Vec<bool> = ys.iter().map(|v| *v > 0.0).collect();
                let (pa, pb) = fit_sigmoid(&dec, &positive);
                let (alpha, rho) = solve(&xs, &ys, params.c, params.kernel, params.tol);
                let (support, coef): (Vec<u32>, Vec<f64>) = rows
                    .iter()
                    .zip(&alpha)
                    .zip(&ys)
                    .filter(|((_, a), _)| **a > 0.0)
                    .map(|((&r, a), yv)| (r as u32, a * yv))
                    .unzip();
                PairMachine { a, b, support, coef, rho, prob_a: pa, prob_b: pb }
            })
            .collect();
        let mut support_of = vec![u32::MAX; x.len()];
        let mut support = Vec::new();
        let mut machines = solved;
        for m in &mut machines {
            for s in &mut m.support {
                let r = *s as usize;
                if support_of[r] == u32::MAX {
                    support_of[r] = support.len() as u32;
                    support.push(x[r].clone());
                }
                *s = support_of[r];
            }
        }
        Ok(Self { kernel: params.kernel, n_classes, support, machines })
    }

    /// Decision value of each pair machine on `row` (positive favours `a`).
    pub fn decision_values(&self, row: &[f64]) -> Vec<f64> {
        let k: Vec<f64> = self.support.iter().map(|s| self.kernel.eval(s, row)).collect();
        self.machines
            .iter()
            .map(|m| m.support.iter().zip(&m.coef).map(|(&s, c)| c * k[s as usize]).sum::<f64>() - m.rho)
            .collect()
    }

    /// Class probabilities by pairwise coupling of the calibrated machines.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let k = self.n_classes;
        let mut r = vec![vec![0.0; k]; k];
        for (m, d) in self.machines.iter().zip(self.decision_values(row)) {
            let p = if m.support.is_empty() {
                if d > 0.0 { 1.0 - 1e-7 } else { 1e-7 }
            } else {
                sigmoid(d, m.prob_a, m.prob_b).clamp(1e-7, 1.0 - 1e-7)
            };
            r[m.a][m.b] = p;
            r[m.b][m.a] = 1.0 - p;
        }
        if k == 1 {
            return vec![1.0];
        }
        couple(&r)
    }

    /// Row length the model takes.
    pub fn n_features(&self) -> usize {
        self.support.first().map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_blobs_and_reports_calibrated_probabilities() {
        let mut rng = SplitMix64::new(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..60 {
            let c = i % 3;
            let jitter = |r: &mut SplitMix64| (r.below(1000) as f64 / 1000.0 - 0.5) * 0.8;
            x.push(vec![c as f64 * 2.0 + jitter(&mut rng), jitter(&mut rng)]);
            y.push(c);
        }
        let params = SvmParams { c: 1.0, kernel: Kernel::Rbf { gamma: 0.5 }, tol: 1e-3, seed: 0 };
        let svm = Svm::fit(&x, &y, 3, params).unwrap();
        for (row, &c) in x.iter().zip(&y) {
            let p = svm.predict_proba(row);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best, c, "{row:?} -> {p:?}");
        }
        assert_eq!(svm.machines.len(), 3);
    }

    #[test]
    fn linear_kernel_matches_the_analytic_margin() {
        // Two points at -1 and +1: the hard-margin solution is w = 1, b = 0,
        // alpha = 0.5 each (C large enough not to bind).
        let x = [vec![-1.0], vec![1.0]];
        let refs: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        let (alpha, rho) = solve(&refs, &[-1.0, 1.0], 10.0, Kernel::Linear, 1e-9);
        assert!((alpha[0] - 0.5).abs() < 1e-9 && (alpha[1] - 0.5).abs() < 1e-9, "{alpha:?}");
        assert!(rho.abs() < 1e-9);
    }

    #[test]
    fn coupling_recovers_consistent_pairwise_probabilities() {
        let p = [0.5, 0.3, 0.2];
        let r: Vec<Vec<f64>> = (0..3)
            .map(|i| (0..3).map(|j| if i == j { 0.0 } else { p[i] / (p[i] + p[j]) }).collect())
            .collect();
        let q = couple(&r);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-3, "{q:?}");
        }
    }
}
