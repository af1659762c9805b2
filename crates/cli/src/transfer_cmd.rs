//! Transfer from a music model: `genreid train --backbone msd-musicnn
//! --embedding penultimate --head logreg --dataset SPEC --split SPEC`, the
//! arguments turned into a `genreid_pipeline::training::transfer` job (a
//! classical head on a tagger's patch embeddings, scored as networks are,
//! saved as a tagger file with a genre head).

use std::path::Path;

use anyhow::Result;
use genreid_models::ClassifierKind;
use genreid_pipeline::training::transfer;
use genreid_train::neural::NetworkEvaluation;

use crate::params::parse_params;
use crate::progress::Reporter;

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

/// Fits and scores a head on the backbone's embeddings; saves the model.
pub fn train_and_evaluate(job: &TransferJob<'_>) -> Result<NetworkEvaluation> {
    let job = transfer::TransferJob {
        dataset: job.dataset.to_string(),
        split: job.split.to_string(),
        backbone: job.backbone.to_string(),
        embedding: job.embedding.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        head: job.head.parse::<ClassifierKind>()?,
        head_name: job.head.to_string(),
        params: parse_params(job.params)?,
        out: job.out.to_path_buf(),
    };
    let reporter = Reporter::default();
    Ok(transfer::train_and_evaluate(&job, &|e| reporter.event(e))?)
}
