//! Standardisation (scikit-learn's `StandardScaler`): zero mean, unit
//! population variance per column, fitted on training rows only.

use serde::{Deserialize, Serialize};

/// Per-column mean and scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations (1 where a column is constant).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits on `rows` (all the same width).
    pub fn fit(rows: &[Vec<f64>]) -> Self {
        let width = rows.first().map_or(0, Vec::len);
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; width];
        for r in rows {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v / n;
            }
        }
        let mut var = vec![0.0; width];
        for r in rows {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (v - m).powi(2) / n;
            }
        }
        let scale = var.iter().map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 }).collect();
        Self { mean, scale }
    }

    /// Standardises one row.
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        row.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_like_scikit_learn() {
        let s = StandardScaler::fit(&[vec![1.0, 5.0], vec![3.0, 5.0]]);
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.scale, vec![1.0, 1.0], "population std; constant column scale 1");
        assert_eq!(s.transform(&[3.0, 6.0]), vec![1.0, 1.0]);
    }
}
