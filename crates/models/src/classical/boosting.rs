//! Gradient-boosted trees with the multi-class softmax loss, as XGBoost's
//! `multi:softprob` with its defaults: 100 rounds of one depth-6 tree per
//! class, learning rate 0.3, `lambda = 1`, `min_child_weight = 1`, grown
//! on feature histograms (XGBoost's `hist`, 256 bins).

use genreid_core::SplitMix64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::softmax;
use super::tree::{Binned, Growth, Objective, Tree, grow};
use crate::{ModelError, Result};

/// Hyper-parameters of [`GradientBoosting::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoostingParams {
    /// Boosting rounds.
    pub n_rounds: usize,
    /// Shrinkage of each tree.
    pub learning_rate: f64,
    /// Deepest level of a tree.
    pub max_depth: usize,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Least hessian sum in a child.
    pub min_child_weight: f64,
}

/// A fitted booster: `rounds[r][class]` trees whose leaves hold margins
/// (already scaled by the learning rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    /// Number of classes.
    pub n_classes: usize,
    /// Row length.
    pub n_features: usize,
    /// Trees by round, then class.
    pub rounds: Vec<Vec<Tree>>,
}

impl GradientBoosting {
    /// Boosts `n_rounds` rounds; each round's class trees grow in parallel.
    pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, params: BoostingParams) -> Result<Self> {
        if params.learning_rate.is_nan() || params.learning_rate <= 0.0 || params.n_rounds == 0 {
            return Err(ModelError::InvalidInput(
                "gradient boosting: need n_rounds >= 1 and a positive learning_rate".into(),
            ));
        }
        let n = x.len();
        let binned = Binned::new(x, 256);
        let d = binned.bins.len();
        let growth = Growth { max_depth: params.max_depth, min_samples_split: 2, max_features: usize::MAX };
        let objective = Objective::Newton {
            lambda: params.lambda,
            gamma: 0.0,
            min_child_weight: params.min_child_weight,
        };
        let mut margins = vec![0.0; n * n_classes];
        let mut rounds = Vec::with_capacity(params.n_rounds);
        for _ in 0..params.n_rounds {
            let mut p = margins.clone();
            p.chunks_mut(n_classes).for_each(softmax);
            let trees: Vec<Tree> = (0..n_classes)
                .into_par_iter()
                .map(|c| {
                    let stats: Vec<f64> = (0..n)
                        .flat_map(|i| {
                            let pc = p[i * n_classes + c];
                            let target = f64::from(u8::from(y[i] == c));
                            [pc - target, (2.0 * pc * (1.0 - pc)).max(1e-16)]
                        })
                        .collect();
                    let rows = (0..n as u32).collect();
                    let (mut tree, _) =
                        grow(&binned, rows, &stats, 2, objective, growth, &mut SplitMix64::new(0));
                    for node in &mut tree.nodes {
                        node.value.iter_mut().for_each(|v| *v *= params.learning_rate);
                    }
                    tree
                })
                .collect();
            for (i, row) in x.iter().enumerate() {
                for (c, tree) in trees.iter().enumerate() {
                    margins[i * n_classes + c] += tree.predict(row)[0];
                }
            }
            rounds.push(trees);
        }
        Ok(Self { n_classes, n_features: d, rounds })
    }

    /// Softmax of the summed margins.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut z = vec![0.0; self.n_classes];
        for trees in &self.rounds {
            for (zc, tree) in z.iter_mut().zip(trees) {
                *zc += tree.predict(row)[0];
            }
        }
        softmax(&mut z);
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_an_xor_a_linear_model_cannot() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let (a, b) = ((i % 2) as f64, ((i / 2) % 2) as f64);
            x.push(vec![a + (i % 7) as f64 * 0.01, b + (i % 5) as f64 * 0.01]);
            y.push(usize::from((a > 0.5) != (b > 0.5)));
        }
        let params = BoostingParams {
            n_rounds: 20,
            learning_rate: 0.3,
            max_depth: 3,
            lambda: 1.0,
            min_child_weight: 1.0,
        };
        let m = GradientBoosting::fit(&x, &y, 2, params).unwrap();
        for (row, &c) in x.iter().zip(&y) {
            assert!(m.predict_proba(row)[c] > 0.9);
        }
    }
}
