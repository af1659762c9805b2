//! Track embeddings: a tagger's per-patch outputs pooled over the track.
//! The default layer is musicnn's 200-wide penultimate layer, the one its
//! authors offer as the music embedding; `taggram` (tag probabilities),
//! `mean_pool` and `max_pool` (753 front/mid-end channels) are the others.
//! An [`EmbeddingSpec`] names the layer, the pooling over patches and
//! whether the vector is L2-normalised; a library index records its spec so
//! queries are embedded the same way.

use std::path::Path;

use genreid_audio::{Loaded, Signal, resample};
use genreid_models::pretrained::{Tagger, TrackAnalysis};
use genreid_models::{ModelError, Result};

use crate::registry::Model;
use crate::verdict::{ClassifyOptions, Verdict, analysed_file_verdict, analysed_loaded_verdict};

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

/// How a layer's per-patch outputs become one vector for the track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over patches.
    Mean,
    /// The mean, then the standard deviation, over patches (twice as wide).
    MeanStd,
}

impl Pooling {
    /// The pooling's name (`mean`, `mean+std`).
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::MeanStd => "mean+std",
        }
    }

    /// The pooling named `name`.
    pub fn named(name: &str) -> Result<Self> {
        match name {
            "mean" => Ok(Pooling::Mean),
            "mean+std" | "meanstd" => Ok(Pooling::MeanStd),
            _ => Err(ModelError::InvalidInput(format!("no pooling {name:?}; poolings: mean, mean+std"))),
        }
    }
}

/// Which embedding a track gets: a layer, a pooling over its patches, and
/// whether the result is scaled to unit length (cosine = dot product).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingSpec {
    /// The tagger layer ([`EMBEDDING_LAYERS`]).
    pub layer: String,
    /// How patches are pooled.
    pub pooling: Pooling,
    /// Whether the vector is L2-normalised.
    pub normalise: bool,
}

impl EmbeddingSpec {
    /// The spec of `classify --embedding LAYER`: the patch mean, as it is.
    pub fn mean_of(layer: &str) -> Self {
        Self { layer: layer.to_string(), pooling: Pooling::Mean, normalise: false }
    }

    /// The spec of a similarity library (`genreid embed`): the penultimate
    /// layer's mean over patches, L2-normalised. Chosen by same-genre
    /// precision@5 across artists on the GTZAN clips: as good as mean+std
    /// (0.716 against 0.714) at half the width, ahead of the taggram and the
    /// pooled front-end channels (BENCHMARKS.md).
    pub fn library() -> Self {
        Self { layer: "penultimate".into(), pooling: Pooling::Mean, normalise: true }
    }

    /// The spec of `layer` pooled by `pooling` (by name), checked as [`EmbeddingSpec::parse`] checks.
    pub fn named(layer: &str, pooling: &str, normalise: bool) -> Result<Self> {
        let l2 = if normalise { "/l2" } else { "" };
        Self::parse(&format!("{layer}/{}{l2}", Pooling::named(pooling)?.name()))
    }

    /// The spec written `layer/pooling[/l2]` (as [`EmbeddingSpec::label`] writes it).
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = text.split('/');
        let layer = parts.next().unwrap_or_default();
        if !EMBEDDING_LAYERS.contains(&layer) {
            return Err(ModelError::InvalidInput(format!(
                "no layer {layer:?} in embedding {text:?}; layers: {}",
                EMBEDDING_LAYERS.join(", ")
            )));
        }
        let pooling = Pooling::named(parts.next().unwrap_or("mean"))?;
        let normalise = match parts.next() {
            None => false,
            Some("l2") => true,
            Some(other) => {
                return Err(ModelError::InvalidInput(format!(
                    "embedding {text:?}: unknown option {other:?}"
                )));
            }
        };
        Ok(Self { layer: layer.to_string(), pooling, normalise })
    }

    /// `layer/pooling[/l2]`, as recorded in a batch file's metadata.
    pub fn label(&self) -> String {
        let l2 = if self.normalise { "/l2" } else { "" };
        format!("{}/{}{l2}", self.layer, self.pooling.name())
    }

    /// This spec's vector for a track already analysed.
    pub fn embed(&self, analysis: &TrackAnalysis) -> Result<Vec<f32>> {
        let rows = layer_rows(analysis, &self.layer)?;
        let mut vector = pool(rows, self.pooling);
        if self.normalise {
            l2_normalise(&mut vector);
        }
        Ok(vector)
    }
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn l2_normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        vector.iter_mut().for_each(|v| *v = (f64::from(*v) / norm) as f32);
    }
}

fn pool(rows: &genreid_models::pretrained::Rows, pooling: Pooling) -> Vec<f32> {
    let n = rows.len() as f64;
    let mut sum = vec![0f64; rows.cols];
    for i in 0..rows.len() {
        for (s, v) in sum.iter_mut().zip(rows.row(i)) {
            *s += f64::from(*v);
        }
    }
    let mean: Vec<f64> = sum.into_iter().map(|s| s / n).collect();
    let mut out: Vec<f32> = mean.iter().map(|m| *m as f32).collect();
    if pooling == Pooling::MeanStd {
        let mut square = vec![0f64; rows.cols];
        for i in 0..rows.len() {
            for ((s, v), m) in square.iter_mut().zip(rows.row(i)).zip(&mean) {
                *s += (f64::from(*v) - m).powi(2);
            }
        }
        out.extend(square.into_iter().map(|s| (s / n).sqrt() as f32));
    }
    out
}

fn layer_rows<'a>(analysis: &'a TrackAnalysis, layer: &str) -> Result<&'a genreid_models::pretrained::Rows> {
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
    Ok(rows)
}

/// The mean over patches of `layer`'s outputs for a track already analysed.
pub fn embed_analysis(analysis: &TrackAnalysis, layer: &str) -> Result<Vec<f32>> {
    EmbeddingSpec::mean_of(layer).embed(analysis)
}

/// The embedding of the file `path`, read block by block.
pub fn embed_path(
    model: &Model,
    path: &Path,
    spec: &EmbeddingSpec,
    options: &ClassifyOptions,
) -> Result<Vec<f32>> {
    let tagger = tagger(model)?;
    let analysis = tagger.analyse_file_with(path, options.hop, &options.cancel, options.max_seconds)?;
    spec.embed(&analysis).map_err(|e| ModelError::about(path, e))
}

/// A file's verdict and its embedding from one analysis (a batch run's
/// `--embedding`): the tagger runs once for both.
pub fn classify_and_embed_path(
    model: &Model,
    path: &Path,
    spec: &EmbeddingSpec,
    options: &ClassifyOptions,
) -> Result<(Verdict, Vec<f32>)> {
    let tagger = tagger(model)?;
    let analysis = tagger.analyse_file_with(path, options.hop, &options.cancel, options.max_seconds)?;
    let verdict = analysed_file_verdict(path, tagger, &analysis, options.segments)?;
    let embedding = spec.embed(&analysis).map_err(|e| ModelError::about(path, e))?;
    Ok((verdict, embedding))
}

/// The verdict and embedding of audio loaded with
/// [`load_options`](crate::verdict::load_options) (an upload), from one analysis.
pub fn classify_and_embed_loaded(
    model: &Model,
    loaded: &Loaded,
    name: &str,
    spec: &EmbeddingSpec,
    options: &ClassifyOptions,
) -> Result<(Verdict, Vec<f32>)> {
    let tagger = tagger(model)?;
    let analysis = tagger.analyse_signal_with(&loaded.signal, options.hop, &options.cancel)?;
    let verdict = analysed_loaded_verdict(loaded, name, tagger, &analysis, options.segments)?;
    Ok((verdict, spec.embed(&analysis)?))
}

/// The width of `spec`'s embedding for `model`, found by analysing one
/// patch of silence (a batch run fixes its schema before the first file).
pub fn embedding_width(model: &Model, spec: &EmbeddingSpec) -> Result<usize> {
    let tagger = tagger(model)?;
    let rate = tagger.manifest().input.sample_rate;
    let silence = Signal::new(vec![0.0; rate as usize * 3], rate);
    let analysis = tagger.analyse_signal_with(
        &silence,
        genreid_models::pretrained::PATCH_FRAMES,
        &genreid_models::Cancel::never(),
    )?;
    Ok(spec.embed(&analysis)?.len())
}

/// The embedding of a signal already in memory (resampled to the tagger's rate here).
pub fn embed_signal(
    model: &Model,
    signal: &Signal,
    spec: &EmbeddingSpec,
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
    spec.embed(&analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_read_back_as_written_and_bad_ones_name_the_problem() {
        for text in ["penultimate/mean/l2", "taggram/mean+std", "max_pool/mean"] {
            assert_eq!(EmbeddingSpec::parse(text).unwrap().label(), text);
        }
        assert_eq!(EmbeddingSpec::parse("penultimate").unwrap(), EmbeddingSpec::mean_of("penultimate"));
        assert_eq!(EmbeddingSpec::library().label(), "penultimate/mean/l2");
        assert!(EmbeddingSpec::parse("nope/mean").unwrap_err().to_string().contains("no layer"));
        assert!(EmbeddingSpec::parse("penultimate/median").unwrap_err().to_string().contains("no pooling"));
        assert!(
            EmbeddingSpec::parse("penultimate/mean/l1").unwrap_err().to_string().contains("unknown option")
        );
    }

    #[test]
    fn unit_length_after_normalising_and_zero_stays_zero() {
        let mut v = vec![3.0, 4.0];
        l2_normalise(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-7 && (v[1] - 0.8).abs() < 1e-7);
        let mut zero = vec![0.0; 3];
        l2_normalise(&mut zero);
        assert_eq!(zero, vec![0.0; 3]);
    }

    #[test]
    fn mean_and_std_pool_over_patches() {
        let rows = genreid_models::pretrained::Rows { cols: 2, values: vec![1.0, 2.0, 3.0, 6.0] };
        assert_eq!(pool(&rows, Pooling::Mean), vec![2.0, 4.0]);
        assert_eq!(pool(&rows, Pooling::MeanStd), vec![2.0, 4.0, 1.0, 2.0]);
    }
}
