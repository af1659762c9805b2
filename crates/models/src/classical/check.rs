//! A model file is not trusted: before one is used, every array it holds is
//! checked against the others (labels, scaler, reducer, classifier; each
//! tree's nodes, each layer's widths, each index), and every parameter
//! against a plausible range, so a damaged or crafted file is refused with
//! its reason instead of panicking or allocating without bound later.

use super::{Classifier, DenseLayer, ModelFile, Reducer, Tree};

/// Sample rates a model may ask its audio to be resampled to (0: each
/// file's own), the decoder's own bounds.
const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// Longest segment a model may cover, in seconds (an hour).
const MAX_SEGMENT_SECONDS: f64 = 3600.0;

/// Every shape and parameter of `model` is consistent and plausible.
pub(crate) fn check(model: &ModelFile) -> Result<(), String> {
    let p = &model.preprocessing;
    if p.sample_rate != 0 && !SAMPLE_RATES.contains(&p.sample_rate) {
        return Err(format!(
            "sample_rate {} Hz is outside {}..={} Hz (or 0 for each file's own)",
            p.sample_rate,
            SAMPLE_RATES.start(),
            SAMPLE_RATES.end()
        ));
    }
    if !(p.segment_seconds.is_finite() && p.segment_seconds > 0.0 && p.segment_seconds <= MAX_SEGMENT_SECONDS)
    {
        return Err(format!("segment_seconds {} is outside (0, {MAX_SEGMENT_SECONDS}]", p.segment_seconds));
    }
    if model.labels.is_empty() {
        return Err("no labels".into());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = model.labels.iter().find(|l| !seen.insert(l.as_str())) {
        return Err(format!("label {twice:?} is listed twice"));
    }
    let width = p.columns.len();
    let scaler = &model.scaler;
    if scaler.mean.len() != width || scaler.scale.len() != width {
        return Err(format!(
            "the scaler has {} means and {} scales for {width} feature columns",
            scaler.mean.len(),
            scaler.scale.len()
        ));
    }
    finite("scaler", scaler.mean.iter().chain(&scaler.scale))?;
    if scaler.scale.contains(&0.0) {
        return Err("a scaler scale is zero".into());
    }
    let width = match &model.reducer {
        Some(reducer) => check_reducer(reducer, width)?,
        None => width,
    };
    check_classifier(&model.classifier, width, model.labels.len())
}

fn finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<(), String> {
    match values.into_iter().any(|v| !v.is_finite()) {
        true => Err(format!("the {what} holds a value that is not a finite number")),
        false => Ok(()),
    }
}

/// A matrix of `rows` rows of `cols` values each.
fn matrix(what: &str, m: &[Vec<f64>], rows: usize, cols: usize) -> Result<(), String> {
    if m.len() != rows || m.iter().any(|r| r.len() != cols) {
        let found = m.iter().map(Vec::len).max().unwrap_or(0);
        return Err(format!("the {what} is {} x {found}, not {rows} x {cols}", m.len()));
    }
    finite(what, m.iter().flatten())
}

/// Checks the reducer on rows `width` wide; answers its output width.
fn check_reducer(reducer: &Reducer, width: usize) -> Result<usize, String> {
    match reducer {
        Reducer::Svd { components, explained } => {
            matrix("SVD projection", components, components.len(), width)?;
            if explained.len() != components.len() {
                return Err("the SVD's explained shares do not match its components".into());
            }
        }
        Reducer::Select { columns } => {
            if let Some(c) = columns.iter().find(|&&c| c >= width) {
                return Err(format!("the reducer selects column {c} of {width}"));
            }
        }
        Reducer::Autoencoder { encoder } => layers("encoder", &encoder.layers, width, None)?,
    }
    Ok(reducer.output_width())
}

/// Dense layers chained from `width` inputs (to `outputs`, when given).
fn layers(what: &str, layers: &[DenseLayer], width: usize, outputs: Option<usize>) -> Result<(), String> {
    let mut inputs = width;
    for (i, layer) in layers.iter().enumerate() {
        matrix(&format!("{what} layer {i}"), &layer.weight, layer.bias.len(), inputs)?;
        finite(&format!("{what} layer {i}"), &layer.bias)?;
        inputs = layer.bias.len();
    }
    match (layers.is_empty(), outputs) {
        (true, _) => Err(format!("the {what} has no layers")),
        (false, Some(n)) if inputs != n => Err(format!("the {what} ends in {inputs} outputs, not {n}")),
        _ => Ok(()),
    }
}

/// A tree over rows `width` wide whose leaves hold `leaf` values. Children
/// come after their parent (depth-first order), so every walk ends.
fn check_tree(tree: &Tree, width: usize, leaf: usize) -> Result<(), String> {
    if tree.nodes.is_empty() {
        return Err("a tree has no nodes".into());
    }
    for (i, node) in tree.nodes.iter().enumerate() {
        match node.feature {
            Some(f) => {
                let left = node.left as usize;
                if f as usize >= width {
                    return Err(format!("a tree node tests feature {f} of {width}"));
                }
                if left <= i || left + 1 >= tree.nodes.len() {
                    return Err(format!(
                        "tree node {i} points to children {left} and {} out of order",
                        left + 1
                    ));
                }
                finite("tree", [&node.threshold])?;
            }
            None if node.value.len() != leaf => {
                return Err(format!("a tree leaf holds {} values, not {leaf}", node.value.len()));
            }
            None => finite("tree", &node.value)?,
        }
    }
    Ok(())
}

fn check_classifier(classifier: &Classifier, width: usize, labels: usize) -> Result<(), String> {
    let classes = |n: usize| match n == labels {
        true => Ok(()),
        false => Err(format!("the classifier has {n} classes for {labels} labels")),
    };
    match classifier {
        Classifier::Logreg(m) => {
            matrix("logistic regression weights", &m.weights, labels, width)?;
            if m.intercepts.len() != labels {
                return Err(format!("{} intercepts for {labels} labels", m.intercepts.len()));
            }
            finite("logistic regression intercepts", &m.intercepts)
        }
        Classifier::Knn(m) => {
            classes(m.n_classes)?;
            matrix("k-NN training rows", &m.x, m.y.len(), width)?;
            if m.k == 0 || m.k > m.x.len() {
                return Err(format!("k = {} with {} training rows", m.k, m.x.len()));
            }
            match m.y.iter().find(|&&c| c >= labels) {
                Some(c) => Err(format!("a k-NN training row has class {c} of {labels}")),
                None => Ok(()),
            }
        }
        Classifier::Svm(m) => {
            classes(m.n_classes)?;
            matrix("SVM support vectors", &m.support, m.support.len(), width)?;
            for machine in &m.machines {
                if machine.a >= labels || machine.b >= labels {
                    return Err(format!(
                        "an SVM pair ({}, {}) names a class of {labels}",
                        machine.a, machine.b
                    ));
                }
                if machine.coef.len() != machine.support.len()
                    || machine.support.iter().any(|&s| s as usize >= m.support.len())
                {
                    return Err("an SVM pair's support vectors do not match its coefficients".into());
                }
                finite("SVM", machine.coef.iter().chain([&machine.rho, &machine.prob_a, &machine.prob_b]))?;
            }
            Ok(())
        }
        Classifier::RandomForest(m) => {
            classes(m.n_classes)?;
            if m.n_features != width {
                return Err(format!("the forest takes {} features but is given {width}", m.n_features));
            }
            m.trees.iter().try_for_each(|t| check_tree(t, width, labels))
        }
        Classifier::Gbm(m) => {
            classes(m.n_classes)?;
            if m.n_features != width {
                return Err(format!(
                    "the boosted trees take {} features but are given {width}",
                    m.n_features
                ));
            }
            if m.rounds.iter().any(|round| round.len() != labels) {
                return Err(format!("a boosting round does not hold one tree per class ({labels})"));
            }
            m.rounds.iter().flatten().try_for_each(|t| check_tree(t, width, 1))
        }
        // An MLP always has at least two outputs (one label: a second, unused).
        Classifier::Mlp(m) => layers("MLP", &m.net.layers, width, Some(labels.max(2))),
    }
}
