//! Evaluation reports: `metrics.json`, `report.md` and a confusion-matrix
//! heat map (PNG and SVG) in a folder.

use std::fmt::Write as _;
use std::path::Path;

use crate::classical::Evaluation;

/// Writes the report of `evaluations` (one per model) into `dir`, with the
/// first model's confusion matrix drawn. Returns the files written.
pub fn write_report(dir: &Path, title: &str, evaluations: &[Evaluation]) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let json = serde_json::to_string_pretty(evaluations).map_err(|e| e.to_string())?;
    let path = dir.join("metrics.json");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path.display().to_string());

    let mut md = format!("# {title}\n\n");
    if let Some(first) = evaluations.first() {
        let _ = writeln!(md, "Split: {} ({} test predictions).\n", first.split, first.n_test);
    }
    md.push_str("| model | accuracy | macro F1 | macro precision | macro recall | test ROC-AUC | train ROC-AUC | fit s |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    let auc = |a: Option<f64>| a.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut sorted: Vec<&Evaluation> = evaluations.iter().collect();
    sorted.sort_by(|a, b| b.test.accuracy.total_cmp(&a.test.accuracy));
    for e in &sorted {
        let _ = writeln!(
            md,
            "| {:?} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {:.3} |",
            e.model,
            e.test.accuracy,
            e.test.macro_f1,
            e.test.macro_precision,
            e.test.macro_recall,
            auc(e.test.roc_auc_ovr),
            auc(e.train.as_ref().and_then(|t| t.roc_auc_ovr)),
            e.fit_seconds
        );
    }
    for e in &sorted {
        let _ = writeln!(
            md,
            "\n## {:?}: per class\n\n| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|",
            e.model
        );
        for c in &e.test.per_class {
            let _ = writeln!(
                md,
                "| {} | {:.3} | {:.3} | {:.3} | {} |",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
        let labels: Vec<&str> = e.test.per_class.iter().map(|c| c.label.as_str()).collect();
        md.push_str(&confusion_markdown(&labels, &e.test.confusion));
        for ext in ["png", "svg"] {
            let name = format!("confusion_{:?}.{ext}", e.model).to_lowercase();
            let path = dir.join(&name);
            let owned: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
            genreid_plot::confusion_matrix(
                &owned,
                &e.test.confusion,
                &format!("{:?}: confusion matrix ({})", e.model, e.split),
                &path,
            )
            .map_err(|err| err.to_string())?;
            written.push(path.display().to_string());
            if ext == "png" {
                let _ = writeln!(md, "\n![confusion matrix]({name})");
            }
        }
    }
    let path = dir.join("report.md");
    std::fs::write(&path, md).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path.display().to_string());
    Ok(written)
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
