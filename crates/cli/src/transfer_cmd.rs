//! Transfer from a music model (issue 7): `genreid train --backbone
//! msd-musicnn --embedding penultimate --head logreg --dataset SPEC --split
//! SPEC`. The pretrained tagger turns each 3-s patch into an embedding
//! (cached like spectrograms), a classical head is fitted on the training
//! tracks' patches, and the test tracks are scored exactly as networks are
//! (patch level, track by mean probability and by majority vote), so both
//! sit in one table. The result is a tagger file with a genre head:
//! `classify --model` uses it directly.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use genreid_data::SplitSpec;
use genreid_data::cache::{default_dir, files_key};
use genreid_models::pretrained::TaggerFile;
use genreid_models::{BUILTIN_MODELS, ClassifierKind, Model, load_model};
use genreid_train::genre_head::{ClipPatches, clip_patches, fit_head, head_patch_probabilities};
use genreid_train::neural::{NetworkEvaluation, score_tracks};
use rayon::prelude::*;

use crate::network_cmd::open_dataset;
use crate::progress::Progress;
use crate::train_cmd::parse_params;

/// What a transfer run needs.
pub struct TransferJob<'a> {
    /// `--dataset`.
    pub dataset: &'a str,
    /// `--split`.
    pub split: &'a str,
    /// `--backbone`: a built-in tagger or a tagger file.
    pub backbone: &'a str,
    /// `--embedding`: comma-separated outputs (penultimate, mean_pool, max_pool, taggram).
    pub embedding: &'a str,
    /// `--head`: a classical family.
    pub head: &'a str,
    /// `--param NAME=VALUE` for the head.
    pub params: &'a [String],
    /// `--out`.
    pub out: &'a Path,
}

/// Embeddings of every track, from the cache when these files were embedded
/// with this backbone before; tracks that fail are reported and skipped.
fn embeddings(
    backbone: &str,
    tagger: &genreid_models::pretrained::Tagger,
    tracks: &[genreid_data::Track],
    inputs: &[String],
) -> Result<Vec<Option<ClipPatches>>> {
    let paths: Vec<&Path> = tracks.iter().map(|t| t.path.as_path()).collect();
    let key = files_key(&format!("genreid-embeddings-v1 {backbone} {inputs:?}"), &paths)?;
    let path = default_dir().join("embeddings").join(format!("{key}.json"));
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(cached) = serde_json::from_slice::<Vec<Option<ClipPatches>>>(&bytes)
        && cached.len() == tracks.len()
    {
        eprintln!("reused embeddings of {} tracks ({})", tracks.len(), path.display());
        return Ok(cached);
    }
    let progress = Progress::new(tracks.len(), "embed");
    let clips: Vec<Option<ClipPatches>> = tracks
        .par_iter()
        .map(|t| match clip_patches(tagger, &t.path, &t.label, inputs) {
            Ok(c) => {
                progress.ok();
                Some(c)
            }
            Err(e) => {
                progress.failed(&format!("{}: {e}", t.path.display()));
                None
            }
        })
        .collect();
    progress.finish();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, serde_json::to_vec(&clips)?).with_context(|| temp.display().to_string())?;
    std::fs::rename(&temp, &path).with_context(|| path.display().to_string())?;
    Ok(clips)
}

/// The backbone's file (built-in bytes or a file on disk).
fn backbone_file(spec: &str) -> Result<TaggerFile> {
    if let Some((_, _, bytes)) = BUILTIN_MODELS.iter().find(|(n, _, _)| *n == spec) {
        return Ok(TaggerFile::from_bytes(bytes)?);
    }
    TaggerFile::load(spec.as_ref()).with_context(|| format!("{spec}: not a pretrained tagger"))
}

/// Fits and scores a head on the backbone's embeddings; saves the model.
pub fn train_and_evaluate(job: &TransferJob<'_>) -> Result<NetworkEvaluation> {
    let tagger = match load_model(Some(job.backbone))? {
        Model::Tagger(t) => t,
        _ => bail!(
            "--backbone {}: needs a pretrained tagger (msd-musicnn, mtt-musicnn, msd-vgg, mtt-vgg)",
            job.backbone
        ),
    };
    let inputs: Vec<String> =
        job.embedding.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let kind: ClassifierKind = job.head.parse()?;
    let params = parse_params(job.params)?;
    let ds = open_dataset(job.dataset)?;
    let classes = ds.classes();
    let split = SplitSpec::parse(job.split)?;
    let mut folds = ds.folds(&split)?;
    if folds.len() > 1 {
        eprintln!("{split}: fitting on fold 1 of {}", folds.len());
    }
    let fold = folds.remove(0);
    let clips = embeddings(job.backbone, &tagger, &ds.tracks, &inputs)?;
    // Validation tracks, when the split has them, join the training side: a head has no epochs.
    let train: Vec<&ClipPatches> =
        fold.train.iter().chain(&fold.valid).filter_map(|&t| clips[t].as_ref()).collect();
    if train.is_empty() {
        bail!("no training tracks could be embedded");
    }
    let started = std::time::Instant::now();
    let mut head = fit_head(&train, &classes, &inputs, kind, &params).map_err(|e| anyhow!(e))?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let per_track: Vec<(usize, Vec<Vec<f64>>)> = fold
        .test
        .iter()
        .filter_map(|&t| clips[t].as_ref().map(|c| (classes.binary_search(&c.label).unwrap_or(0), c)))
        .map(|(truth, c)| (truth, head_patch_probabilities(&head, c)))
        .collect();
    let name = format!("{} {} + {}", job.backbone, job.embedding, job.head);
    // The head's own size (weights and biases of a linear head); the backbone is frozen.
    let parameters = (head.classifier.n_features() + 1) * classes.len();
    let mut evaluation = score_tracks(&classes, &per_track, &name, &split.to_string(), 3.0, parameters);
    evaluation.fit_seconds = fit_seconds;
    head.provenance = serde_json::json!({
        "trained_on": ds.spec.to_string(),
        "split": split.to_string(),
        "backbone": job.backbone,
        "embedding": inputs,
        "classifier": job.head,
        "params": params,
        "tracks": {"train": train.len(), "test": per_track.len()},
        "test": {
            "patch_accuracy": evaluation.accuracy,
            "track_accuracy_mean": evaluation.track_accuracy_mean,
            "track_accuracy_vote": evaluation.track_accuracy_vote,
        },
    });
    let mut file = backbone_file(job.backbone)?;
    file.manifest.genre_head = Some(head);
    file.save(job.out).with_context(|| format!("{}: cannot write the model", job.out.display()))?;
    Ok(evaluation)
}
