//! Classical classifiers on standardised feature vectors.

mod knn;
mod logreg;
mod scaler;

pub use knn::Knn;
pub use logreg::LogisticRegression;
pub use scaler::StandardScaler;

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
}

impl std::str::FromStr for ClassifierKind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "knn" => Ok(Self::Knn),
            "logreg" => Ok(Self::Logreg),
            other => Err(ModelError::InvalidInput(format!(
                "unknown classical model {other:?}; available: knn, logreg"
            ))),
        }
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
        Ok(match kind {
            ClassifierKind::Knn => Self::Knn(Knn::fit(x, y, n_classes, param(params, "k", 5)?)?),
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
        }
    }

    /// Length of the rows the model takes.
    pub fn n_features(&self) -> usize {
        match self {
            Self::Knn(m) => m.x.first().map_or(0, Vec::len),
            Self::Logreg(m) => m.weights.first().map_or(0, Vec::len),
        }
    }

    /// The family of this model.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            Self::Knn(_) => ClassifierKind::Knn,
            Self::Logreg(_) => ClassifierKind::Logreg,
        }
    }
}
