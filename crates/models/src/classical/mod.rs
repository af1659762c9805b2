//! Classical classifiers on standardised feature vectors.

pub mod autoencoder;
mod boosting;
mod check;
mod file;
mod forest;
mod knn;
mod logreg;
mod reduce;
mod scaler;
mod svm;
mod tree;

pub use autoencoder::{DenseLayer, Mlp};
pub use boosting::{BoostingParams, GradientBoosting};
pub use file::{FORMAT, ModelFile, Preprocessing};
pub use forest::{ForestParams, RandomForest};
pub use knn::Knn;
pub use logreg::LogisticRegression;
pub use reduce::{ReduceSpec, Reducer};
pub use scaler::StandardScaler;
pub use svm::{Kernel, PairMachine, Svm, SvmParams};
pub use tree::{Node, Tree};

use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// The classical model families genreid trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifierKind {
    /// k-nearest neighbours (Euclidean, uniform vote).
    Knn,
    /// Multinomial logistic regression with L2 penalty.
    Logreg,
    /// One-vs-one support-vector machine (RBF or linear kernel).
    Svm,
    /// Random forest of Gini trees.
    RandomForest,
    /// Gradient-boosted trees (softmax loss).
    Gbm,
    /// Multi-layer perceptron (ReLU hidden layers, Adam on cross-entropy).
    Mlp,
}

impl ClassifierKind {
    /// Every family, in the order `compare` lists them.
    pub const ALL: [Self; 6] = [Self::Svm, Self::Knn, Self::Logreg, Self::RandomForest, Self::Gbm, Self::Mlp];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Knn => "knn",
            Self::Logreg => "logreg",
            Self::Svm => "svm",
            Self::RandomForest => "random-forest",
            Self::Gbm => "gbm",
            Self::Mlp => "mlp",
        }
    }

    /// Hyper-parameters the family takes, with their defaults.
    pub fn parameters(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Knn => &[("k", "5")],
            Self::Logreg => &[("c", "1.0"), ("max_iter", "500")],
            Self::Svm => &[("c", "1.0"), ("kernel", "rbf"), ("gamma", "scale"), ("seed", "0")],
            Self::RandomForest => &[
                ("n_trees", "100"),
                ("max_depth", "none"),
                ("min_samples_split", "2"),
                ("max_features", "sqrt"),
                ("seed", "0"),
            ],
            Self::Gbm => &[
                ("n_rounds", "100"),
                ("learning_rate", "0.3"),
                ("max_depth", "6"),
                ("lambda", "1.0"),
                ("min_child_weight", "1.0"),
            ],
            Self::Mlp => &[("hidden", "256"), ("epochs", "150"), ("seed", "0")],
        }
    }
}

impl std::fmt::Display for ClassifierKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ClassifierKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
            ModelError::InvalidInput(format!(
                "unknown classical model {s:?}; available: {}",
                names.join(", ")
            ))
        })
    }
}

/// A fitted classical classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Classifier {
    /// k-nearest neighbours.
    Knn(Knn),
    /// Multinomial logistic regression.
    Logreg(LogisticRegression),
    /// One-vs-one SVM.
    Svm(Svm),
    /// Random forest.
    RandomForest(RandomForest),
    /// Gradient-boosted trees.
    Gbm(GradientBoosting),
    /// Multi-layer perceptron.
    Mlp(Mlp),
}

/// Turns scores into probabilities in place (max-shifted for stability).
pub(crate) fn softmax(z: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    z.iter_mut().for_each(|v| *v /= s);
}

/// Hyper-parameters by name (`k=5`, `c=1.0`), as given on the command line.
pub type Params = std::collections::BTreeMap<String, String>;

fn param<T: std::str::FromStr>(params: &Params, name: &str, default: T) -> Result<T> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => {
            v.parse().map_err(|_| ModelError::InvalidInput(format!("parameter {name}={v} is not valid")))
        }
    }
}

/// A count that may be left to its default: absent or `default_word`
/// (`none` for `max_depth`, `sqrt` for `max_features`) gives `None`.
fn optional_param(params: &Params, name: &str, default_word: &str) -> Result<Option<usize>> {
    match params.get(name).map(String::as_str) {
        None => Ok(None),
        Some(v) if v == default_word => Ok(None),
        Some(_) => param(params, name, 0).map(Some),
    }
}

/// scikit-learn's `gamma="scale"`: `1 / (d * var(x))` over all entries.
fn scale_gamma(x: &[Vec<f64>]) -> f64 {
    let n = x.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let mean = x.iter().flatten().sum::<f64>() / n;
    let var = x.iter().flatten().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let d = x.first().map_or(1, Vec::len) as f64;
    if var > 0.0 { 1.0 / (d * var) } else { 1.0 }
}

impl Classifier {
    /// Fits a `kind` model on rows `x` with class indices `y` in `0..n_classes`.
    pub fn fit(
        kind: ClassifierKind,
        x: &[Vec<f64>],
        y: &[usize],
        n_classes: usize,
        params: &Params,
    ) -> Result<Self> {
        if x.is_empty() || x.len() != y.len() || y.iter().any(|&c| c >= n_classes) {
            return Err(ModelError::InvalidInput(
                "need one class index below n_classes per training row".into(),
            ));
        }
        if let Some(unknown) = params.keys().find(|k| !kind.parameters().iter().any(|(p, _)| p == k)) {
            let known: Vec<&str> = kind.parameters().iter().map(|(p, _)| *p).collect();
            return Err(ModelError::InvalidInput(format!(
                "{kind} takes no parameter {unknown:?}; it takes {}",
                known.join(", ")
            )));
        }
        Ok(match kind {
            ClassifierKind::Svm => {
                let kernel = match params.get("kernel").map_or("rbf", String::as_str) {
                    "linear" => Kernel::Linear,
                    "rbf" => Kernel::Rbf {
                        gamma: match params.get("gamma").map_or("scale", String::as_str) {
                            "scale" => scale_gamma(x),
                            _ => param(params, "gamma", 0.0)?,
                        },
                    },
                    other => {
                        return Err(ModelError::InvalidInput(format!(
                            "svm kernel {other:?} unknown; use rbf or linear"
                        )));
                    }
                };
                let svm_params = SvmParams {
                    c: param(params, "c", 1.0)?,
                    kernel,
                    tol: 1e-3,
                    seed: param(params, "seed", 0)?,
                };
                Self::Svm(Svm::fit(x, y, n_classes, svm_params)?)
            }
            ClassifierKind::RandomForest => Self::RandomForest(RandomForest::fit(
                x,
                y,
                n_classes,
                ForestParams {
                    n_trees: param(params, "n_trees", 100)?,
                    max_depth: optional_param(params, "max_depth", "none")?,
                    min_samples_split: param(params, "min_samples_split", 2)?,
                    max_features: optional_param(params, "max_features", "sqrt")?,
                    seed: param(params, "seed", 0)?,
                },
            )?),
            ClassifierKind::Gbm => Self::Gbm(GradientBoosting::fit(
                x,
                y,
                n_classes,
                BoostingParams {
                    n_rounds: param(params, "n_rounds", 100)?,
                    learning_rate: param(params, "learning_rate", 0.3)?,
                    max_depth: param(params, "max_depth", 6)?,
                    lambda: param(params, "lambda", 1.0)?,
                    min_child_weight: param(params, "min_child_weight", 1.0)?,
                },
            )?),
            ClassifierKind::Knn => Self::Knn(Knn::fit(x, y, n_classes, param(params, "k", 5)?)?),
            ClassifierKind::Mlp => {
                let hidden = params.get("hidden").map_or("256", String::as_str);
                let hidden: Vec<usize> = hidden
                    .split(['-', ' '])
                    .filter(|h| !h.is_empty())
                    .map(|h| {
                        h.parse().map_err(|_| {
                            ModelError::InvalidInput(format!(
                                "mlp hidden {hidden:?}: widths like 256 or 256-128"
                            ))
                        })
                    })
                    .collect::<Result<_>>()?;
                Self::Mlp(Mlp::fit(
                    x,
                    y,
                    n_classes,
                    &hidden,
                    param(params, "epochs", 150)?,
                    param(params, "seed", 0)?,
                )?)
            }
            ClassifierKind::Logreg => Self::Logreg(LogisticRegression::fit(
                x,
                y,
                n_classes,
                param(params, "c", 1.0)?,
                param(params, "max_iter", 500)?,
            )?),
        })
    }

    /// Class probabilities for one standardised row.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        match self {
            Self::Knn(m) => m.predict_proba(row),
            Self::Logreg(m) => m.predict_proba(row),
            Self::Svm(m) => m.predict_proba(row),
            Self::RandomForest(m) => m.predict_proba(row),
            Self::Gbm(m) => m.predict_proba(row),
            Self::Mlp(m) => m.predict_proba(row),
        }
    }

    /// Length of the rows the model takes.
    pub fn n_features(&self) -> usize {
        match self {
            Self::Knn(m) => m.x.first().map_or(0, Vec::len),
            Self::Logreg(m) => m.weights.first().map_or(0, Vec::len),
            Self::Svm(m) => m.n_features(),
            Self::RandomForest(m) => m.n_features,
            Self::Gbm(m) => m.n_features,
            Self::Mlp(m) => m.n_features(),
        }
    }

    /// The family of this model.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            Self::Knn(_) => ClassifierKind::Knn,
            Self::Logreg(_) => ClassifierKind::Logreg,
            Self::Svm(_) => ClassifierKind::Svm,
            Self::RandomForest(_) => ClassifierKind::RandomForest,
            Self::Gbm(_) => ClassifierKind::Gbm,
            Self::Mlp(_) => ClassifierKind::Mlp,
        }
    }

    /// Per-feature importances, where the family has them (random forest).
    pub fn feature_importances(&self) -> Option<&[f64]> {
        match self {
            Self::RandomForest(m) => Some(&m.importances),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_by_name_and_value() {
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![f64::from(i), f64::from(i % 3)]).collect();
        let y: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
        let with = |pairs: &[(&str, &str)]| -> Params {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let fit = |kind, p: &Params| Classifier::fit(kind, &x, &y, 2, p);
        assert!(
            fit(ClassifierKind::RandomForest, &with(&[("max_features", "sqrt"), ("max_depth", "none")]))
                .is_ok()
        );
        assert!(
            fit(ClassifierKind::RandomForest, &with(&[("max_features", "1"), ("max_depth", "3")])).is_ok()
        );
        assert!(fit(ClassifierKind::RandomForest, &with(&[("max_depth", "sqrt")])).is_err());
        assert!(fit(ClassifierKind::Svm, &with(&[("kernel", "poly")])).is_err());
        let e = fit(ClassifierKind::Knn, &with(&[("c", "1")])).unwrap_err().to_string();
        assert!(e.contains("knn takes no parameter \"c\"") && e.contains("k"), "{e}");
    }
}
