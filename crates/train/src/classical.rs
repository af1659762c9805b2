//! Fitting and evaluating classical models on a feature table.

use std::time::Instant;

use genreid_data::{FeatureTable, Fold, SplitSpec, folds};
use genreid_models::classical::Params;
use genreid_models::{Classifier, ClassifierKind, FORMAT, ModelFile, Preprocessing, StandardScaler};
use serde::Serialize;

use crate::metrics::Metrics;

/// Errors of training: data, split or model problems, as text for the user.
pub type Result<T> = std::result::Result<T, String>;

/// Class index of every row, in `classes` order.
fn class_indices(table: &FeatureTable, classes: &[String]) -> Vec<usize> {
    table.labels.iter().map(|l| classes.iter().position(|c| c == l).unwrap_or(0)).collect()
}

/// Fits the scaler and a `kind` classifier on `rows` of `table`.
pub fn fit_model(
    table: &FeatureTable,
    rows: &[usize],
    kind: ClassifierKind,
    params: &Params,
    preprocessing: Preprocessing,
    provenance: serde_json::Value,
) -> Result<ModelFile> {
    let classes = table.classes();
    let y_all = class_indices(table, &classes);
    let raw: Vec<Vec<f64>> = rows.iter().map(|&i| table.rows[i].clone()).collect();
    let scaler = StandardScaler::fit(&raw);
    let x: Vec<Vec<f64>> = raw.iter().map(|r| scaler.transform(r)).collect();
    let y: Vec<usize> = rows.iter().map(|&i| y_all[i]).collect();
    let classifier = Classifier::fit(kind, &x, &y, classes.len(), params).map_err(|e| e.to_string())?;
    Ok(ModelFile {
        format: FORMAT.into(),
        version: 1,
        labels: classes,
        preprocessing,
        scaler,
        classifier,
        provenance,
    })
}

/// The outcome of evaluating one model family over a split.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Model family.
    pub model: ClassifierKind,
    /// The split, in words.
    pub split: String,
    /// Metrics on the test rows (all folds' test predictions pooled).
    pub test: Metrics,
    /// Metrics on the training rows (pooled over folds); `None` when the
    /// model was not fitted here (`genreid eval` of an existing file).
    pub train: Option<Metrics>,
    /// Seconds spent fitting, summed over folds.
    pub fit_seconds: f64,
    /// Test rows scored.
    pub n_test: usize,
}

/// Fits `kind` on each fold's training rows (scaler included) and scores the
/// held-out rows. Standardisation never sees test rows.
pub fn evaluate(
    table: &FeatureTable,
    spec: &SplitSpec,
    kind: ClassifierKind,
    params: &Params,
    preprocessing: &Preprocessing,
) -> Result<Evaluation> {
    let fs: Vec<Fold> = folds(spec, &table.labels, &table.names).map_err(|e| e.to_string())?;
    let classes = table.classes();
    let y_all = class_indices(table, &classes);
    let (mut truth, mut probs, mut train_truth, mut train_probs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut fit_seconds = 0.0;
    for fold in &fs {
        let started = Instant::now();
        let model =
            fit_model(table, &fold.train, kind, params, preprocessing.clone(), serde_json::Value::Null)?;
        fit_seconds += started.elapsed().as_secs_f64();
        for &i in &fold.test {
            truth.push(y_all[i]);
            probs.push(model.predict_proba(&table.rows[i]));
        }
        for &i in &fold.train {
            train_truth.push(y_all[i]);
            train_probs.push(model.predict_proba(&table.rows[i]));
        }
    }
    Ok(Evaluation {
        model: kind,
        split: spec.to_string(),
        test: Metrics::compute(&classes, &truth, &probs),
        train: Some(Metrics::compute(&classes, &train_truth, &train_probs)),
        fit_seconds,
        n_test: truth.len(),
    })
}
