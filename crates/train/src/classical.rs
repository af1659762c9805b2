//! Fitting and evaluating classical models on a feature table: scaler,
//! optional reduction and classifier, with hyper-parameters tuned by grid
//! search over an inner stratified k-fold of the training rows only.

use std::time::Instant;

use genreid_data::{FeatureTable, Fold, SplitSpec, folds, group_folds};
use genreid_models::classical::{Params, ReduceSpec, Reducer};
use genreid_models::{Classifier, ClassifierKind, FORMAT, ModelFile, Preprocessing, StandardScaler};
use rayon::prelude::*;
use serde::Serialize;

use crate::metrics::{Metrics, argmax};

/// Errors of training: data, split or model problems, as text for the user.
pub type Result<T> = std::result::Result<T, String>;

/// Hyper-parameter values to search, by name (`c=0.1,1,10`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Grid {
    /// `(name, values)` axes, searched as their Cartesian product.
    pub axes: Vec<(String, Vec<String>)>,
}

impl Grid {
    /// Parses `NAME=V1,V2,...` arguments.
    pub fn parse(args: &[String]) -> Result<Self> {
        let axes = args
            .iter()
            .map(|a| {
                let (name, values) =
                    a.split_once('=').ok_or_else(|| format!("--grid {a:?}: expected NAME=V1,V2,..."))?;
                let values: Vec<String> =
                    values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
                if values.is_empty() {
                    return Err(format!("--grid {a:?}: no values"));
                }
                Ok((name.trim().to_string(), values))
            })
            .collect::<Result<_>>()?;
        Ok(Self { axes })
    }

    /// The grid `genreid compare` searches for each family: small, around
    /// scikit-learn's defaults.
    pub fn default_for(kind: ClassifierKind) -> Self {
        let axis = |name: &str, values: &[&str]| {
            (name.to_string(), values.iter().map(|v| (*v).to_string()).collect::<Vec<_>>())
        };
        let axes = match kind {
            ClassifierKind::Svm => vec![axis("c", &["0.1", "1", "10", "100"])],
            ClassifierKind::Knn => vec![axis("k", &["1", "3", "5", "9", "15"])],
            ClassifierKind::Logreg => vec![axis("c", &["0.01", "0.1", "1", "10"])],
            ClassifierKind::RandomForest => vec![axis("max_features", &["sqrt", "15"])],
            ClassifierKind::Gbm => {
                vec![axis("learning_rate", &["0.1", "0.3"]), axis("max_depth", &["3", "6"])]
            }
            ClassifierKind::Mlp => vec![axis("hidden", &["128", "256-128"])],
        };
        Self { axes }
    }

    /// Whether there is nothing to search.
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty()
    }

    /// Every point of the grid, each on top of `base`.
    pub fn points(&self, base: &Params) -> Vec<Params> {
        let mut points = vec![base.clone()];
        for (name, values) in &self.axes {
            points = points
                .iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.insert(name.clone(), v.clone());
                        q
                    })
                })
                .collect();
        }
        points
    }
}

/// What to fit: the family, its fixed parameters, a grid to tune over and
/// an optional reduction.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// Model family.
    pub kind: ClassifierKind,
    /// Fixed hyper-parameters (the grid overrides the names it searches).
    pub params: Params,
    /// Values to search by inner cross-validation (empty: none).
    pub grid: Grid,
    /// Reduction between scaler and classifier.
    pub reduce: Option<ReduceSpec>,
}

impl Recipe {
    /// A recipe with the family's defaults and nothing else.
    pub fn plain(kind: ClassifierKind) -> Self {
        Self { kind, params: Params::new(), grid: Grid::default(), reduce: None }
    }
}

/// Class index of every row, in `classes` order.
fn class_indices(table: &FeatureTable, classes: &[String]) -> Vec<usize> {
    table.labels.iter().map(|l| classes.iter().position(|c| c == l).unwrap_or(0)).collect()
}

/// Fits scaler, reduction and a classifier with exactly `params` on `rows`.
pub fn fit_model(
    table: &FeatureTable,
    rows: &[usize],
    recipe: &Recipe,
    params: &Params,
    preprocessing: Preprocessing,
    provenance: serde_json::Value,
) -> Result<ModelFile> {
    let classes = table.classes();
    let y_all = class_indices(table, &classes);
    let raw: Vec<Vec<f64>> = rows.iter().map(|&i| table.rows[i].clone()).collect();
    let scaler = StandardScaler::fit(&raw);
    let mut x: Vec<Vec<f64>> = raw.iter().map(|r| scaler.transform(r)).collect();
    let y: Vec<usize> = rows.iter().map(|&i| y_all[i]).collect();
    let reducer = match recipe.reduce {
        Some(spec) => {
            let r = Reducer::fit(spec, &x, &y, classes.len()).map_err(|e| e.to_string())?;
            x = x.iter().map(|row| r.transform(row)).collect();
            Some(r)
        }
        None => None,
    };
    let classifier =
        Classifier::fit(recipe.kind, &x, &y, classes.len(), params).map_err(|e| e.to_string())?;
    Ok(ModelFile {
        format: FORMAT.into(),
        version: 1,
        labels: classes,
        preprocessing,
        scaler,
        reducer,
        classifier,
        provenance,
    })
}

/// The outcome of a grid search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuned {
    /// The best point (highest mean inner accuracy; the first on ties).
    pub params: Params,
    /// Its mean accuracy over the inner folds (`None` without a grid).
    pub cv_score: Option<f64>,
}

/// Chooses the grid point with the best mean accuracy over a stratified
/// 5-fold split of `rows` (fewer folds when a class has fewer rows); every
/// point and fold is fitted in parallel.
pub fn tune(table: &FeatureTable, rows: &[usize], recipe: &Recipe) -> Result<Tuned> {
    if recipe.grid.is_empty() {
        return Ok(Tuned { params: recipe.params.clone(), cv_score: None });
    }
    let labels: Vec<String> = rows.iter().map(|&i| table.labels[i].clone()).collect();
    let names: Vec<String> = rows.iter().map(|&i| table.names[i].clone()).collect();
    let smallest = table
        .classes()
        .iter()
        .map(|c| labels.iter().filter(|l| *l == c).count())
        .filter(|&n| n > 0)
        .min()
        .unwrap_or(0);
    let k = smallest.clamp(2, 5);
    // Artists stay on one side of the inner folds too, when the table knows them.
    let inner = match &table.artists {
        Some(artists) => {
            let groups: Vec<String> = rows.iter().map(|&i| artists[i].clone()).collect();
            group_folds(&groups, k, 0)
        }
        None => folds(&SplitSpec::KFold { k, seed: 0 }, &labels, &names),
    }
    .map_err(|e| e.to_string())?;
    let points = recipe.grid.points(&recipe.params);
    let classes = table.classes();
    let y_all = class_indices(table, &classes);
    let jobs: Vec<(usize, &Fold)> =
        (0..points.len()).flat_map(|p| inner.iter().map(move |f| (p, f))).collect();
    let scores: Vec<(usize, f64)> = jobs
        .par_iter()
        .map(|&(p, fold)| {
            let train: Vec<usize> = fold.train.iter().map(|&i| rows[i]).collect();
            let model = fit_model(
                table,
                &train,
                recipe,
                &points[p],
                empty_preprocessing(table),
                serde_json::Value::Null,
            )?;
            let correct = fold
                .test
                .iter()
                .filter(|&&i| argmax(&model.predict_proba(&table.rows[rows[i]])) == y_all[rows[i]])
                .count();
            Ok((p, correct as f64 / fold.test.len().max(1) as f64))
        })
        .collect::<Result<_>>()?;
    let mean = |p: usize| {
        let s: Vec<f64> = scores.iter().filter(|(q, _)| *q == p).map(|(_, s)| *s).collect();
        s.iter().sum::<f64>() / s.len().max(1) as f64
    };
    let best = (0..points.len()).fold(0, |b, p| if mean(p) > mean(b) { p } else { b });
    Ok(Tuned { params: points[best].clone(), cv_score: Some(mean(best)) })
}

fn empty_preprocessing(table: &FeatureTable) -> Preprocessing {
    Preprocessing {
        feature_set: String::new(),
        sample_rate: 0,
        segment_seconds: 0.0,
        columns: table.columns.clone(),
    }
}

/// The outcome of evaluating one model family over a split.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Model family.
    pub model: ClassifierKind,
    /// The split, in words.
    pub split: String,
    /// The reduction, if any (`svd:50`).
    pub reduce: Option<String>,
    /// Metrics on the test rows (all folds' test predictions pooled).
    pub test: Metrics,
    /// Metrics on the training rows (pooled over folds); `None` when the
    /// model was not fitted here (`genreid eval` of an existing file).
    pub train: Option<Metrics>,
    /// Mean over outer folds of the best inner cross-validation accuracy
    /// (`None` without a grid).
    pub cv_best: Option<f64>,
    /// Hyper-parameters used in each outer fold.
    pub params: Vec<Params>,
    /// Random-forest importances of the input columns, averaged over folds
    /// (`(column, importance)`, largest first), when the model has them.
    pub importances: Option<Vec<(String, f64)>>,
    /// Seconds spent fitting (tuning included), summed over folds.
    pub fit_seconds: f64,
    /// Test rows scored.
    pub n_test: usize,
    /// True class of each pooled test prediction.
    #[serde(skip)]
    pub test_truth: Vec<usize>,
    /// Class probabilities of each pooled test prediction.
    #[serde(skip)]
    pub test_probabilities: Vec<Vec<f64>>,
}

/// For each fold of `spec`, tunes on its training rows, fits scaler,
/// reduction and classifier on them and scores the held-out rows. Nothing
/// fitted ever sees a test row. Folds run one after another (each fit is
/// parallel inside), so `fit_seconds` is the time of the fits alone.
pub fn evaluate(
    table: &FeatureTable,
    spec: &SplitSpec,
    recipe: &Recipe,
    preprocessing: &Preprocessing,
) -> Result<Evaluation> {
    let fs: Vec<Fold> = table.folds(spec).map_err(|e| e.to_string())?;
    let classes = table.classes();
    let y_all = class_indices(table, &classes);
    struct FoldResult {
        test: Vec<(usize, Vec<f64>)>,
        train: Vec<(usize, Vec<f64>)>,
        seconds: f64,
        tuned: Tuned,
        importances: Option<Vec<f64>>,
    }
    let results: Vec<FoldResult> = fs
        .iter()
        .map(|fold| {
            let started = Instant::now();
            let tuned = tune(table, &fold.train, recipe)?;
            let model = fit_model(
                table,
                &fold.train,
                recipe,
                &tuned.params,
                preprocessing.clone(),
                serde_json::Value::Null,
            )?;
            let seconds = started.elapsed().as_secs_f64();
            let score = |rows: &[usize]| -> Vec<(usize, Vec<f64>)> {
                rows.iter().map(|&i| (y_all[i], model.predict_proba(&table.rows[i]))).collect()
            };
            let importances = match (&model.reducer, model.classifier.feature_importances()) {
                (None, Some(imp)) => Some(imp.to_vec()),
                _ => None,
            };
            Ok(FoldResult { test: score(&fold.test), train: score(&fold.train), seconds, tuned, importances })
        })
        .collect::<Result<_>>()?;
    let unzip = |pairs: Vec<&(usize, Vec<f64>)>| -> (Vec<usize>, Vec<Vec<f64>>) {
        pairs.into_iter().map(|(t, p)| (*t, p.clone())).unzip()
    };
    let (truth, probs) = unzip(results.iter().flat_map(|r| &r.test).collect());
    let (train_truth, train_probs) = unzip(results.iter().flat_map(|r| &r.train).collect());
    let cv: Vec<f64> = results.iter().filter_map(|r| r.tuned.cv_score).collect();
    let importances = results.iter().map(|r| r.importances.clone()).collect::<Option<Vec<_>>>().map(|all| {
        let mut mean: Vec<(String, f64)> = table
            .columns
            .iter()
            .enumerate()
            .map(|(c, name)| (name.clone(), all.iter().map(|imp| imp[c]).sum::<f64>() / all.len() as f64))
            .collect();
        mean.sort_by(|a, b| b.1.total_cmp(&a.1));
        mean
    });
    Ok(Evaluation {
        model: recipe.kind,
        split: spec.to_string(),
        reduce: recipe.reduce.map(|r| r.to_string()),
        test: Metrics::compute(&classes, &truth, &probs),
        train: Some(Metrics::compute(&classes, &train_truth, &train_probs)),
        cv_best: (!cv.is_empty()).then(|| cv.iter().sum::<f64>() / cv.len() as f64),
        params: results.iter().map(|r| r.tuned.params.clone()).collect(),
        importances,
        fit_seconds: results.iter().map(|r| r.seconds).sum(),
        n_test: truth.len(),
        test_truth: truth,
        test_probabilities: probs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_are_the_cartesian_product_over_the_base() {
        let grid = Grid::parse(&["c=0.1,1".into(), "kernel=rbf,linear".into()]).unwrap();
        let mut base = Params::new();
        base.insert("seed".into(), "3".into());
        let points = grid.points(&base);
        assert_eq!(points.len(), 4);
        assert!(points.iter().all(|p| p["seed"] == "3"));
        assert_eq!(points[3]["c"], "1");
        assert_eq!(points[3]["kernel"], "linear");
        assert!(Grid::parse(&["c".into()]).is_err() && Grid::parse(&["c=".into()]).is_err());
    }
}
