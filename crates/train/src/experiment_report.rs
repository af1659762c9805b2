//! An experiment's comparison tables: one row per run (segment-level and
//! track-level accuracy side by side), as Markdown and CSV, with seed 000's
//! Table I layout and a chart of accuracy by segment length.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use genreid_plot::Series;

/// One finished run of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRow {
    /// The run's name.
    pub name: String,
    /// Architecture, `backbone+head`, or `ensemble`.
    pub model: String,
    /// Segment length in seconds.
    pub segment: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Segment (or patch) accuracy on the test tracks.
    pub segment_accuracy: f64,
    /// Track accuracy by mean probability.
    pub track_mean: f64,
    /// Track accuracy by majority vote.
    pub track_vote: f64,
    /// Segment-level macro F1.
    pub macro_f1: f64,
    /// Epochs run.
    pub epochs: usize,
    /// Seconds of training.
    pub seconds: f64,
}

fn pct(v: f64) -> String {
    format!("{:.2}", 100.0 * v)
}

/// Writes an experiment's `results.md`, `results.csv` and, with several
/// segment lengths, seed 000's Table I layout and the accuracy-by-segment-length
/// chart (PNG and SVG) into `dir`; returns the files written.
pub fn write_experiment_tables(
    dir: &Path,
    title: &str,
    rows: &[ExperimentRow],
) -> Result<Vec<String>, String> {
    let mut written = Vec::new();
    let mut md = format!(
        "# {title}\n\nAccuracy in % on the test tracks. Segment models are scored per segment and per track (v: majority vote of the track's segments; mean: mean probability). Ensemble rows combine whole-track verdicts of their members, so their segment column repeats the track accuracy.\n\n"
    );
    md.push_str("| run | model | segment s | segment acc | track acc (v) | track acc (mean) | macro F1 | params | epochs | train s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut csv = String::from(
        "run,model,segment_seconds,segment_accuracy,track_accuracy_vote,track_accuracy_mean,macro_f1,parameters,epochs,train_seconds\n",
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.3} | {} | {} | {:.0} |",
            r.name,
            r.model,
            r.segment,
            pct(r.segment_accuracy),
            pct(r.track_vote),
            pct(r.track_mean),
            r.macro_f1,
            r.parameters,
            r.epochs,
            r.seconds
        );
        let _ = writeln!(
            csv,
            "\"{}\",{},{},{:.4},{:.4},{:.4},{:.4},{},{},{:.1}",
            r.name.replace('"', "'"),
            r.model,
            r.segment,
            r.segment_accuracy,
            r.track_vote,
            r.track_mean,
            r.macro_f1,
            r.parameters,
            r.epochs,
            r.seconds
        );
    }
    // Seed 000's Table I: per model, whole-clip accuracy and, per shorter
    // segment length, voted (v) and per-segment accuracy.
    let mut by_model: BTreeMap<&str, Vec<&ExperimentRow>> = BTreeMap::new();
    for r in rows {
        by_model.entry(r.model.as_str()).or_default().push(r);
    }
    let mut lengths: Vec<f64> = rows.iter().map(|r| r.segment).collect();
    lengths.sort_by(|a, b| b.total_cmp(a));
    lengths.dedup();
    if lengths.len() > 1 {
        md.push_str("\n## By segment length (seed 000, Table I)\n\n| model |");
        for l in &lengths {
            let _ = write!(md, " {l}s (v) | {l}s |");
        }
        md.push_str(" params |\n|---|");
        md.push_str(&"---:|".repeat(2 * lengths.len() + 1));
        md.push('\n');
        for (model, runs) in &by_model {
            let _ = write!(md, "| {model} |");
            for l in &lengths {
                match runs.iter().find(|r| r.segment == *l) {
                    Some(r) => {
                        let _ = write!(md, " {} | {} |", pct(r.track_vote), pct(r.segment_accuracy));
                    }
                    None => md.push_str(" – | – |"),
                }
            }
            let params: Vec<String> = runs.iter().map(|r| r.parameters.to_string()).collect();
            let _ = writeln!(md, " {} |", params.join(" / "));
        }
        let series: Vec<Series> = by_model
            .iter()
            .map(|(model, runs)| Series {
                name: (*model).to_string(),
                points: {
                    let mut p: Vec<(f64, f64)> = runs.iter().map(|r| (r.segment, r.track_vote)).collect();
                    p.sort_by(|a, b| a.0.total_cmp(&b.0));
                    p
                },
            })
            .collect();
        for ext in ["png", "svg"] {
            let path = dir.join(format!("accuracy_by_segment.{ext}"));
            genreid_plot::line_chart(
                &series,
                "Track accuracy (majority vote) by segment length",
                ("segment length (s)", "track accuracy"),
                &path,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?;
            written.push(path.display().to_string());
        }
        md.push_str("\n![accuracy by segment length](accuracy_by_segment.png)\n");
    }
    md.push_str("\nEach run's folder holds its model file, report, confusion matrix, ROC curves and training curves.\n");
    for (name, body) in [("results.md", md), ("results.csv", csv)] {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}
