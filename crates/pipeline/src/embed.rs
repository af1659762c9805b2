//! Track embeddings: a tagger's per-patch outputs pooled over the track.
//! The default layer is musicnn's 200-wide penultimate layer, the one its
//! authors offer as the music embedding; `taggram` (tag probabilities),
//! `mean_pool` and `max_pool` (753 front/mid-end channels) are the others.

use std::path::Path;

use genreid_audio::{Signal, resample};
use genreid_models::pretrained::{Tagger, TrackAnalysis};
use genreid_models::{ModelError, Result};

use crate::registry::Model;
use crate::verdict::{ClassifyOptions, Verdict, analysed_file_verdict};

/// The layers an embedding can be taken from.
pub const EMBEDDING_LAYERS: [&str; 4] = ["penultimate", "taggram", "mean_pool", "max_pool"];

fn tagger(model: &Model) -> Result<&Tagger> {
    match model {
        Model::Tagger(t) => Ok(t),
        _ => Err(ModelError::InvalidInput(
            "embeddings come from a pretrained tagger (musicnn-gtzan, msd-musicnn, mtt-musicnn, msd-vgg, mtt-vgg)"
                .into(),
        )),
    }
}

/// The mean over patches of `layer`'s outputs for a track already analysed.
pub fn embed_analysis(analysis: &TrackAnalysis, layer: &str) -> Result<Vec<f32>> {
    let rows = analysis.outputs.named(layer).ok_or_else(|| {
        ModelError::InvalidInput(format!("no layer {layer:?}; layers: {}", EMBEDDING_LAYERS.join(", ")))
    })?;
    if rows.cols == 0 {
        return Err(ModelError::InvalidInput(format!(
            "this tagger has no {layer:?} layer (VGG taggers have only taggram)"
        )));
    }
    if rows.is_empty() {
        return Err(ModelError::InvalidInput("no patches: the audio is empty".into()));
    }
    let mut sum = vec![0f64; rows.cols];
    for i in 0..rows.len() {
        for (s, v) in sum.iter_mut().zip(rows.row(i)) {
            *s += f64::from(*v);
        }
    }
    let n = rows.len() as f64;
    Ok(sum.into_iter().map(|s| (s / n) as f32).collect())
}

/// The embedding of the file `path`, read block by block.
pub fn embed_path(model: &Model, path: &Path, layer: &str, options: &ClassifyOptions) -> Result<Vec<f32>> {
    let tagger = tagger(model)?;
    let analysis = tagger.analyse_file_with(path, options.hop, &options.cancel, options.max_seconds)?;
    embed_analysis(&analysis, layer).map_err(|e| ModelError::about(path, e))
}

/// A file's verdict and its embedding from one analysis (a batch run's
/// `--embedding`): the tagger runs once for both.
pub fn classify_and_embed_path(
    model: &Model,
    path: &Path,
    layer: &str,
    options: &ClassifyOptions,
) -> Result<(Verdict, Vec<f32>)> {
    let tagger = tagger(model)?;
    let analysis = tagger.analyse_file_with(path, options.hop, &options.cancel, options.max_seconds)?;
    let verdict = analysed_file_verdict(path, tagger, &analysis, options.segments)?;
    let embedding = embed_analysis(&analysis, layer).map_err(|e| ModelError::about(path, e))?;
    Ok((verdict, embedding))
}

/// The width of `layer`'s embedding for `model`, found by analysing one
/// patch of silence (a batch run fixes its schema before the first file).
pub fn embedding_width(model: &Model, layer: &str) -> Result<usize> {
    let tagger = tagger(model)?;
    let rate = tagger.manifest().input.sample_rate;
    let silence = Signal::new(vec![0.0; rate as usize * 3], rate);
    let analysis = tagger.analyse_signal_with(
        &silence,
        genreid_models::pretrained::PATCH_FRAMES,
        &genreid_models::Cancel::never(),
    )?;
    Ok(embed_analysis(&analysis, layer)?.len())
}

/// The embedding of a signal already in memory (resampled to the tagger's rate here).
pub fn embed_signal(
    model: &Model,
    signal: &Signal,
    layer: &str,
    options: &ClassifyOptions,
) -> Result<Vec<f32>> {
    let tagger = tagger(model)?;
    let rate = tagger.manifest().input.sample_rate;
    let resampled;
    let signal = if signal.sample_rate == rate {
        signal
    } else {
        resampled = resample(signal, rate).map_err(|e| ModelError::InvalidInput(e.to_string()))?;
        &resampled
    };
    let analysis = tagger.analyse_signal_with(signal, options.hop, &options.cancel)?;
    embed_analysis(&analysis, layer)
}
