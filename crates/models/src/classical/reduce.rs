//! Dimension reduction between the scaler and the classifier (seed 000's
//! Table II): a truncated SVD of the standardised features, the columns a
//! random forest finds most important, or the code of seed 000's dual-loss
//! autoencoder. Fitted on training rows only.

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::autoencoder::{self, Encoder};
use super::forest::{ForestParams, RandomForest};
use crate::{ModelError, Result};

/// How to reduce, as given on the command line (`svd:N`, `rf-importance:N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum ReduceSpec {
    /// Project on the top `n` right singular vectors.
    Svd {
        /// Output dimension.
        n: usize,
    },
    /// Keep the `n` columns of largest random-forest importance.
    RfImportance {
        /// Columns kept.
        n: usize,
    },
    /// The `n`-wide code of a dual-loss autoencoder.
    Autoencoder {
        /// Code width.
        n: usize,
    },
}

impl std::str::FromStr for ReduceSpec {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            ModelError::InvalidInput(format!(
                "--reduce {s:?}: expected svd:N, rf-importance:N or autoencoder:N"
            ))
        };
        let (method, n) = s.split_once(':').ok_or_else(bad)?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        match method.trim() {
            "svd" => Ok(Self::Svd { n }),
            "rf-importance" => Ok(Self::RfImportance { n }),
            "autoencoder" => Ok(Self::Autoencoder { n }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for ReduceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Svd { n } => write!(f, "svd:{n}"),
            Self::RfImportance { n } => write!(f, "rf-importance:{n}"),
            Self::Autoencoder { n } => write!(f, "autoencoder:{n}"),
        }
    }
}

/// A fitted reduction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Reducer {
    /// Rows of the projection (`n` × input width), by decreasing singular value.
    Svd {
        /// Right singular vectors.
        components: Vec<Vec<f64>>,
        /// Share of the total sum of squares each component explains.
        explained: Vec<f64>,
    },
    /// Kept column indices, most important first.
    Select {
        /// Column indices into the standardised row.
        columns: Vec<usize>,
    },
    /// A dual-loss autoencoder's encoder.
    Autoencoder {
        /// The encoder.
        encoder: Encoder,
    },
}

impl Reducer {
    /// Fits `spec` on standardised rows `x` with classes `y`. An `n` at or
    /// above the row width keeps everything (as the sweep's last point).
    pub fn fit(spec: ReduceSpec, x: &[Vec<f64>], y: &[usize], n_classes: usize) -> Result<Self> {
        let d = x.first().map_or(0, Vec::len);
        match spec {
            ReduceSpec::Svd { n } => {
                // Right singular vectors of X are the eigenvectors of XᵀX.
                let m = DMatrix::from_fn(x.len(), d, |i, j| x[i][j]);
                let gram = m.transpose() * &m;
                let eigen = SymmetricEigen::new(gram);
                let mut order: Vec<usize> = (0..d).collect();
                order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
                let total: f64 = eigen.eigenvalues.iter().map(|v| v.max(0.0)).sum();
                let keep = &order[..n.min(d)];
                let components = keep
                    .iter()
                    .map(|&k| {
                        let v: Vec<f64> = eigen.eigenvectors.column(k).iter().copied().collect();
                        // Deterministic sign: largest entry positive (as sklearn's svd_flip).
                        let big =
                            v.iter().copied().fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
                        if big < 0.0 { v.iter().map(|e| -e).collect() } else { v }
                    })
                    .collect();
                let explained = keep
                    .iter()
                    .map(|&k| eigen.eigenvalues[k].max(0.0) / total.max(f64::MIN_POSITIVE))
                    .collect();
                Ok(Self::Svd { components, explained })
            }
            ReduceSpec::RfImportance { n } => {
                let params = ForestParams {
                    n_trees: 100,
                    max_depth: None,
                    min_samples_split: 2,
                    max_features: None,
                    seed: 0,
                };
                let forest = RandomForest::fit(x, y, n_classes, params)?;
                let mut columns: Vec<usize> = (0..d).collect();
                columns.sort_by(|&a, &b| {
                    forest.importances[b].total_cmp(&forest.importances[a]).then(a.cmp(&b))
                });
                columns.truncate(n.min(d));
                Ok(Self::Select { columns })
            }
            ReduceSpec::Autoencoder { n } => {
                Ok(Self::Autoencoder { encoder: autoencoder::fit(x, y, n_classes, n, 0)? })
            }
        }
    }

    /// The reduced row.
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Self::Svd { components, .. } => {
                components.iter().map(|c| c.iter().zip(row).map(|(a, b)| a * b).sum()).collect()
            }
            Self::Select { columns } => columns.iter().map(|&c| row[c]).collect(),
            Self::Autoencoder { encoder } => encoder.encode(row),
        }
    }

    /// Width of the reduced row.
    pub fn output_width(&self) -> usize {
        match self {
            Self::Svd { components, .. } => components.len(),
            Self::Select { columns } => columns.len(),
            Self::Autoencoder { encoder } => encoder.width(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svd_finds_the_direction_of_largest_spread() {
        // Points along (1, 1) with a little spread along (1, -1).
        let x: Vec<Vec<f64>> = (-5..=5)
            .map(|t| {
                let (a, b) = (t as f64, if t % 2 == 0 { 0.1 } else { -0.1 });
                vec![a + b, a - b]
            })
            .collect();
        let y = vec![0; x.len()];
        let r = Reducer::fit(ReduceSpec::Svd { n: 1 }, &x, &y, 1).unwrap();
        let Reducer::Svd { components, explained } = &r else { panic!() };
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((components[0][0] - s).abs() < 1e-9 && (components[0][1] - s).abs() < 1e-9);
        assert!(explained[0] > 0.99);
        assert!((r.transform(&[1.0, 1.0])[0] - 2.0 * s).abs() < 1e-9);
        assert_eq!("rf-importance:10".parse::<ReduceSpec>().unwrap(), ReduceSpec::RfImportance { n: 10 });
        assert!("svd:0".parse::<ReduceSpec>().is_err() && "pca:3".parse::<ReduceSpec>().is_err());
    }
}
