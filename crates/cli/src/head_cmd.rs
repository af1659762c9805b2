//! `genreid train-head`: fits a genre head on a pretrained tagger's per-patch
//! outputs for a folder-per-genre dataset, cross-validates it honestly and
//! writes the tagger with its head as one model file.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use genreid_models::ClassifierKind;
use genreid_models::pretrained::TaggerFile;
use genreid_train::genre_head::{
    ClipPatches, ClipSplit, HeadEvaluation, clip_patches, cross_validate, fit_head,
};
use rayon::prelude::*;

use crate::params::parse_params;
use crate::progress::Progress;
use genreid_data::{audio_files, parent_name};
use genreid_models::BUILTIN_MODELS;
use genreid_pipeline::{Model, load_model};

/// Arguments of `genreid train-head`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder with one sub-folder of audio per genre (GTZAN's layout).
    #[arg(long)]
    data: PathBuf,
    /// The tagger to put the head on: a built-in name or a tagger file.
    #[arg(long, default_value = "msd-musicnn")]
    base: String,
    /// Network outputs the head reads, comma-separated
    /// (penultimate, taggram, mean_pool, max_pool).
    #[arg(long, default_value = "penultimate", value_delimiter = ',')]
    inputs: Vec<String>,
    /// Classifier of the head.
    #[arg(long, default_value = "logreg")]
    model: String,
    /// Classifier parameters, `name=value`.
    #[arg(long = "param")]
    params: Vec<String>,
    /// Cross-validation splits to report, comma-separated (`blocks:K`, `kfold:K[:SEED]`).
    #[arg(long, default_value = "blocks:2,kfold:10", value_delimiter = ',')]
    cv: Vec<String>,
    /// The model file to write (tagger + head).
    #[arg(long)]
    out: PathBuf,
    /// Folder for the cross-validation report.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let kind: ClassifierKind = args.model.parse()?;
    let params = parse_params(&args.params)?;
    let splits =
        args.cv.iter().map(|s| ClipSplit::parse(s).map_err(|e| anyhow!(e))).collect::<Result<Vec<_>>>()?;
    let tagger = match load_model(Some(&args.base))? {
        Model::Tagger(t) => t,
        Model::Classical(_) | Model::Network(_) | Model::Ensemble(_) => {
            bail!("{}: a genre head needs a pretrained tagger as its base", args.base)
        }
    };
    let files = audio_files(std::slice::from_ref(&args.data))?;
    let progress = Progress::new(files.len(), "analyse");
    let clips: Vec<ClipPatches> = files
        .par_iter()
        .filter_map(|f| match clip_patches(&tagger, f, &parent_name(f), &args.inputs) {
            Ok(c) => {
                progress.ok();
                Some(c)
            }
            Err(e) => {
                progress.failed(&e);
                None
            }
        })
        .collect();
    progress.finish();
    let mut classes: Vec<String> = clips.iter().map(|c| c.label.clone()).collect();
    classes.sort();
    classes.dedup();
    if classes.len() < 2 {
        bail!("{}: need at least two genre folders with audio", args.data.display());
    }
    let mut evaluations = Vec::new();
    for split in &splits {
        let eval = cross_validate(&clips, split, &args.inputs, kind, &params).map_err(|e| anyhow!(e))?;
        eprintln!(
            "{}: track accuracy {:.3} (majority vote {:.3}, single patches {:.3}), macro F1 {:.3}",
            eval.split, eval.track.accuracy, eval.vote_accuracy, eval.patch_accuracy, eval.track.macro_f1
        );
        evaluations.push(eval);
    }
    let all: Vec<&ClipPatches> = clips.iter().collect();
    let mut head = fit_head(&all, &classes, &args.inputs, kind, &params).map_err(|e| anyhow!(e))?;
    let base_name = tagger.manifest().name.clone();
    head.provenance = serde_json::json!({
        "trained_on": args.data.display().to_string(),
        "clips": clips.len(),
        "patches": clips.iter().map(|c| c.patches.len()).sum::<usize>(),
        "base": base_name,
        "classifier": args.model,
        "params": params,
        "cross_validation": evaluations.iter().map(|e| serde_json::json!({
            "split": e.split, "track_accuracy": e.track.accuracy, "vote_accuracy": e.vote_accuracy,
            "patch_accuracy": e.patch_accuracy, "macro_f1": e.track.macro_f1,
        })).collect::<Vec<_>>(),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
    });
    let mut file = base_file(&args.base)?;
    file.manifest.genre_head = Some(head);
    file.save(&args.out)?;
    eprintln!("wrote {}", args.out.display());
    if let Some(dir) = &args.report {
        write_head_report(dir, &base_name, &evaluations)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The base tagger's file (built-in bytes or a file on disk).
fn base_file(spec: &str) -> Result<TaggerFile> {
    if let Some((_, _, bytes)) = BUILTIN_MODELS.iter().find(|(n, _, _)| *n == spec) {
        return Ok(TaggerFile::from_bytes(bytes)?);
    }
    Ok(TaggerFile::load(spec.as_ref())?)
}

fn write_head_report(dir: &std::path::Path, base: &str, evaluations: &[HeadEvaluation]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    std::fs::write(dir.join("head_cv.json"), serde_json::to_string_pretty(evaluations)?)?;
    let mut md = format!("# Genre head on {base}: cross-validation\n\n");
    md.push_str("| split | track accuracy | majority vote | single patches | macro F1 | ROC-AUC |\n|---|---:|---:|---:|---:|---:|\n");
    for e in evaluations {
        let auc = e.track.roc_auc_ovr.map_or("n/a".into(), |a| format!("{a:.3}"));
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {auc} |",
            e.split, e.track.accuracy, e.vote_accuracy, e.patch_accuracy, e.track.macro_f1
        );
    }
    for (i, e) in evaluations.iter().enumerate() {
        let labels: Vec<String> = e.track.per_class.iter().map(|c| c.label.clone()).collect();
        let _ = writeln!(md, "\n## {}", e.split);
        md.push_str(&genreid_train::report::confusion_markdown(&labels, &e.track.confusion));
        for ext in ["png", "svg"] {
            let path = dir.join(format!("confusion_cv{i}.{ext}"));
            genreid_plot::confusion_matrix(&labels, &e.track.confusion, &e.split, &path)
                .map_err(|err| anyhow!("{}: {err}", path.display()))?;
        }
        let _ = writeln!(md, "\n![confusion matrix](confusion_cv{i}.png)");
    }
    std::fs::write(dir.join("report.md"), md)?;
    Ok(())
}
