//! Scoring a trained network on a split's tracks: every segment classified,
//! segment-level metrics, and track-level metrics by mean probability and by
//! majority vote (seed 000's "(v)" columns), with the report and its plots.

use std::fmt::Write as _;
use std::path::Path;

use genreid_data::SpectrogramCache;
use genreid_models::neural::Classifier;
use genreid_plot::Series;
use serde::Serialize;

use super::EpochStats;
use super::segments::{Cutting, read_batch, segments_of};
use crate::metrics::{Metrics, argmax};
use crate::report::{confusion_markdown, roc_series};

/// Per-track predictions.
#[derive(Debug, Clone, Default)]
pub struct TrackScores {
    /// True class per track.
    pub truth: Vec<usize>,
    /// Mean segment probability per track.
    pub mean: Vec<Vec<f64>>,
    /// Vote share per class per track (ties broken by mean probability).
    pub votes: Vec<Vec<f64>>,
}

/// A network's scores on one split.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkEvaluation {
    /// Run name (architecture, input, segment length).
    pub model: String,
    /// The split, in words.
    pub split: String,
    /// Seconds per segment.
    pub segment_seconds: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Segment accuracy.
    pub accuracy: f64,
    /// Segment macro F1.
    pub macro_f1: f64,
    /// Track accuracy, verdict by mean segment probability.
    pub track_accuracy_mean: f64,
    /// Track accuracy, verdict by majority vote of segments.
    pub track_accuracy_vote: f64,
    /// Track macro F1 by mean probability.
    pub track_macro_f1_mean: f64,
    /// All segment metrics.
    pub segment: Metrics,
    /// All track metrics (mean probability).
    pub track_mean: Metrics,
    /// All track metrics (majority vote).
    pub track_vote: Metrics,
    /// Test tracks scored.
    pub n_tracks: usize,
    /// Test segments scored.
    pub n_segments: usize,
    /// Seconds spent training (0 for `eval` of a saved model).
    pub fit_seconds: f64,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// Training history.
    pub history: Vec<EpochStats>,
    /// Segment truth and probabilities (for plots).
    #[serde(skip)]
    pub segment_scores: (Vec<usize>, Vec<Vec<f64>>),
    /// Track scores (for plots).
    #[serde(skip)]
    pub tracks: TrackScores,
}

/// Classifies every segment of `tracks` and scores it against `targets`
/// (class indices in the classifier's label order).
pub fn evaluate_network(
    classifier: &Classifier,
    cache: &SpectrogramCache,
    targets: &[usize],
    tracks: &[usize],
    name: &str,
    split: &str,
) -> Result<NetworkEvaluation, String> {
    let m = classifier.manifest();
    let labels = &m.labels;
    let cutting = Cutting {
        frames: m.input.segment_frames(m.segment_seconds),
        hop: m.input.hop_frames(m.segment_seconds),
    };
    let segments = segments_of(cache, 0, tracks, cutting);
    if segments.is_empty() {
        return Err("no test segments: every test track failed to decode".into());
    }
    let mut probs = Vec::with_capacity(segments.len());
    for batch in segments.chunks(64) {
        let x = read_batch(&[cache], batch, cutting.frames).map_err(|e| e.to_string())?;
        probs.extend(classifier.predict(&x, cutting.frames).map_err(|e| e.to_string())?);
    }
    // Segments come track by track: group them back.
    let mut per_track: Vec<(usize, Vec<Vec<f64>>)> = Vec::new();
    let mut last = usize::MAX;
    for (s, p) in segments.iter().zip(probs) {
        if s.track != last {
            per_track.push((targets[s.track], Vec::new()));
            last = s.track;
        }
        if let Some(t) = per_track.last_mut() {
            t.1.push(p);
        }
    }
    Ok(score_tracks(labels, &per_track, name, split, m.segment_seconds, m.parameters))
}

/// Scores per-segment probabilities grouped by track (`(true class,
/// segment probabilities)`): segment metrics, and track metrics by mean
/// probability and by majority vote. Shared by networks and by heads on a
/// pretrained backbone.
pub fn score_tracks(
    labels: &[String],
    per_track: &[(usize, Vec<Vec<f64>>)],
    name: &str,
    split: &str,
    segment_seconds: f64,
    parameters: usize,
) -> NetworkEvaluation {
    let k = labels.len();
    let mut scores = TrackScores::default();
    let (mut seg_truth, mut probs) = (Vec::new(), Vec::new());
    for (truth, segs) in per_track.iter().filter(|t| !t.1.is_empty()) {
        let n = segs.len() as f64;
        let mean: Vec<f64> = (0..k).map(|c| segs.iter().map(|p| p[c]).sum::<f64>() / n).collect();
        let mut votes = vec![0.0; k];
        for p in segs {
            votes[argmax(p)] += 1.0 / n;
            seg_truth.push(*truth);
            probs.push(p.clone());
        }
        let votes: Vec<f64> = votes.iter().zip(&mean).map(|(v, m)| v + 1e-9 * m).collect();
        scores.truth.push(*truth);
        scores.mean.push(mean);
        scores.votes.push(votes);
    }
    let segment = Metrics::compute(labels, &seg_truth, &probs);
    let track_mean = Metrics::compute(labels, &scores.truth, &scores.mean);
    let track_vote = Metrics::compute(labels, &scores.truth, &scores.votes);
    NetworkEvaluation {
        model: name.to_string(),
        split: split.to_string(),
        segment_seconds,
        parameters,
        accuracy: segment.accuracy,
        macro_f1: segment.macro_f1,
        track_accuracy_mean: track_mean.accuracy,
        track_accuracy_vote: track_vote.accuracy,
        track_macro_f1_mean: track_mean.macro_f1,
        n_tracks: scores.truth.len(),
        n_segments: seg_truth.len(),
        segment,
        track_mean,
        track_vote,
        fit_seconds: 0.0,
        best_epoch: 0,
        history: Vec::new(),
        segment_scores: (seg_truth, probs),
        tracks: scores,
    }
}

/// One evaluation of several folds' test predictions together (each track
/// is tested in exactly one fold): metrics recomputed on the pooled
/// predictions, training time summed, fold 1's history kept.
pub fn pool_evaluations(folds: &[NetworkEvaluation], labels: &[String], split: &str) -> NetworkEvaluation {
    let mut seg_truth = Vec::new();
    let mut seg_probs = Vec::new();
    let mut tracks = TrackScores::default();
    for e in folds {
        seg_truth.extend_from_slice(&e.segment_scores.0);
        seg_probs.extend_from_slice(&e.segment_scores.1);
        tracks.truth.extend_from_slice(&e.tracks.truth);
        tracks.mean.extend_from_slice(&e.tracks.mean);
        tracks.votes.extend_from_slice(&e.tracks.votes);
    }
    let segment = Metrics::compute(labels, &seg_truth, &seg_probs);
    let track_mean = Metrics::compute(labels, &tracks.truth, &tracks.mean);
    let track_vote = Metrics::compute(labels, &tracks.truth, &tracks.votes);
    let first = folds.first();
    NetworkEvaluation {
        model: first.map_or_else(String::new, |e| e.model.clone()),
        split: split.to_string(),
        segment_seconds: first.map_or(0.0, |e| e.segment_seconds),
        parameters: first.map_or(0, |e| e.parameters),
        accuracy: segment.accuracy,
        macro_f1: segment.macro_f1,
        track_accuracy_mean: track_mean.accuracy,
        track_accuracy_vote: track_vote.accuracy,
        track_macro_f1_mean: track_mean.macro_f1,
        n_tracks: tracks.truth.len(),
        n_segments: seg_truth.len(),
        segment,
        track_mean,
        track_vote,
        fit_seconds: folds.iter().map(|e| e.fit_seconds).sum(),
        best_epoch: first.map_or(0, |e| e.best_epoch),
        history: first.map_or_else(Vec::new, |e| e.history.clone()),
        segment_scores: (seg_truth, seg_probs),
        tracks,
    }
}

fn plot_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes `metrics.json` (this evaluation), `report.md`, the track-level
/// confusion matrix, ROC curves and, after training, loss and accuracy
/// curves (PNG and SVG) into `dir`. Returns the files written.
pub fn write_network_report(dir: &Path, title: &str, e: &NetworkEvaluation) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut written = Vec::new();
    let path = dir.join("metrics.json");
    std::fs::write(&path, serde_json::to_string_pretty(e).map_err(|err| err.to_string())?)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    written.push(path.display().to_string());
    let labels: Vec<String> = e.track_mean.per_class.iter().map(|c| c.label.clone()).collect();
    let mut md = format!(
        "# {title}\n\nSplit: {} ({} tracks, {} segments of {} s). Parameters: {}.\n\n",
        e.split, e.n_tracks, e.n_segments, e.segment_seconds, e.parameters
    );
    md.push_str("| level | accuracy | macro F1 | ROC-AUC |\n|---|---:|---:|---:|\n");
    let auc = |m: &Metrics| m.roc_auc_ovr.map_or("n/a".into(), |v| format!("{v:.3}"));
    for (name, m) in [
        ("segment", &e.segment),
        ("track, mean probability", &e.track_mean),
        ("track, majority vote", &e.track_vote),
    ] {
        let _ = writeln!(md, "| {name} | {:.3} | {:.3} | {} |", m.accuracy, m.macro_f1, auc(m));
    }
    md.push_str("\n## Track-level confusion (mean probability)\n\n");
    md.push_str(&confusion_markdown(&labels, &e.track_mean.confusion));
    for ext in ["png", "svg"] {
        let path = dir.join(format!("confusion.{ext}"));
        genreid_plot::confusion_matrix(
            &labels,
            &e.track_mean.confusion,
            &format!("{}: tracks ({})", e.model, e.split),
            &path,
        )
        .map_err(plot_err)?;
        written.push(path.display().to_string());
        let curves = roc_series(&labels, &e.tracks.truth, &e.tracks.mean);
        if !curves.is_empty() {
            let path = dir.join(format!("roc.{ext}"));
            genreid_plot::roc_curves(&curves, &format!("{}: one-vs-rest ROC (tracks)", e.model), &path)
                .map_err(plot_err)?;
            written.push(path.display().to_string());
        }
    }
    md.push_str("\n![confusion matrix](confusion.png)\n");
    if !e.history.is_empty() {
        write_curves(dir, &e.model, &e.history, &mut written)?;
        md.push_str("\n## Training\n\n| epoch | lr | train loss | train acc | valid loss | valid acc | s |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        for h in &e.history {
            let _ = writeln!(
                md,
                "| {} | {:.2e} | {:.4} | {:.3} | {:.4} | {:.3} | {:.1} |",
                h.epoch,
                h.learning_rate,
                h.train_loss,
                h.train_accuracy,
                h.valid_loss,
                h.valid_accuracy,
                h.seconds
            );
        }
        let _ = writeln!(
            md,
            "\nWeights kept from epoch {}.\n\n![loss](loss.png) ![accuracy](accuracy.png)",
            e.best_epoch
        );
    }
    let path = dir.join("report.md");
    std::fs::write(&path, md).map_err(|err| format!("{}: {err}", path.display()))?;
    written.push(path.display().to_string());
    Ok(written)
}

/// Loss and accuracy per epoch, training and validation.
pub fn write_curves(
    dir: &Path,
    name: &str,
    history: &[EpochStats],
    written: &mut Vec<String>,
) -> Result<(), String> {
    let series = |f: &dyn Fn(&EpochStats) -> f64, label: &str| Series {
        name: label.into(),
        points: history.iter().map(|h| (h.epoch as f64, f(h))).filter(|p| p.1.is_finite()).collect(),
    };
    let loss = [series(&|h| h.train_loss, "training"), series(&|h| h.valid_loss, "validation")];
    let acc = [series(&|h| h.train_accuracy, "training"), series(&|h| h.valid_accuracy, "validation")];
    for ext in ["png", "svg"] {
        for (stem, s, axis) in [("loss", &loss, "loss"), ("accuracy", &acc, "segment accuracy")] {
            let s: Vec<Series> = s.iter().filter(|x| !x.points.is_empty()).cloned().collect();
            let path = dir.join(format!("{stem}.{ext}"));
            genreid_plot::line_chart(&s, &format!("{name}: {axis} by epoch"), ("epoch", axis), &path)
                .map_err(plot_err)?;
            written.push(path.display().to_string());
        }
    }
    Ok(())
}
