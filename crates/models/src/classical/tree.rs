//! Decision trees grown on histograms of binned features (as XGBoost's and
//! LightGBM's `hist` methods and scikit-learn's `HistGradientBoosting`),
//! shared by the random forest (Gini impurity) and gradient boosting
//! (second-order gain). With no more distinct values than bins, every
//! distinct value gets its own bin and the splits are the exact ones.

use serde::{Deserialize, Serialize};

/// Features of the training rows as bin indices, with the value thresholds
/// between bins.
pub(crate) struct Binned {
    /// `[feature][row]` bin index.
    pub bins: Vec<Vec<u16>>,
    /// `[feature][b]`: rows with value `<= thresholds[b]` lie in bins `0..=b`.
    pub thresholds: Vec<Vec<f64>>,
}

/// Most bins a feature can have (exact splits up to this many values).
pub(crate) const EXACT_BINS: usize = 1 << 16;

impl Binned {
    /// Bins every column of `x` at the midpoints between distinct values,
    /// or between quantiles when there are more distinct values than
    /// `max_bins` (at most [`EXACT_BINS`]).
    pub fn new(x: &[Vec<f64>], max_bins: usize) -> Self {
        let max_bins = max_bins.clamp(2, EXACT_BINS);
        let d = x.first().map_or(0, Vec::len);
        let (bins, thresholds) = (0..d)
            .map(|f| {
                let mut values: Vec<f64> = x.iter().map(|r| r[f]).collect();
                values.sort_by(f64::total_cmp);
                values.dedup();
                let cuts: Vec<f64> = if values.len() <= max_bins {
                    values.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect()
                } else {
                    let mut cuts: Vec<f64> = (1..max_bins)
                        .map(|q| {
                            let i = q * values.len() / max_bins;
                            values[i - 1] + (values[i] - values[i - 1]) / 2.0
                        })
                        .collect();
                    cuts.dedup();
                    cuts
                };
                let bins = x.iter().map(|r| cuts.partition_point(|&c| c < r[f]) as u16).collect();
                (bins, cuts)
            })
            .unzip();
        Self { bins, thresholds }
    }

    fn n_bins(&self, feature: usize) -> usize {
        self.thresholds[feature].len() + 1
    }
}

/// What a split optimises.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Objective {
    /// Weighted Gini impurity over `width` classes; row statistics are the
    /// row's weight in its class's slot.
    Gini,
    /// Newton step on a twice-differentiable loss; row statistics are
    /// `(gradient, hessian)`. XGBoost's `lambda`, `gamma`, `min_child_weight`.
    Newton {
        /// L2 penalty on leaf values.
        lambda: f64,
        /// Least gain of a split.
        gamma: f64,
        /// Least hessian sum in a child.
        min_child_weight: f64,
    },
}

impl Objective {
    /// Larger is better; a split's gain is children's minus parent's.
    fn score(self, s: &[f64]) -> f64 {
        match self {
            Self::Gini => {
                let w: f64 = s.iter().sum();
                if w <= 0.0 { 0.0 } else { s.iter().map(|c| c * c).sum::<f64>() / w - w }
            }
            Self::Newton { lambda, .. } => s[0] * s[0] / (s[1] + lambda),
        }
    }

    fn leaf(self, s: &[f64]) -> Vec<f64> {
        match self {
            Self::Gini => {
                let w: f64 = s.iter().sum();
                s.iter().map(|c| if w > 0.0 { c / w } else { 0.0 }).collect()
            }
            Self::Newton { lambda, .. } => vec![-s[0] / (s[1] + lambda)],
        }
    }

    fn child_ok(self, s: &[f64]) -> bool {
        match self {
            Self::Gini => true,
            Self::Newton { min_child_weight, .. } => s[1] >= min_child_weight,
        }
    }

    fn least_gain(self) -> f64 {
        match self {
            Self::Gini => 1e-12,
            Self::Newton { gamma, .. } => gamma.max(1e-12),
        }
    }
}

/// How a tree grows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Growth {
    /// Deepest level (root is 0); `usize::MAX` for none.
    pub max_depth: usize,
    /// Least rows a node needs to be split.
    pub min_samples_split: usize,
    /// Features tried per node (all when `>= d`).
    pub max_features: usize,
}

/// One node of a fitted tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Feature tested, or `None` at a leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<u32>,
    /// Rows with `x[feature] <= threshold` go left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub threshold: f64,
    /// Index of the left child (the right one follows it).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub left: u32,
    /// Leaf output: class distribution (forest) or margin (boosting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value: Vec<f64>,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}
fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// A fitted binary tree, nodes in depth-first order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is the first.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf output for `row`.
    pub fn predict(&self, row: &[f64]) -> &[f64] {
        let mut i = 0;
        while let Some(f) = self.nodes[i].feature {
            let n = &self.nodes[i];
            i = if row[f as usize] <= n.threshold { n.left as usize } else { n.left as usize + 1 };
        }
        &self.nodes[i].value
    }
}

/// Grows one tree on `rows` (each listed once, with per-row statistics of
/// width `width` in `stats`). Returns the tree and the total gain of the
/// splits on each feature (the impurity decrease, for importances).
pub(crate) fn grow(
    binned: &Binned,
    rows: Vec<u32>,
    stats: &[f64],
    width: usize,
    objective: Objective,
    growth: Growth,
    rng: &mut genreid_core::SplitMix64,
) -> (Tree, Vec<f64>) {
    let d = binned.bins.len();
    let mut nodes = Vec::new();
    let mut gains = vec![0.0; d];
    // Depth-first with an explicit stack of (node index, rows, depth).
    nodes.push(Node { feature: None, threshold: 0.0, left: 0, value: Vec::new() });
    let mut stack = vec![(0usize, rows, 0usize)];
    let mut features: Vec<usize> = (0..d).collect();
    while let Some((at, rows, depth)) = stack.pop() {
        let mut total = vec![0.0; width];
        for &r in &rows {
            add(&mut total, &stats[r as usize * width..][..width]);
        }
        let split = if depth < growth.max_depth && rows.len() >= growth.min_samples_split.max(2) {
            let tried = growth.max_features.min(d);
            if tried < d {
                // Partial Fisher-Yates: the first `tried` become the sample.
                for i in 0..tried {
                    let j = i + rng.below(d - i);
                    features.swap(i, j);
                }
            }
            best_split(binned, &rows, stats, width, &total, objective, &features[..tried])
        } else {
            None
        };
        match split {
            Some((feature, bin, gain)) => {
                gains[feature] += gain;
                let (left, right): (Vec<u32>, Vec<u32>) =
                    rows.iter().partition(|&&r| usize::from(binned.bins[feature][r as usize]) <= bin);
                let left_at = nodes.len();
                nodes.push(Node { feature: None, threshold: 0.0, left: 0, value: Vec::new() });
                nodes.push(Node { feature: None, threshold: 0.0, left: 0, value: Vec::new() });
                nodes[at] = Node {
                    feature: Some(feature as u32),
                    threshold: binned.thresholds[feature][bin],
                    left: left_at as u32,
                    value: Vec::new(),
                };
                stack.push((left_at + 1, right, depth + 1));
                stack.push((left_at, left, depth + 1));
            }
            None => nodes[at].value = objective.leaf(&total),
        }
    }
    (Tree { nodes }, gains)
}

fn add(into: &mut [f64], s: &[f64]) {
    into.iter_mut().zip(s).for_each(|(a, b)| *a += b);
}

/// The best `(feature, last left bin, gain)` among `features`, if any split
/// gains anything.
fn best_split(
    binned: &Binned,
    rows: &[u32],
    stats: &[f64],
    width: usize,
    total: &[f64],
    objective: Objective,
    features: &[usize],
) -> Option<(usize, usize, f64)> {
    let parent = objective.score(total);
    let mut best: Option<(usize, usize, f64)> = None;
    // Occupied bins of the node, in bin order: (bin, rows), with their
    // statistics summed in `sums`.
    let mut occupied: Vec<(usize, usize)> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
    let mut hist = Vec::new();
    let mut counts = Vec::new();
    let mut sorted: Vec<(u16, u32)> = Vec::new();
    let mut left = vec![0.0; width];
    let mut right = vec![0.0; width];
    for &f in features {
        let nb = binned.n_bins(f);
        let column = &binned.bins[f];
        occupied.clear();
        sums.clear();
        if rows.len() * 8 < nb {
            // Few rows, many bins: sort the rows rather than scan every bin.
            sorted.clear();
            sorted.extend(rows.iter().map(|&r| (column[r as usize], r)));
            sorted.sort_unstable_by_key(|p| p.0);
            for &(b, r) in &sorted {
                if occupied.last().is_none_or(|&(last, _)| last != usize::from(b)) {
                    occupied.push((usize::from(b), 0));
                    sums.extend(std::iter::repeat_n(0.0, width));
                }
                if let Some(o) = occupied.last_mut() {
                    o.1 += 1;
                }
                let at = sums.len() - width;
                add(&mut sums[at..], &stats[r as usize * width..][..width]);
            }
        } else {
            hist.clear();
            hist.resize(nb * width, 0.0);
            counts.clear();
            counts.resize(nb, 0usize);
            for &r in rows {
                let b = usize::from(column[r as usize]);
                add(&mut hist[b * width..][..width], &stats[r as usize * width..][..width]);
                counts[b] += 1;
            }
            for (b, &c) in counts.iter().enumerate() {
                if c > 0 {
                    occupied.push((b, c));
                    sums.extend_from_slice(&hist[b * width..][..width]);
                }
            }
        }
        left.iter_mut().for_each(|v| *v = 0.0);
        // A split after each occupied bin but the last.
        for (i, &(b, _)) in occupied.iter().enumerate().take(occupied.len().saturating_sub(1)) {
            add(&mut left, &sums[i * width..][..width]);
            for ((r, t), l) in right.iter_mut().zip(total).zip(&left) {
                *r = t - l;
            }
            if !objective.child_ok(&left) || !objective.child_ok(&right) {
                continue;
            }
            let mut gain = objective.score(&left) + objective.score(&right) - parent;
            if let Objective::Newton { .. } = objective {
                gain /= 2.0;
            }
            if gain > objective.least_gain() && best.is_none_or(|(_, _, g)| gain > g) {
                best = Some((f, b, gain));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_distinct_values_exactly_and_splits_between_them() {
        let x = vec![vec![1.0], vec![3.0], vec![3.0], vec![7.0]];
        let b = Binned::new(&x, 256);
        assert_eq!(b.thresholds[0], vec![2.0, 5.0]);
        assert_eq!(b.bins[0], vec![0, 1, 1, 2]);
        let stats = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0];
        let growth = Growth { max_depth: usize::MAX, min_samples_split: 2, max_features: 1 };
        let mut rng = genreid_core::SplitMix64::new(0);
        let (tree, gains) = grow(&b, vec![0, 1, 2, 3], &stats, 2, Objective::Gini, growth, &mut rng);
        // Rows 0, 1 are class 0 but row 2 (same value as row 1) is class 1:
        // the only clean cut is at 2.0 and then at 5.0.
        assert_eq!(tree.predict(&[0.0]), &[1.0, 0.0]);
        assert_eq!(tree.predict(&[3.0]), &[0.5, 0.5]);
        assert_eq!(tree.predict(&[9.0]), &[0.0, 1.0]);
        assert!(gains[0] > 0.0);
    }
}
