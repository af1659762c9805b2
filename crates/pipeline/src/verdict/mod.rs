//! A track's verdict from either kind of model: per-segment probabilities,
//! the verdict by mean probability and by majority vote, and a tagger's tags.
//! Shared by `genreid classify`, `genreid tag` and the HTTP service.
//!
//! Serialised, a [`Verdict`] is the documented JSON record:
//! `{path, genre, vote, probabilities: {label: p}, tags: {tag: p},
//! duration_seconds, truncated_at_seconds?, warnings: [{code, message}],
//! segments?: [{start, end, genre, probabilities}]}`.
//!
//! A verdict admits doubt: silence, near-silence and audio too short to
//! judge, a stream that ends before its header says, damaged packets, a
//! cut at the length limit, all appear in `warnings` ([`notes`]).

use std::path::Path;

use genreid_audio::{LoadOptions, Loaded, Signal, load_bytes, load_checked, segments};
use genreid_features::input::{InputKind, cut_segment, segment_starts};
use genreid_features::{fma518, gtzan57};
use serde::Serialize;

use crate::registry::Model;
use genreid_models::Cancel;
use genreid_models::neural;
use genreid_models::pretrained::{PATCH_FRAMES, Tagger, TrackAnalysis};
use genreid_models::{ModelError, ModelFile, Result};

mod blocks;
mod notes;
pub use blocks::{BLOCK_SECONDS, classify_classical_blocks, classify_network_blocks};
pub use notes::{AudioFacts, DOUBT_CODES, MIN_JUDGED_SECONDS, NEAR_SILENCE_DBFS, SILENCE_PEAK, notes};

/// How to classify a track.
#[derive(Debug, Clone)]
pub struct ClassifyOptions {
    /// Frames between a tagger's 3-s patches ([`crate::pretrained::patch_hop_frames`]).
    pub hop: usize,
    /// Report each segment's verdict (a timeline).
    pub segments: bool,
    /// Checked between blocks, patches and segments.
    pub cancel: Cancel,
    /// Longest audio analysed, in seconds; longer files are cut there, and
    /// the verdict says so (`truncated_at_seconds`).
    pub max_seconds: f64,
}

impl Default for ClassifyOptions {
    fn default() -> Self {
        Self {
            hop: PATCH_FRAMES,
            segments: false,
            cancel: Cancel::never(),
            max_seconds: LoadOptions::default().max_seconds,
        }
    }
}

/// Something about the audio that bears on how far the verdict can be trusted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictWarning {
    /// A stable name: `silence`, `near_silence`, `too_short` (the verdict is
    /// a guess: [`DOUBT_CODES`]), `truncated`, `damaged`, `cut`, `above_full_scale`.
    pub code: String,
    /// What was seen, in words.
    pub message: String,
}

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
    /// Seconds of audio analysed.
    pub duration_seconds: f64,
    /// Where the audio was cut at the length limit, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_at_seconds: Option<f64>,
    /// What bears on the verdict's trust (see [`VerdictWarning`]); empty for clean music.
    pub warnings: Vec<VerdictWarning>,
    /// Each segment's verdict, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<SegmentVerdict>>,
}

impl Verdict {
    /// Whether the audio gives no ground for a verdict (silence,
    /// near-silence, too short): the genre is the model's guess and is not
    /// to be written into a file's tags.
    pub fn doubtful(&self) -> bool {
        self.warnings.iter().any(|w| DOUBT_CODES.contains(&w.code.as_str()))
    }

    /// Adds what `facts` say about the audio.
    pub fn noted(mut self, facts: &AudioFacts) -> Self {
        self.duration_seconds = facts.duration_seconds;
        let (warnings, cut) = notes(facts);
        self.warnings.extend(warnings);
        self.truncated_at_seconds = self.truncated_at_seconds.or(cut);
        self
    }

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
) -> Result<Verdict> {
    if per_segment.iter().flatten().any(|p| !p.is_finite()) {
        return Err(ModelError::InvalidInput(format!(
            "{name}: the model produced non-finite probabilities (the audio is out of its range)"
        )));
    }
    if per_segment.is_empty() {
        return Err(ModelError::InvalidInput(format!("{name}: no segment to classify")));
    }
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
    Ok(Verdict {
        path: name.to_string(),
        genre: labels[argmax(&mean)].clone(),
        vote: labels[vote].clone(),
        probabilities: prob_map(labels, &mean),
        tags,
        duration_seconds: 0.0,
        truncated_at_seconds: None,
        warnings: Vec::new(),
        segments,
    })
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
pub fn classify_path(model: &Model, path: &Path, options: &ClassifyOptions) -> Result<Verdict> {
    let in_file = |e: ModelError| ModelError::about(path, e);
    let name = genreid_data::path_text(path);
    match model {
        // Taggers, classical models and most networks read the file in blocks
        // (`blocks`): memory stays flat however long it is.
        Model::Tagger(tagger) => {
            let analysis =
                tagger.analyse_file_with(path, options.hop, &options.cancel, options.max_seconds)?;
            return analysed_file_verdict(path, tagger, &analysis, options.segments);
        }
        Model::Classical(m) if m.preprocessing.segment_seconds > 0.0 => {
            return classify_classical_blocks(m, path, options, BLOCK_SECONDS).map_err(in_file);
        }
        // An MFCC picture's dB floor refers to the whole track's maximum.
        Model::Network(n) if n.manifest().input.kind != InputKind::Mfcc => {
            return classify_network_blocks(n, path, options, BLOCK_SECONDS).map_err(in_file);
        }
        _ => {}
    }
    let load = LoadOptions { max_seconds: options.max_seconds, ..load_options(model) };
    let loaded = load_checked(path, &load).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
    classify_loaded(model, &loaded, &name, options).map_err(in_file)
}

/// Classifies encoded audio bytes (an upload); `name` appears in errors.
pub fn classify_bytes(
    model: &Model,
    name: &str,
    bytes: Vec<u8>,
    options: &ClassifyOptions,
) -> Result<Verdict> {
    let load = LoadOptions { max_seconds: options.max_seconds, ..load_options(model) };
    let signal = load_bytes(name, bytes, &load).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
    classify_signal(model, &signal, name, options)
}

/// Classifies audio loaded with [`load_options`], with the loader's
/// warnings (truncation, damage, a cut at the limit) in the verdict.
pub fn classify_loaded(
    model: &Model,
    loaded: &Loaded,
    name: &str,
    options: &ClassifyOptions,
) -> Result<Verdict> {
    let facts = AudioFacts { warnings: loaded.warnings.clone(), ..AudioFacts::of(&loaded.signal) };
    Ok(classify_unnoted(model, &loaded.signal, name, options)?.noted(&facts))
}

/// Classifies a signal loaded with [`load_options`]. Tagger models use
/// 3-s patches `options.hop` frames apart; classical models whole segments
/// of their training length.
pub fn classify_signal(
    model: &Model,
    signal: &Signal,
    name: &str,
    options: &ClassifyOptions,
) -> Result<Verdict> {
    Ok(classify_unnoted(model, signal, name, options)?.noted(&AudioFacts::of(signal)))
}

/// Classifies samples at any rate (an array from Python, say): resampled
/// first to the rate [`load_options`] names for `model`, as loading a file
/// would.
pub fn classify_samples(
    model: &Model,
    signal: &Signal,
    name: &str,
    options: &ClassifyOptions,
) -> Result<Verdict> {
    match load_options(model).sample_rate {
        Some(rate) if rate != signal.sample_rate => {
            let resampled = genreid_audio::resample(signal, rate)
                .map_err(|e| ModelError::InvalidInput(format!("{name}: {e}")))?;
            classify_signal(model, &resampled, name, options)
        }
        _ => classify_signal(model, signal, name, options),
    }
}

/// The model's verdict alone, without what the audio says about it.
fn classify_unnoted(
    model: &Model,
    signal: &Signal,
    name: &str,
    options: &ClassifyOptions,
) -> Result<Verdict> {
    match model {
        Model::Classical(m) => classify_classical(signal, name, m, options),
        Model::Tagger(t) => classify_tagged(signal, name, t, options),
        Model::Network(n) => classify_network(signal, name, n, options),
        Model::Ensemble(members) => classify_ensemble(signal, name, members, options),
    }
}

/// Members' verdicts combined: weighted mean of their track probabilities
/// (`genre`) and weighted majority of their verdicts (`vote`, ties broken
/// by the combined probability). Per-segment timelines are not combined.
fn classify_ensemble(
    signal: &Signal,
    name: &str,
    members: &[(Model, f64)],
    options: &ClassifyOptions,
) -> Result<Verdict> {
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
        options.cancel.check()?;
        let member_options = ClassifyOptions { segments: false, ..options.clone() };
        let v = classify_unnoted(model, input, name, &member_options)?;
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
        duration_seconds: 0.0,
        truncated_at_seconds: None,
        warnings: Vec::new(),
        segments: None,
    })
}

/// A trained network: the whole track's picture, cut into segments of the
/// training length (a short track repeats to fill one), each classified.
pub(crate) fn classify_network(
    signal: &Signal,
    name: &str,
    network: &neural::Classifier,
    options: &ClassifyOptions,
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
    let mut per_segment = Vec::with_capacity(starts.len());
    let (mut batch, mut one) = (Vec::new(), Vec::new());
    for group in starts.chunks(SEGMENTS_PER_STEP) {
        options.cancel.check()?;
        batch.clear();
        for &s in group {
            cut_segment(&time_major, bins, s, frames, m.input.normalized(), &mut one);
            batch.extend_from_slice(&one);
        }
        per_segment.extend(network.predict(&batch, frames)?);
    }
    let spans = frame_spans(&starts, frames, &m.input, signal.duration_seconds());
    combine(name, &m.labels, &per_segment, &spans, Probabilities::new(), options.segments)
}

/// Segments a network classifies between two checks for cancellation.
const SEGMENTS_PER_STEP: usize = 32;

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
    options: &ClassifyOptions,
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
        .map(|&(start, end)| {
            options.cancel.check()?;
            segment_probabilities(model, &signal.samples[start..end], sr, name)
        })
        .collect::<Result<Vec<_>>>()?;
    let seconds: Vec<(f64, f64)> = spans.iter().map(|&(s, e)| (s as f64 / sr, e as f64 / sr)).collect();
    combine(name, &model.labels, &per_segment, &seconds, Probabilities::new(), options.segments)
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
    options: &ClassifyOptions,
) -> Result<Verdict> {
    let analysis = tagger.analyse_signal_with(signal, options.hop, &options.cancel)?;
    tagged_verdict(name, tagger, &analysis, options.segments)
}

/// The verdict of the file `path` from a tagger's analysis of it, with
/// what the analysis saw of the audio in its warnings.
pub(crate) fn analysed_file_verdict(
    path: &Path,
    tagger: &Tagger,
    analysis: &TrackAnalysis,
    with_segments: bool,
) -> Result<Verdict> {
    let facts = AudioFacts {
        duration_seconds: analysis.duration_seconds,
        level: analysis.level,
        warnings: analysis.warnings.clone(),
    };
    tagged_verdict(&genreid_data::path_text(path), tagger, analysis, with_segments)
        .map(|v| v.noted(&facts))
        .map_err(|e| ModelError::about(path, e))
}

/// The verdict of audio loaded with [`load_options`] from a tagger's
/// analysis of its signal, with the loader's warnings, as [`classify_loaded`] gives it.
pub(crate) fn analysed_loaded_verdict(
    loaded: &Loaded,
    name: &str,
    tagger: &Tagger,
    analysis: &TrackAnalysis,
    with_segments: bool,
) -> Result<Verdict> {
    let facts = AudioFacts { warnings: loaded.warnings.clone(), ..AudioFacts::of(&loaded.signal) };
    Ok(tagged_verdict(name, tagger, analysis, with_segments)?.noted(&facts))
}

/// A tagger's verdict from its per-patch outputs.
fn tagged_verdict(
    name: &str,
    tagger: &Tagger,
    analysis: &TrackAnalysis,
    with_segments: bool,
) -> Result<Verdict> {
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
