//! Classification metrics with scikit-learn's definitions:
//! `accuracy_score`, `precision_recall_fscore_support` (per class, macro and
//! weighted averages, 0 where undefined), `confusion_matrix` (rows = truth),
//! and one-vs-rest macro `roc_auc_score` (AUC by the Mann-Whitney statistic,
//! ties counted half).

use serde::Serialize;

/// Per-class scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    /// Class label.
    pub label: String,
    /// Precision `tp / (tp + fp)`.
    pub precision: f64,
    /// Recall `tp / (tp + fn)`.
    pub recall: f64,
    /// F1, the harmonic mean of the two.
    pub f1: f64,
    /// True instances of the class.
    pub support: usize,
}

/// Every metric genreid reports for one set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Fraction predicted correctly.
    pub accuracy: f64,
    /// Unweighted mean of per-class precision.
    pub macro_precision: f64,
    /// Unweighted mean of per-class recall.
    pub macro_recall: f64,
    /// Unweighted mean of per-class F1.
    pub macro_f1: f64,
    /// Support-weighted mean of per-class F1.
    pub weighted_f1: f64,
    /// One-vs-rest ROC-AUC averaged over classes present in the truth
    /// (`None` when fewer than two classes are present).
    pub roc_auc_ovr: Option<f64>,
    /// Per-class scores, in label order.
    pub per_class: Vec<ClassScores>,
    /// `confusion[truth][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Confusion rows divided by their totals (0 for empty rows).
    pub confusion_normalized: Vec<Vec<f64>>,
}

/// Index of the largest value, the first on ties (the predicted class of
/// a probability row, as `numpy.argmax`).
pub fn argmax(p: &[f64]) -> usize {
    p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best })
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Area under the ROC curve of `scores` for binary `positive` flags.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average ranks over ties, then the Mann-Whitney U statistic.
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = rank;
        }
        i = j + 1;
    }
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let rank_sum: f64 = ranks.iter().zip(positive).filter(|(_, p)| **p).map(|(r, _)| r).sum();
    Some((rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0) / (n_pos * n_neg) as f64)
}

impl Metrics {
    /// Scores predictions. `truth` and `probabilities` are per row;
    /// `labels` names the classes (probability columns).
    pub fn compute(labels: &[String], truth: &[usize], probabilities: &[Vec<f64>]) -> Self {
        let k = labels.len();
        let predicted: Vec<usize> = probabilities.iter().map(|p| argmax(p)).collect();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth.iter().zip(&predicted) {
            confusion[t][p] += 1;
        }
        let per_class: Vec<ClassScores> = (0..k)
            .map(|c| {
                let tp = confusion[c][c];
                let predicted_c: usize = (0..k).map(|t| confusion[t][c]).sum();
                let support: usize = confusion[c].iter().sum();
                let precision = ratio(tp, predicted_c);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores { label: labels[c].clone(), precision, recall, f1, support }
            })
            .collect();
        let n = truth.len();
        let correct = truth.iter().zip(&predicted).filter(|(t, p)| t == p).count();
        let mean = |f: fn(&ClassScores) -> f64| per_class.iter().map(f).sum::<f64>() / k.max(1) as f64;
        let weighted_f1 = per_class.iter().map(|c| c.f1 * c.support as f64).sum::<f64>() / n.max(1) as f64;
        let aucs: Vec<f64> = (0..k)
            .filter_map(|c| {
                let scores: Vec<f64> = probabilities.iter().map(|p| p[c]).collect();
                let positive: Vec<bool> = truth.iter().map(|&t| t == c).collect();
                roc_auc(&scores, &positive)
            })
            .collect();
        let confusion_normalized = confusion
            .iter()
            .map(|row| {
                let total: usize = row.iter().sum();
                row.iter().map(|&v| ratio(v, total)).collect()
            })
            .collect();
        Self {
            accuracy: ratio(correct, n),
            macro_precision: mean(|c| c.precision),
            macro_recall: mean(|c| c.recall),
            macro_f1: mean(|c| c.f1),
            weighted_f1,
            roc_auc_ovr: (aucs.len() >= 2).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64),
            per_class,
            confusion,
            confusion_normalized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-worked example checked against scikit-learn 1.x:
    /// y_true = [0,0,1,1,2,2], y_pred = [0,1,1,1,2,0]
    /// precision = [0.5, 0.6667, 1.0], recall = [0.5, 1.0, 0.5],
    /// f1 = [0.5, 0.8, 0.6667], accuracy = 4/6.
    #[test]
    fn matches_scikit_learn_definitions() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let truth = [0, 0, 1, 1, 2, 2];
        let onehot = |c: usize| (0..3).map(|i| if i == c { 0.8 } else { 0.1 }).collect::<Vec<f64>>();
        let probs: Vec<Vec<f64>> = [0, 1, 1, 1, 2, 0].iter().map(|&c| onehot(c)).collect();
        let m = Metrics::compute(&labels, &truth, &probs);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let p: Vec<f64> = m.per_class.iter().map(|c| c.precision).collect();
        assert!((p[0] - 0.5).abs() < 1e-12 && (p[1] - 2.0 / 3.0).abs() < 1e-12 && (p[2] - 1.0).abs() < 1e-12);
        let f: Vec<f64> = m.per_class.iter().map(|c| c.f1).collect();
        assert!((f[1] - 0.8).abs() < 1e-12 && (f[2] - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.macro_f1 - (0.5 + 0.8 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(m.confusion, vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]);
    }

    /// sklearn: roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) == 0.75; ties count half.
    #[test]
    fn auc_is_mann_whitney_with_half_ties() {
        assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
        assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(roc_auc(&[0.5, 0.6], &[true, true]), None);
    }
}
