//! Random forest (scikit-learn's `RandomForestClassifier` defaults: 100
//! fully grown Gini trees with exact splits on bootstrap samples, `sqrt(d)` features tried
//! per split; probabilities are the mean of the trees' leaf distributions;
//! importances are the mean decrease in impurity).

use genreid_core::SplitMix64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::tree::{Binned, EXACT_BINS, Growth, Objective, Tree, grow};
use crate::{ModelError, Result};

/// Hyper-parameters of [`RandomForest::fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    /// Trees in the forest.
    pub n_trees: usize,
    /// Deepest level of a tree (`None`: grow until pure).
    pub max_depth: Option<usize>,
    /// Least rows a node needs to be split.
    pub min_samples_split: usize,
    /// Features tried per split (`None`: `sqrt(d)`).
    pub max_features: Option<usize>,
    /// Seed of the bootstrap samples and feature draws.
    pub seed: u64,
}

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    /// Number of classes.
    pub n_classes: usize,
    /// Row length.
    pub n_features: usize,
    /// The trees; each leaf holds a class distribution.
    pub trees: Vec<Tree>,
    /// Mean decrease in impurity of each feature, summing to 1.
    pub importances: Vec<f64>,
}

impl RandomForest {
    /// Grows the trees in parallel.
    pub fn fit(x: &[Vec<f64>], y: &[usize], n_classes: usize, params: ForestParams) -> Result<Self> {
        if params.n_trees == 0 {
            return Err(ModelError::InvalidInput("random forest: n_trees must be at least 1".into()));
        }
        let d = x.first().map_or(0, Vec::len);
        let binned = Binned::new(x, EXACT_BINS);
        let growth = Growth {
            max_depth: params.max_depth.unwrap_or(usize::MAX),
            min_samples_split: params.min_samples_split,
            max_features: params.max_features.unwrap_or_else(|| ((d as f64).sqrt() as usize).max(1)),
        };
        // Each tree's generator is seeded by a draw of a master generator
        // (seeding with `seed + t` would give overlapping, shifted streams).
        let mut master = SplitMix64::new(params.seed);
        let seeds: Vec<u64> = (0..params.n_trees).map(|_| master.next_u64()).collect();
        let grown: Vec<(Tree, Vec<f64>)> = seeds
            .into_par_iter()
            .map(|seed| {
                let mut rng = SplitMix64::new(seed);
                let mut weight = vec![0.0; x.len()];
                for _ in 0..x.len() {
                    weight[rng.below(x.len())] += 1.0;
                }
                let mut stats = vec![0.0; x.len() * n_classes];
                let mut rows = Vec::new();
                for (i, &w) in weight.iter().enumerate() {
                    if w > 0.0 {
                        stats[i * n_classes + y[i]] = w;
                        rows.push(i as u32);
                    }
                }
                grow(&binned, rows, &stats, n_classes, Objective::Gini, growth, &mut rng)
            })
            .collect();
        let mut importances = vec![0.0; d];
        let mut trees = Vec::with_capacity(grown.len());
        for (tree, gains) in grown {
            let total: f64 = gains.iter().sum();
            if total > 0.0 {
                importances.iter_mut().zip(&gains).for_each(|(i, g)| *i += g / total);
            }
            trees.push(tree);
        }
        let total: f64 = importances.iter().sum();
        if total > 0.0 {
            importances.iter_mut().for_each(|i| *i /= total);
        }
        Ok(Self { n_classes, n_features: d, trees, importances })
    }

    /// Mean of the trees' leaf class distributions.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.n_classes];
        for tree in &self.trees {
            p.iter_mut().zip(tree.predict(row)).for_each(|(a, b)| *a += b);
        }
        let n = self.trees.len().max(1) as f64;
        p.iter_mut().for_each(|v| *v /= n);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_informative_feature() {
        let mut rng = SplitMix64::new(1);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..200 {
            let c = i % 2;
            let noise = rng.below(1000) as f64 / 1000.0;
            x.push(vec![noise, c as f64 + rng.below(100) as f64 / 250.0, rng.below(7) as f64]);
            y.push(c);
        }
        let params =
            ForestParams { n_trees: 30, max_depth: None, min_samples_split: 2, max_features: None, seed: 0 };
        let f = RandomForest::fit(&x, &y, 2, params).unwrap();
        assert!(f.importances[1] > 0.5, "{:?}", f.importances);
        assert!((f.importances.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(f.predict_proba(&[0.5, 1.1, 3.0])[1] > 0.9);
    }
}
