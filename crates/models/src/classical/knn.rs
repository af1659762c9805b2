//! k-nearest neighbours (scikit-learn's `KNeighborsClassifier` defaults:
//! Euclidean distance, uniform weights; probabilities are vote fractions).

use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// A fitted k-NN model: the training rows themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knn {
    /// Neighbours consulted.
    pub k: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Training rows.
    pub x: Vec<Vec<f64>>,
    /// Their class indices.
    pub y: Vec<usize>,
}

impl Knn {
    /// Stores the training set.
    pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, k: usize) -> Result<Self> {
        if k == 0 {
            return Err(ModelError::InvalidInput("k must be at least 1".into()));
        }
        Ok(Self { k: k.min(x.len()), n_classes, x: x.to_vec(), y: y.to_vec() })
    }

    /// Fraction of the `k` nearest training rows in each class (ties in
    /// distance broken by training order, as scikit-learn's brute force does).
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut d: Vec<(f64, usize)> = self
            .x
            .iter()
            .enumerate()
            .map(|(i, t)| (t.iter().zip(row).map(|(a, b)| (a - b).powi(2)).sum::<f64>(), i))
            .collect();
        let k = self.k.min(d.len());
        if k == 0 {
            return vec![1.0 / self.n_classes as f64; self.n_classes];
        }
        d.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut p = vec![0.0; self.n_classes];
        for &(_, i) in &d[..k] {
            p[self.y[i]] += 1.0 / k as f64;
        }
        p
    }
}
