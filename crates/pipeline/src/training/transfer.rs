//! Transfer from a music model: a pretrained tagger turns each 3-s patch
//! into an embedding (cached like spectrograms), a classical head is fitted
//! on the training tracks' patches, and the test tracks are scored exactly
//! as networks are (patch level, track by mean probability and by majority
//! vote), so both sit in one table. The result is a tagger file with a
//! genre head, usable as any model.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use genreid_data::cache::{default_dir, files_key};
use genreid_data::{SplitSpec, Track};
use genreid_models::classical::Params;
use genreid_models::pretrained::{Tagger, TaggerFile};
use genreid_models::{BUILTIN_MODELS, ClassifierKind};
use genreid_train::genre_head::{ClipPatches, clip_patches, fit_head, head_patch_probabilities};
use genreid_train::neural::{NetworkEvaluation, score_tracks};
use rayon::prelude::*;

use super::{Event, Observer, first_fold, open_dataset};
use crate::error::{PipelineError, Result};
use crate::registry::{Model, load_model};

/// One transfer run.
#[derive(Debug, Clone)]
pub struct TransferJob {
    /// Dataset spec.
    pub dataset: String,
    /// Split spec (the first fold is used).
    pub split: String,
    /// A built-in tagger or a tagger file.
    pub backbone: String,
    /// The tagger outputs a patch's embedding concatenates (penultimate, mean_pool, max_pool, taggram).
    pub embedding: Vec<String>,
    /// The head's family.
    pub head: ClassifierKind,
    /// The head family's name as given (for names and provenance).
    pub head_name: String,
    /// The head's parameters.
    pub params: Params,
    /// Where the tagger file with its new head goes.
    pub out: PathBuf,
}

/// Embeddings of every track, from the cache when these files were embedded
/// with this backbone before; tracks that fail are reported and skipped.
fn embeddings(
    backbone: &str,
    tagger: &Tagger,
    tracks: &[Track],
    inputs: &[String],
    on: Observer<'_>,
) -> Result<Vec<Option<ClipPatches>>> {
    let paths: Vec<&Path> = tracks.iter().map(|t| t.path.as_path()).collect();
    let key = files_key(&format!("genreid-embeddings-v1 {backbone} {inputs:?}"), &paths)?;
    let path = default_dir().join("embeddings").join(format!("{key}.json"));
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(cached) = serde_json::from_slice::<Vec<Option<ClipPatches>>>(&bytes)
        && cached.len() == tracks.len()
    {
        on(Event::Note(&format!("reused embeddings of {} tracks ({})", tracks.len(), path.display())));
        return Ok(cached);
    }
    on(Event::PassStarted { what: "embed", total: tracks.len() });
    let done = AtomicUsize::new(0);
    let clips: Vec<Option<ClipPatches>> = tracks
        .par_iter()
        .map(|t| {
            let clip = match clip_patches(tagger, &t.path, &t.label, inputs) {
                Ok(c) => Some(c),
                Err(e) => {
                    on(Event::PassFailed(&format!("{}: {e}", t.path.display())));
                    None
                }
            };
            on(Event::PassProgress { done: done.fetch_add(1, Ordering::Relaxed) + 1 });
            clip
        })
        .collect();
    on(Event::PassFinished);
    let write =
        |p: &Path, e: std::io::Error| PipelineError::Write { path: p.to_path_buf(), reason: e.to_string() };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| write(dir, e))?;
    }
    let bytes = serde_json::to_vec(&clips).map_err(|e| PipelineError::Invalid(e.to_string()))?;
    genreid_core::write_bytes_atomic(&path, &bytes).map_err(|e| write(&path, e))?;
    Ok(clips)
}

/// The backbone's file (built-in bytes or a file on disk).
fn backbone_file(spec: &str) -> Result<TaggerFile> {
    if let Some((_, _, bytes)) = BUILTIN_MODELS.iter().find(|(n, _, _)| *n == spec) {
        return Ok(TaggerFile::from_bytes(bytes)?);
    }
    TaggerFile::load(spec.as_ref())
        .map_err(|e| PipelineError::Invalid(format!("{spec}: not a pretrained tagger: {e}")))
}

/// Fits and scores a head on the backbone's embeddings; saves the model.
pub fn train_and_evaluate(job: &TransferJob, on: Observer<'_>) -> Result<NetworkEvaluation> {
    let tagger = match load_model(Some(&job.backbone))? {
        Model::Tagger(t) => t,
        _ => {
            return Err(PipelineError::Invalid(format!(
                "--backbone {}: needs a pretrained tagger (msd-musicnn, mtt-musicnn, msd-vgg, mtt-vgg)",
                job.backbone
            )));
        }
    };
    let inputs = &job.embedding;
    let ds = open_dataset(&job.dataset, on)?;
    let classes = ds.classes();
    let split = SplitSpec::parse(&job.split)?;
    let fold = first_fold(&ds, &split, on)?;
    let clips = embeddings(&job.backbone, &tagger, &ds.tracks, inputs, on)?;
    // Validation tracks, when the split has them, join the training side: a head has no epochs.
    let train: Vec<&ClipPatches> =
        fold.train.iter().chain(&fold.valid).filter_map(|&t| clips[t].as_ref()).collect();
    if train.is_empty() {
        return Err(PipelineError::Invalid("no training tracks could be embedded".into()));
    }
    let started = std::time::Instant::now();
    let mut head = fit_head(&train, &classes, inputs, job.head, &job.params)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let per_track: Vec<(usize, Vec<Vec<f64>>)> = fold
        .test
        .iter()
        .filter_map(|&t| clips[t].as_ref().map(|c| (classes.binary_search(&c.label).unwrap_or(0), c)))
        .map(|(truth, c)| (truth, head_patch_probabilities(&head, c)))
        .collect();
    let name = format!("{} {} + {}", job.backbone, inputs.join(","), job.head_name);
    // The head's own size (weights and biases of a linear head); the backbone is frozen.
    let parameters = (head.classifier.n_features() + 1) * classes.len();
    let mut evaluation = score_tracks(&classes, &per_track, &name, &split.to_string(), 3.0, parameters);
    evaluation.fit_seconds = fit_seconds;
    head.provenance = serde_json::json!({
        "trained_on": ds.spec.to_string(),
        "split": split.to_string(),
        "backbone": job.backbone,
        "embedding": inputs,
        "classifier": job.head_name,
        "params": job.params,
        "tracks": {"train": train.len(), "test": per_track.len()},
        "test": {
            "patch_accuracy": evaluation.accuracy,
            "track_accuracy_mean": evaluation.track_accuracy_mean,
            "track_accuracy_vote": evaluation.track_accuracy_vote,
        },
    });
    let mut file = backbone_file(&job.backbone)?;
    file.manifest.genre_head = Some(head);
    file.save(&job.out).map_err(|e| PipelineError::Write {
        path: job.out.clone(),
        reason: format!("cannot write the model: {e}"),
    })?;
    Ok(evaluation)
}
