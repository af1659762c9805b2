//! Evaluation reports in a folder: `metrics.json`, `report.md`, and plots
//! as PNG and SVG (confusion matrices, ROC curves, PCA/LDA/t-SNE views of
//! the features, a box plot by class, accuracy against dimension).

use std::fmt::Write as _;
use std::path::Path;

use genreid_data::FeatureTable;
use genreid_models::ClassifierKind;
use genreid_models::classical::{Params, ReduceSpec, Reducer};
use genreid_plot::Series;

use crate::classical::Evaluation;
pub use crate::experiment_report::{ExperimentRow, write_experiment_tables};
use crate::metrics::roc_auc;
use crate::projection::{lda, pca, standardise, tsne};

/// Writes the report of `evaluations` (one per model) into `dir`:
/// `metrics.json`, `report.md`, and per model the confusion matrix and
/// one-vs-rest ROC curves as PNG and SVG. With the feature `table`, also
/// PCA, LDA and t-SNE scatter plots and a box plot by class (of `tempo`
/// where the table has it). Returns the files written.
pub fn write_report(
    dir: &Path,
    title: &str,
    evaluations: &[Evaluation],
    table: Option<&FeatureTable>,
) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let json = serde_json::to_string_pretty(evaluations).map_err(|e| e.to_string())?;
    let path = dir.join("metrics.json");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path.display().to_string());

    let mut md = format!("# {title}\n\n");
    if let Some(first) = evaluations.first() {
        let _ = writeln!(md, "Split: {} ({} test predictions).", first.split, first.n_test);
        let _ = writeln!(
            md,
            "Standardisation{} fitted on training rows only; hyper-parameters tuned by 5-fold \
             cross-validation inside the training rows where a grid was given (`cv best`).\n",
            first.reduce.as_ref().map_or(String::new(), |r| format!(" and reduction ({r})"))
        );
    }
    md.push_str("| model | accuracy | cv best | macro F1 | macro precision | macro recall | test ROC-AUC | train ROC-AUC | fit s |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let opt = |a: Option<f64>| a.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut sorted: Vec<&Evaluation> = evaluations.iter().collect();
    sorted.sort_by(|a, b| b.test.accuracy.total_cmp(&a.test.accuracy));
    for e in &sorted {
        let _ = writeln!(
            md,
            "| {} | {:.3} | {} | {:.3} | {:.3} | {:.3} | {} | {} | {:.3} |",
            e.model,
            e.test.accuracy,
            opt(e.cv_best),
            e.test.macro_f1,
            e.test.macro_precision,
            e.test.macro_recall,
            opt(e.test.roc_auc_ovr),
            opt(e.train.as_ref().and_then(|t| t.roc_auc_ovr)),
            e.fit_seconds
        );
    }
    for e in &sorted {
        let _ = writeln!(md, "\n## {}\n", e.model);
        if !e.params.is_empty() {
            let _ = writeln!(md, "Parameters by fold: {}\n", summarise_params(&e.params));
        }
        md.push_str("| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n");
        for c in &e.test.per_class {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {:.3} | {:.3} | {} |",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
        let labels: Vec<String> = e.test.per_class.iter().map(|c| c.label.clone()).collect();
        md.push_str(&confusion_markdown(&labels, &e.test.confusion));
        md.push_str(&normalised_markdown(&labels, &e.test.confusion_normalized));
        if let Some(imp) = &e.importances {
            md.push_str("\nLargest random-forest importances (mean decrease in impurity):\n\n| column | importance |\n|---|---:|\n");
            for (name, v) in imp.iter().take(20) {
                let _ = writeln!(md, "| {name} | {v:.4} |");
            }
        }
        let stem = e.model.to_string();
        let curves = roc_series(&labels, &e.test_truth, &e.test_probabilities);
        for ext in ["png", "svg"] {
            let path = dir.join(format!("confusion_{stem}.{ext}"));
            genreid_plot::confusion_matrix(
                &labels,
                &e.test.confusion,
                &format!("{stem}: confusion matrix ({})", e.split),
                &path,
            )
            .map_err(|err| err.to_string())?;
            written.push(path.display().to_string());
            if !curves.is_empty() {
                let path = dir.join(format!("roc_{stem}.{ext}"));
                genreid_plot::roc_curves(&curves, &format!("{stem}: one-vs-rest ROC curves"), &path)
                    .map_err(|err| err.to_string())?;
                written.push(path.display().to_string());
            }
        }
        let _ = writeln!(md, "\n![confusion matrix](confusion_{stem}.png)");
        if !curves.is_empty() {
            let _ = writeln!(md, "![ROC curves](roc_{stem}.png)");
        }
    }
    if let Some(table) = table {
        md.push_str(&feature_views(dir, table, &mut written)?);
    }
    let path = dir.join("report.md");
    std::fs::write(&path, md).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path.display().to_string());
    Ok(written)
}

/// The parameters of each fold, collapsed when they agree.
fn summarise_params(params: &[Params]) -> String {
    let show = |p: &Params| {
        if p.is_empty() {
            "defaults".to_string()
        } else {
            p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        }
    };
    let mut distinct: Vec<(String, usize)> = Vec::new();
    for p in params {
        let s = show(p);
        match distinct.iter_mut().find(|(d, _)| *d == s) {
            Some((_, n)) => *n += 1,
            None => distinct.push((s, 1)),
        }
    }
    distinct.iter().map(|(s, n)| format!("`{s}` ({n} of {})", params.len())).collect::<Vec<_>>().join(", ")
}

/// One-vs-rest ROC curve of each class present among the predictions, with
/// its AUC in the legend.
pub fn roc_series(labels: &[String], truth: &[usize], probabilities: &[Vec<f64>]) -> Vec<Series> {
    labels
        .iter()
        .enumerate()
        .filter_map(|(c, label)| {
            let positive: Vec<bool> = truth.iter().map(|&t| t == c).collect();
            let scores: Vec<f64> = probabilities.iter().map(|p| p[c]).collect();
            let auc = roc_auc(&scores, &positive)?;
            Some(Series { name: format!("{label} (AUC {auc:.2})"), points: roc_points(&scores, &positive) })
        })
        .collect()
}

/// `(false-positive rate, true-positive rate)` at every distinct threshold,
/// from (0, 0) to (1, 1) (scikit-learn's `roc_curve` without dropping
/// collinear points).
pub fn roc_points(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let p = positive.iter().filter(|x| **x).count().max(1) as f64;
    let n = positive.iter().filter(|x| !**x).count().max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = vec![(0.0, 0.0)];
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0
        } else {
            fp += 1.0
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            points.push((fp / n, tp / p));
        }
    }
    points
}

/// Most rows drawn in the PCA, LDA and t-SNE views.
const MAX_VIEW_ROWS: usize = 2000;

/// Scatter plots of PCA, LDA and t-SNE views and a box plot, as Markdown.
/// The rows the views show, standardised, with their class indices.
struct ViewRows {
    classes: Vec<String>,
    step: usize,
    keep: Vec<usize>,
    x: Vec<Vec<f64>>,
    y: Vec<usize>,
}

/// Exact t-SNE is quadratic in rows: large tables are viewed through an
/// evenly spaced sample of rows (the same rows in every view).
fn view_rows(table: &FeatureTable) -> ViewRows {
    let classes = table.classes();
    let step = table.len().div_ceil(MAX_VIEW_ROWS).max(1);
    let keep: Vec<usize> = (0..table.len()).step_by(step).collect();
    let x = standardise(&keep.iter().map(|&i| table.rows[i].clone()).collect::<Vec<_>>());
    let y = keep.iter().map(|&i| classes.iter().position(|c| *c == table.labels[i]).unwrap_or(0)).collect();
    ViewRows { classes, step, keep, x, y }
}

/// t-SNE of a dual-loss autoencoder's `n`-wide code of the standardised
/// table (fitted on the rows shown), coloured by class:
/// `autoencoder_tsne.png`/`.svg`. Returns the files written.
pub fn write_latent_view(dir: &Path, table: &FeatureTable, n: usize) -> Result<Vec<String>, String> {
    let ViewRows { classes, x, y, .. } = view_rows(table);
    let reducer =
        Reducer::fit(ReduceSpec::Autoencoder { n }, &x, &y, classes.len()).map_err(|e| e.to_string())?;
    let codes: Vec<Vec<f64>> = x.iter().map(|r| reducer.transform(r)).collect();
    let points = tsne(&codes, 30.0, 0);
    let groups: Vec<Series> = classes
        .iter()
        .enumerate()
        .map(|(c, name)| Series {
            name: name.clone(),
            points: points.iter().zip(&y).filter(|(_, l)| **l == c).map(|(p, _)| (p[0], p[1])).collect(),
        })
        .collect();
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("autoencoder_tsne.{ext}"));
        genreid_plot::scatter(
            &groups,
            &format!("t-SNE of the dual-loss autoencoder's {n}-wide code"),
            ("t-SNE 1", "t-SNE 2"),
            &path,
        )
        .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

fn feature_views(dir: &Path, table: &FeatureTable, written: &mut Vec<String>) -> Result<String, String> {
    let ViewRows { classes, step, keep, x, y } = view_rows(table);
    let group = |points: Vec<(f64, f64)>| -> Vec<Series> {
        classes
            .iter()
            .enumerate()
            .map(|(c, name)| Series {
                name: name.clone(),
                points: points.iter().zip(&y).filter(|(_, l)| **l == c).map(|(p, _)| *p).collect(),
            })
            .collect()
    };
    let pair = |v: Vec<Vec<f64>>| -> Vec<(f64, f64)> {
        v.into_iter().map(|r| (r.first().copied().unwrap_or(0.0), r.get(1).copied().unwrap_or(0.0))).collect()
    };
    let views = [
        ("pca", "PCA of the standardised features", ("PC 1", "PC 2"), pair(pca(&x, 2))),
        ("lda", "LDA of the standardised features", ("LD 1", "LD 2"), pair(lda(&x, &y, classes.len(), 2))),
        (
            "tsne",
            "t-SNE of the standardised features (perplexity 30)",
            ("t-SNE 1", "t-SNE 2"),
            tsne(&x, 30.0, 0).into_iter().map(|p| (p[0], p[1])).collect(),
        ),
    ];
    let mut md = format!(
        "\n## The features, by class\n\nWhole table, {} (not a held-out view).\n\n",
        if step == 1 {
            "all rows".to_string()
        } else {
            format!("every {step}th row ({} of {})", keep.len(), table.len())
        }
    );
    for (stem, title, axes, points) in views {
        let groups = group(points);
        for ext in ["png", "svg"] {
            let path = dir.join(format!("{stem}.{ext}"));
            genreid_plot::scatter(&groups, title, axes, &path).map_err(|e| e.to_string())?;
            written.push(path.display().to_string());
        }
        let _ = writeln!(md, "![{title}]({stem}.png)");
    }
    let column = table.columns.iter().position(|c| c == "tempo").unwrap_or(0);
    let name = &table.columns[column];
    let groups: Vec<(String, Vec<f64>)> = classes
        .iter()
        .map(|label| {
            (
                label.clone(),
                table
                    .rows
                    .iter()
                    .zip(&table.labels)
                    .filter(|(_, l)| *l == label)
                    .map(|(r, _)| r[column])
                    .collect(),
            )
        })
        .collect();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("box_{name}.{ext}"));
        genreid_plot::box_plot(&groups, &format!("{name} by class"), name, &path)
            .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    let _ = writeln!(md, "![{name} by class](box_{name}.png)");
    Ok(md)
}

/// Writes `comparison.json` (one object per model, by accuracy) and, for a
/// dimension sweep, `sweep.json`, a Markdown table appended to `report.md`
/// and `sweep.png`/`.svg`. Returns the files written.
pub fn write_comparison(
    dir: &Path,
    evaluations: &[Evaluation],
    sweep: &[(usize, Evaluation)],
) -> Result<Vec<String>, String> {
    let row = |e: &Evaluation| {
        serde_json::json!({
            "model": e.model,
            "accuracy": e.test.accuracy,
            "macro_f1": e.test.macro_f1,
            "cv_best": e.cv_best,
            "train_auc": e.train.as_ref().and_then(|t| t.roc_auc_ovr),
            "test_auc": e.test.roc_auc_ovr,
            "fit_seconds": e.fit_seconds,
            "split": e.split,
            "reduce": e.reduce,
        })
    };
    let mut sorted: Vec<&Evaluation> = evaluations.iter().collect();
    sorted.sort_by(|a, b| b.test.accuracy.total_cmp(&a.test.accuracy));
    let rows: Vec<serde_json::Value> = sorted.iter().map(|e| row(e)).collect();
    let mut written = Vec::new();
    let write = |name: &str, text: String, written: &mut Vec<String>| -> Result<(), String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path.display().to_string());
        Ok(())
    };
    write("comparison.json", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?, &mut written)?;
    if sweep.is_empty() {
        return Ok(written);
    }
    let sweep_rows: Vec<serde_json::Value> = sweep
        .iter()
        .map(|(n, e)| {
            let mut r = row(e);
            r["dimensions"] = serde_json::json!(n);
            r
        })
        .collect();
    write("sweep.json", serde_json::to_string_pretty(&sweep_rows).map_err(|e| e.to_string())?, &mut written)?;
    // One column pair per (reduction method, model), so SVD, forest selection
    // and the autoencoder sit in one table.
    let method_of =
        |e: &Evaluation| e.reduce.as_deref().and_then(|r| r.split(':').next()).unwrap_or("svd").to_string();
    let mut keys: Vec<(String, ClassifierKind)> = Vec::new();
    let mut dims: Vec<usize> = Vec::new();
    for (n, e) in sweep {
        let key = (method_of(e), e.model);
        if !keys.contains(&key) {
            keys.push(key);
        }
        if !dims.contains(n) {
            dims.push(*n);
        }
    }
    let mut methods: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    methods.dedup();
    let method = methods.join(", ");
    let mut md = format!("\n## Accuracy and fit time against dimension ({method})\n\n| dimensions |");
    for (r, m) in &keys {
        let _ = write!(md, " {m} ({r}) accuracy | {m} ({r}) fit s |");
    }
    md.push_str("\n|---:|");
    md.push_str(&"---:|---:|".repeat(keys.len()));
    md.push('\n');
    for n in &dims {
        let _ = write!(md, "| {n} |");
        for (r, m) in &keys {
            match sweep.iter().find(|(d, e)| d == n && e.model == *m && method_of(e) == *r) {
                Some((_, e)) => {
                    let _ = write!(md, " {:.3} | {:.2} |", e.test.accuracy, e.fit_seconds);
                }
                None => md.push_str(" | |"),
            }
        }
        md.push('\n');
    }
    let series: Vec<Series> = keys
        .iter()
        .map(|(r, m)| Series {
            name: format!("{m} ({r})"),
            points: sweep
                .iter()
                .filter(|(_, e)| e.model == *m && method_of(e) == *r)
                .map(|(n, e)| (*n as f64, e.test.accuracy))
                .collect(),
        })
        .collect();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("sweep.{ext}"));
        genreid_plot::line_chart(
            &series,
            &format!("Accuracy against dimension ({method})"),
            ("dimensions", "accuracy"),
            &path,
        )
        .map_err(|e| e.to_string())?;
        written.push(path.display().to_string());
    }
    md.push_str("\n![accuracy against dimension](sweep.png)\n");
    let report = dir.join("report.md");
    let mut text = std::fs::read_to_string(&report).unwrap_or_default();
    text.push_str(&md);
    write("report.md", text, &mut Vec::new())?;
    Ok(written)
}

/// A row-normalised confusion matrix as a Markdown table.
fn normalised_markdown(labels: &[String], normalised: &[Vec<f64>]) -> String {
    let mut md = format!(
        "\nNormalised by true class:\n\n| | {} |\n|---|{}\n",
        labels.join(" | "),
        "---:|".repeat(labels.len())
    );
    for (l, row) in labels.iter().zip(normalised) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.2}")).collect();
        let _ = writeln!(md, "| {l} | {} |", cells.join(" | "));
    }
    md
}

/// A confusion matrix as a Markdown table (rows: truth, columns: predicted).
pub fn confusion_markdown<S: AsRef<str>>(labels: &[S], confusion: &[Vec<usize>]) -> String {
    let names: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
    let mut md = format!(
        "\nConfusion matrix (rows: truth, columns: predicted):\n\n| | {} |\n|---|{}\n",
        names.join(" | "),
        "---:|".repeat(names.len())
    );
    for (l, row) in names.iter().zip(confusion) {
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        let _ = writeln!(md, "| {l} | {} |", cells.join(" | "));
    }
    md
}
