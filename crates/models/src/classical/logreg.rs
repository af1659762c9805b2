//! Multinomial logistic regression with an L2 penalty (scikit-learn's
//! `LogisticRegression` defaults: `C = 1`, lbfgs, intercept not penalised),
//! minimised with L-BFGS.

use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::softmax;
use crate::{ModelError, Result};

/// A fitted model: one weight row and intercept per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// `[n_classes][n_features]` weights.
    pub weights: Vec<Vec<f64>>,
    /// Per-class intercepts.
    pub intercepts: Vec<f64>,
}

/// Data term `sum_i -log p(y_i | x_i)` of `rows` and its gradient, added
/// into `grad`.
fn data_loss_grad(theta: &[f64], x: &[Vec<f64>], y: &[usize], k: usize, grad: &mut [f64]) -> f64 {
    let d = x[0].len();
    let mut loss = 0.0;
    let mut z = vec![0.0; k];
    for (row, &label) in x.iter().zip(y) {
        for (j, zj) in z.iter_mut().enumerate() {
            let w = &theta[j * d..(j + 1) * d];
            *zj = theta[k * d + j] + w.iter().zip(row).map(|(a, b)| a * b).sum::<f64>();
        }
        softmax(&mut z);
        loss -= z[label].max(1e-300).ln();
        for j in 0..k {
            let e = z[j] - f64::from(u8::from(j == label));
            for (g, v) in grad[j * d..(j + 1) * d].iter_mut().zip(row) {
                *g += e * v;
            }
            grad[k * d + j] += e;
        }
    }
    loss
}

/// Rows per parallel chunk of the data term (small tables stay on one thread).
const CHUNK_ROWS: usize = 256;

/// Loss `sum_i -log p(y_i | x_i) + |W|^2 / (2C)` and its gradient, for the
/// flattened parameters `[W (k*d), b (k)]`; the data term is summed over
/// chunks of rows in parallel.
fn loss_grad(theta: &[f64], x: &[Vec<f64>], y: &[usize], k: usize, c: f64, grad: &mut [f64]) -> f64 {
    let d = x[0].len();
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut loss = if x.len() <= CHUNK_ROWS {
        data_loss_grad(theta, x, y, k, grad)
    } else {
        let (loss, sum) = x
            .par_chunks(CHUNK_ROWS)
            .zip(y.par_chunks(CHUNK_ROWS))
            .map(|(xc, yc)| {
                let mut g = vec![0.0; grad.len()];
                (data_loss_grad(theta, xc, yc, k, &mut g), g)
            })
            .reduce_with(|(la, mut ga), (lb, gb)| {
                ga.iter_mut().zip(&gb).for_each(|(a, b)| *a += b);
                (la + lb, ga)
            })
            .unwrap_or((0.0, vec![0.0; grad.len()]));
        grad.copy_from_slice(&sum);
        loss
    };
    for i in 0..k * d {
        loss += theta[i] * theta[i] / (2.0 * c);
        grad[i] += theta[i] / c;
    }
    loss
}

impl LogisticRegression {
    /// Fits by L-BFGS (memory 10) until the largest gradient entry of the
    /// per-row mean loss is below 1e-4 (scikit-learn's `tol` on its
    /// sample-normalised objective) or `max_iter` iterations.
    pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, c: f64, max_iter: usize) -> Result<Self> {
        if c.is_nan() || c <= 0.0 {
            return Err(ModelError::InvalidInput("C must be positive".into()));
        }
        let Some(d) = x.first().map(Vec::len) else {
            return Err(ModelError::InvalidInput("no training rows".into()));
        };
        if x.len() != y.len() || y.iter().any(|&c| c >= n_classes) || x.iter().any(|r| r.len() != d) {
            return Err(ModelError::InvalidInput("rows, widths and class indices disagree".into()));
        }
        let n = n_classes * d + n_classes;
        let mut theta = vec![0.0; n];
        let mut grad = vec![0.0; n];
        let mut loss = loss_grad(&theta, x, y, n_classes, c, &mut grad);
        let (mut s_hist, mut y_hist): (Vec<Vec<f64>>, Vec<Vec<f64>>) = (Vec::new(), Vec::new());
        let mut new_grad = vec![0.0; n];
        for _ in 0..max_iter {
            if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < 1e-4 * x.len() as f64 {
                break;
            }
            // Two-loop recursion for the search direction.
            let mut q = grad.clone();
            let mut alphas = Vec::with_capacity(s_hist.len());
            for (s, yv) in s_hist.iter().zip(&y_hist).rev() {
                let rho = 1.0 / dot(yv, s);
                let a = rho * dot(s, &q);
                axpy(-a, yv, &mut q);
                alphas.push((a, rho));
            }
            if let (Some(s), Some(yv)) = (s_hist.last(), y_hist.last()) {
                let gamma = dot(s, yv) / dot(yv, yv);
                q.iter_mut().for_each(|v| *v *= gamma);
            }
            for ((s, yv), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
                let b = rho * dot(yv, &q);
                axpy(a - b, s, &mut q);
            }
            let dir: Vec<f64> = q.iter().map(|v| -v).collect();
            let slope = dot(&grad, &dir);
            let dir = if slope < 0.0 { dir } else { grad.iter().map(|g| -g).collect() };
            let slope = dot(&grad, &dir);
            // Backtracking (Armijo) line search.
            let mut step = if s_hist.is_empty() {
                1.0 / grad.iter().map(|g| g.abs()).sum::<f64>().max(1.0)
            } else {
                1.0
            };
            let mut accepted = None;
            for _ in 0..40 {
                let trial: Vec<f64> = theta.iter().zip(&dir).map(|(t, d)| t + step * d).collect();
                let l = loss_grad(&trial, x, y, n_classes, c, &mut new_grad);
                if l <= loss + 1e-4 * step * slope {
                    accepted = Some((trial, l));
                    break;
                }
                step *= 0.5;
            }
            let Some((trial, l)) = accepted else { break };
            let s: Vec<f64> = trial.iter().zip(&theta).map(|(a, b)| a - b).collect();
            let yv: Vec<f64> = new_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
            if dot(&s, &yv) > 1e-12 {
                s_hist.push(s);
                y_hist.push(yv);
                if s_hist.len() > 10 {
                    s_hist.remove(0);
                    y_hist.remove(0);
                }
            }
            let converged = (loss - l).abs() <= 1e-12 * loss.abs().max(1.0);
            theta = trial;
            loss = l;
            grad.copy_from_slice(&new_grad);
            if converged {
                break;
            }
        }
        Ok(Self {
            weights: (0..n_classes).map(|j| theta[j * d..(j + 1) * d].to_vec()).collect(),
            intercepts: theta[n_classes * d..].to_vec(),
        })
    }

    /// Softmax class probabilities for one row.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut z: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.intercepts)
            .map(|(w, b)| b + w.iter().zip(row).map(|(a, v)| a * v).sum::<f64>())
            .collect();
        softmax(&mut z);
        z
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yv, xv)| *yv += a * xv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_gaussian_blobs_and_gradient_vanishes() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..50 {
            let t = i as f64 / 50.0;
            x.push(vec![-2.0 + t.sin(), 1.0 + t.cos()]);
            y.push(0);
            x.push(vec![2.0 + t.cos(), -1.0 + t.sin()]);
            y.push(1);
        }
        let m = LogisticRegression::fit(&x, &y, 2, 1.0, 500).unwrap();
        let correct = x.iter().zip(&y).filter(|&(r, &c)| {
            let p = m.predict_proba(r);
            (p[1] > p[0]) == (c == 1)
        });
        assert_eq!(correct.count(), 100);
        let mut theta: Vec<f64> = m.weights.concat();
        theta.extend(&m.intercepts);
        let mut g = vec![0.0; theta.len()];
        loss_grad(&theta, &x, &y, 2, 1.0, &mut g);
        // Stationary to scikit-learn's tolerance: 1e-4 on the mean loss's gradient.
        assert!(g.iter().all(|v| v.abs() / x.len() as f64 <= 1e-4), "optimum reached: {g:?}");
    }
}
