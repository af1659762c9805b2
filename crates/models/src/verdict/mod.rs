//! A track's verdict from either kind of model: per-segment probabilities,
//! the verdict by mean probability and by majority vote, and a tagger's tags.
//! Shared by `genreid classify`, `genreid tag` and the HTTP service.
//!
//! Serialised, a [`Verdict`] is the documented JSON record:
//! `{path, genre, vote, probabilities: {label: p}, tags: {tag: p},
//! segments?: [{start, end, genre, probabilities}]}`.

use std::path::Path;

use genreid_audio::{LoadOptions, Signal, load, load_bytes, segments};
use genreid_features::input::{InputKind, cut_segment, segment_starts};
use genreid_features::{fma518, gtzan57};
use serde::Serialize;

use crate::catalog::Model;
use crate::neural;
use crate::pretrained::{Tagger, TrackAnalysis};
use crate::{ModelError, ModelFile, Result};

mod blocks;
pub use blocks::{BLOCK_SECONDS, classify_classical_blocks, classify_network_blocks};

/// Label → probability, in the model's label order.
pub type Probabilities = serde_json::Map<String, serde_json::Value>;

/// One segment's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentVerdict {
    /// Start in seconds.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// The segment's most probable label.
    pub genre: String,
    /// The segment's probabilities.
    pub probabilities: Probabilities,
}

/// One track's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The file (or upload name).
    pub path: String,
    /// The verdict by mean probability over segments.
    pub genre: String,
    /// The verdict by majority of segment verdicts (ties: higher mean probability).
    pub vote: String,
    /// Label → mean probability.
    pub probabilities: Probabilities,
    /// Tag → mean probability (empty for models without tags).
    pub tags: Probabilities,
    /// Each segment's verdict, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<SegmentVerdict>>,
}

impl Verdict {
    /// The probability of the verdict's genre.
    pub fn confidence(&self) -> f64 {
        self.probabilities.get(&self.genre).and_then(serde_json::Value::as_f64).unwrap_or(0.0)
    }

    /// The `n` most probable tags, best first.
    pub fn top_tags(&self, n: usize) -> Vec<String> {
        ranked(&self.tags).into_iter().take(n).map(|(t, _)| t.clone()).collect()
    }
}

/// Entries of a probability map, most probable first.
pub fn ranked(map: &Probabilities) -> Vec<(&String, f64)> {
    let mut r: Vec<(&String, f64)> = map.iter().map(|(l, p)| (l, p.as_f64().unwrap_or(0.0))).collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

fn argmax(p: &[f64]) -> usize {
    (0..p.len()).fold(0, |best, i| if p[i] > p[best] { i } else { best })
}

fn prob_map(labels: &[String], p: &[f64]) -> Probabilities {
    labels.iter().zip(p).map(|(l, v)| (l.clone(), serde_json::json!(v))).collect()
}

/// Track verdict from per-segment probabilities: mean probability, majority vote.
pub(crate) fn combine(
    name: &str,
    labels: &[String],
    per_segment: &[Vec<f64>],
    spans: &[(f64, f64)],
    tags: Probabilities,
    with_segments: bool,
) -> Verdict {
    let k = labels.len();
    let n = per_segment.len().max(1) as f64;
    let mean: Vec<f64> = (0..k).map(|c| per_segment.iter().map(|p| p[c]).sum::<f64>() / n).collect();
    let mut votes = vec![0usize; k];
    for p in per_segment {
        votes[argmax(p)] += 1;
    }
    let vote = (0..k).fold(0, |b, c| if (votes[c], mean[c]) > (votes[b], mean[b]) { c } else { b });
    let segments = with_segments.then(|| {
        spans
            .iter()
            .zip(per_segment)
            .map(|(&(start, end), p)| SegmentVerdict {
                start,
                end,
                genre: labels[argmax(p)].clone(),
                probabilities: prob_map(labels, p),
            })
            .collect()
    });
    Verdict {
        path: name.to_string(),
        genre: labels[argmax(&mean)].clone(),
        vote: labels[vote].clone(),
        probabilities: prob_map(labels, &mean),
        tags,
        segments,
    }
}

/// How audio must be loaded for `model`: a tagger's own rate, a classical
/// model's feature rate (0 records each file's own rate, FMA's way).
pub fn load_options(model: &Model) -> LoadOptions {
    match model {
        Model::Classical(m) => {
            let rate = m.preprocessing.sample_rate;
            LoadOptions { sample_rate: (rate > 0).then_some(rate), ..Default::default() }
        }
        Model::Tagger(t) => t.load_options(),
        Model::Network(n) => {
            LoadOptions { sample_rate: Some(n.manifest().input.sample_rate), ..Default::default() }
        }
        // The file's own rate; each member resamples to what it needs.
        Model::Ensemble(_) => LoadOptions { sample_rate: None, ..Default::default() },
    }
}

/// Classifies an audio file.
pub fn classify_path(model: &Model, path: &Path, hop: usize, with_segments: bool) -> Result<Verdict> {
    let in_file = |e: ModelError| ModelError::File { path: path.to_path_buf(), reason: e.to_string() };
    match model {
        // Taggers, classical models and most networks read the file in blocks
        // (`blocks`): memory stays flat however long it is.
        Model::Tagger(tagger) => {
            let analysis = tagger.analyse_file(path, hop)?;
            return Ok(tagged_verdict(&path.display().to_string(), tagger, &analysis, with_segments));
        }
        Model::Classical(m) if m.preprocessing.segment_seconds > 0.0 => {
            return classify_classical_blocks(m, path, with_segments, BLOCK_SECONDS).map_err(in_file);
        }
        // An MFCC picture's dB floor refers to the whole track's maximum.
        Model::Network(n) if n.manifest().input.kind != InputKind::Mfcc => {
            return classify_network_blocks(n, path, with_segments, BLOCK_SECONDS).map_err(in_file);
        }
        _ => {}
    }
    let signal = load(path, &load_options(model)).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
    let name = path.display().to_string();
    classify_signal(model, &signal, &name, hop, with_segments).map_err(in_file)
}

/// Classifies encoded audio bytes (an upload); `name` appears in errors.
pub fn classify_bytes(
    model: &Model,
    name: &str,
    bytes: Vec<u8>,
    hop: usize,
    segments: bool,
) -> Result<Verdict> {
    let signal =
        load_bytes(name, bytes, &load_options(model)).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
    classify_signal(model, &signal, name, hop, segments)
}

/// Classifies a signal loaded with [`load_options`]. Tagger models use
/// 3-s patches `hop` frames apart; classical models whole segments of their
/// training length.
pub fn classify_signal(
    model: &Model,
    signal: &Signal,
    name: &str,
    hop: usize,
    with_segments: bool,
) -> Result<Verdict> {
    match model {
        Model::Classical(m) => classify_classical(signal, name, m, with_segments),
        Model::Tagger(t) => classify_tagged(signal, name, t, hop, with_segments),
        Model::Network(n) => classify_network(signal, name, n, with_segments),
        Model::Ensemble(members) => classify_ensemble(signal, name, members, hop),
    }
}

/// Members' verdicts combined: weighted mean of their track probabilities
/// (`genre`) and weighted majority of their verdicts (`vote`, ties broken
/// by the combined probability). Per-segment timelines are not combined.
fn classify_ensemble(signal: &Signal, name: &str, members: &[(Model, f64)], hop: usize) -> Result<Verdict> {
    let labels = members.first().map(|(m, _)| m.labels()).unwrap_or_default();
    let k = labels.len();
    let (mut mean, mut votes, mut tags) = (vec![0.0; k], vec![0.0; k], Probabilities::new());
    let total: f64 = members.iter().map(|(_, w)| w).sum();
    for (model, weight) in members {
        let wanted = load_options(model).sample_rate.unwrap_or(signal.sample_rate);
        let resampled;
        let input = if wanted == signal.sample_rate {
            signal
        } else {
            resampled = genreid_audio::resample(signal, wanted)
                .map_err(|e| ModelError::InvalidInput(e.to_string()))?;
            &resampled
        };
        let v = classify_signal(model, input, name, hop, false)?;
        for (c, label) in labels.iter().enumerate() {
            mean[c] += weight / total
                * v.probabilities.get(label).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        }
        if let Some(c) = labels.iter().position(|l| *l == v.genre) {
            votes[c] += weight;
        }
        if tags.is_empty() {
            tags = v.tags;
        }
    }
    let vote = (0..k).fold(0, |b, c| if (votes[c], mean[c]) > (votes[b], mean[b]) { c } else { b });
    Ok(Verdict {
        path: name.to_string(),
        genre: labels[argmax(&mean)].clone(),
        vote: labels[vote].clone(),
        probabilities: prob_map(&labels, &mean),
        tags,
        segments: None,
    })
}

/// A trained network: the whole track's picture, cut into segments of the
/// training length (a short track repeats to fill one), each classified.
pub(crate) fn classify_network(
    signal: &Signal,
    name: &str,
    network: &neural::Classifier,
    with_segments: bool,
) -> Result<Verdict> {
    let m = network.manifest();
    if signal.sample_rate != m.input.sample_rate {
        return Err(ModelError::InvalidInput(format!(
            "{name}: audio at {} Hz given to a network trained at {} Hz",
            signal.sample_rate, m.input.sample_rate
        )));
    }
    let picture =
        m.input.compute(&signal.samples).map_err(|e| ModelError::InvalidInput(format!("{name}: {e}")))?;
    let [bins, total] = picture.shape();
    let mut time_major = vec![0.0f32; bins * total];
    genreid_features::matrix::transpose(&picture.data, bins, total, &mut time_major);
    let frames = m.input.segment_frames(m.segment_seconds);
    let hop = m.input.hop_frames(m.segment_seconds);
    let starts = segment_starts(total, frames, hop);
    let mut batch = Vec::with_capacity(starts.len() * frames * bins);
    let mut one = Vec::new();
    for &s in &starts {
        cut_segment(&time_major, bins, s, frames, m.input.normalized(), &mut one);
        batch.extend_from_slice(&one);
    }
    let per_segment = network.predict(&batch, frames)?;
    let spans = frame_spans(&starts, frames, &m.input, signal.duration_seconds());
    Ok(combine(name, &m.labels, &per_segment, &spans, Probabilities::new(), with_segments))
}

/// `(start, end)` in seconds of segments of `frames` frames starting at `starts`.
pub(crate) fn frame_spans(
    starts: &[usize],
    frames: usize,
    input: &genreid_features::input::SpectrogramInput,
    duration: f64,
) -> Vec<(f64, f64)> {
    let seconds_per_frame = input.hop_length as f64 / f64::from(input.sample_rate);
    starts
        .iter()
        .map(|&s| (s as f64 * seconds_per_frame, ((s + frames - 1) as f64 * seconds_per_frame).min(duration)))
        .collect()
}

pub(crate) fn classify_classical(
    signal: &Signal,
    name: &str,
    model: &ModelFile,
    with_segments: bool,
) -> Result<Verdict> {
    let pre = &model.preprocessing;
    let sr = f64::from(signal.sample_rate);
    let seg_len = (pre.segment_seconds * sr).round() as usize;
    let spans: Vec<(usize, usize)> = if seg_len == 0 || signal.len() < seg_len {
        vec![(0, signal.len())]
    } else {
        segments(signal.len(), seg_len, seg_len)
            .map_err(|e| ModelError::InvalidInput(e.to_string()))?
            .into_iter()
            .map(|s| (s.start, s.end))
            .collect()
    };
    let per_segment = spans
        .iter()
        .map(|&(start, end)| segment_probabilities(model, &signal.samples[start..end], sr, name))
        .collect::<Result<Vec<_>>>()?;
    let seconds: Vec<(f64, f64)> = spans.iter().map(|&(s, e)| (s as f64 / sr, e as f64 / sr)).collect();
    Ok(combine(name, &model.labels, &per_segment, &seconds, Probabilities::new(), with_segments))
}

/// A classical model's probabilities for one segment's samples.
pub(crate) fn segment_probabilities(model: &ModelFile, y: &[f32], sr: f64, name: &str) -> Result<Vec<f64>> {
    let pre = &model.preprocessing;
    let row = match pre.feature_set.as_str() {
        "gtzan57" => gtzan57(y, sr),
        "fma518" => fma518(y, sr),
        other => {
            return Err(ModelError::InvalidInput(format!(
                "model needs feature set {other:?}, which this genreid cannot compute"
            )));
        }
    }
    .map_err(|e| ModelError::InvalidInput(format!("{name}: {e}")))?;
    if row.len() != pre.columns.len() {
        return Err(ModelError::InvalidInput(format!(
            "model expects {} features, {} computes {}",
            pre.columns.len(),
            pre.feature_set,
            row.len()
        )));
    }
    Ok(model.predict_proba(&row))
}

fn classify_tagged(
    signal: &Signal,
    name: &str,
    tagger: &Tagger,
    hop: usize,
    with_segments: bool,
) -> Result<Verdict> {
    let analysis = tagger.analyse_signal(signal, hop)?;
    Ok(tagged_verdict(name, tagger, &analysis, with_segments))
}

/// A tagger's verdict from its per-patch outputs.
fn tagged_verdict(name: &str, tagger: &Tagger, analysis: &TrackAnalysis, with_segments: bool) -> Verdict {
    let tag_labels = &tagger.manifest().tags;
    let taggram = &analysis.outputs.taggram;
    let per_patch_tags: Vec<Vec<f64>> =
        (0..taggram.len()).map(|i| taggram.row(i).iter().map(|&v| f64::from(v)).collect()).collect();
    let n = per_patch_tags.len().max(1) as f64;
    let mean_tags: Vec<f64> =
        (0..tag_labels.len()).map(|t| per_patch_tags.iter().map(|p| p[t]).sum::<f64>() / n).collect();
    let tags = prob_map(tag_labels, &mean_tags);
    match (&tagger.manifest().genre_head, &analysis.outputs.genres) {
        (Some(head), Some(genres)) => {
            combine(name, &head.labels, genres, &analysis.spans, tags, with_segments)
        }
        _ => combine(name, tag_labels, &per_patch_tags, &analysis.spans, tags, with_segments),
    }
}
