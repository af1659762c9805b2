//! Genre heads on pretrained taggers: per-patch network outputs of labelled
//! clips, a classical classifier fitted on them, cross-validated with whole
//! clips (and, with `blocks`, runs of neighbouring clips, which in GTZAN
//! mostly share an artist) kept on one side, scored per track.

use std::path::Path;

use genreid_data::{SplitSpec, folds};
use genreid_models::classical::Params;
use genreid_models::pretrained::{GenreHead, Tagger};
use genreid_models::{Classifier, ClassifierKind, StandardScaler};
use serde::{Deserialize, Serialize};

use crate::classical::Result;
use crate::metrics::{Metrics, argmax};

/// One labelled clip's per-patch head inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipPatches {
    /// Clip name (file stem), which orders clips within a genre.
    pub name: String,
    /// Genre label.
    pub label: String,
    /// One input row per patch.
    pub patches: Vec<Vec<f64>>,
}

/// Runs the tagger on a labelled file and keeps the `inputs` outputs per patch.
pub fn clip_patches(tagger: &Tagger, path: &Path, label: &str, inputs: &[String]) -> Result<ClipPatches> {
    let analysis =
        tagger.analyse_file(path, genreid_models::pretrained::PATCH_FRAMES).map_err(|e| e.to_string())?;
    let patches = (0..analysis.outputs.taggram.len())
        .map(|i| analysis.outputs.features(inputs, i).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>>>()?;
    let name = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    Ok(ClipPatches { name, label: label.to_string(), patches })
}

/// How clips are split for cross-validation.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipSplit {
    /// Stratified k-fold over clips.
    KFold {
        /// Folds.
        k: usize,
        /// Shuffle seed.
        seed: u64,
    },
    /// Within each genre, clips sorted by name are cut into `k` contiguous
    /// blocks; fold `i` tests block `i` of every genre.
    Blocks {
        /// Folds.
        k: usize,
    },
}

impl ClipSplit {
    /// Parses `kfold:K[:SEED]` or `blocks:K`.
    pub fn parse(spec: &str) -> Result<Self> {
        let parts: Vec<&str> = spec.split(':').collect();
        let num = |s: &str| s.parse::<u64>().map_err(|_| format!("bad number {s:?} in split {spec:?}"));
        match parts.as_slice() {
            ["kfold", k] => Ok(Self::KFold { k: num(k)? as usize, seed: 0 }),
            ["kfold", k, seed] => Ok(Self::KFold { k: num(k)? as usize, seed: num(seed)? }),
            ["blocks", k] => Ok(Self::Blocks { k: num(k)? as usize }),
            _ => Err(format!("unknown clip split {spec:?}: use kfold:K[:SEED] or blocks:K")),
        }
    }

    /// Test clip indices of each fold.
    pub fn test_folds(&self, clips: &[ClipPatches]) -> Result<Vec<Vec<usize>>> {
        match *self {
            Self::KFold { k, seed } => {
                let labels: Vec<String> = clips.iter().map(|c| c.label.clone()).collect();
                let names: Vec<String> = clips.iter().map(|c| c.name.clone()).collect();
                let spec = SplitSpec::KFold { k, seed };
                Ok(folds(&spec, &labels, &names)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|f| f.test)
                    .collect())
            }
            Self::Blocks { k } => {
                if k < 2 {
                    return Err("blocks needs at least 2 folds".into());
                }
                let mut genres: Vec<&str> = clips.iter().map(|c| c.label.as_str()).collect();
                genres.sort_unstable();
                genres.dedup();
                let mut out = vec![Vec::new(); k];
                for g in genres {
                    let mut members: Vec<usize> = (0..clips.len()).filter(|&i| clips[i].label == g).collect();
                    members.sort_by(|&a, &b| clips[a].name.cmp(&clips[b].name));
                    if members.len() < k {
                        return Err(format!("genre {g} has {} clips, fewer than {k} blocks", members.len()));
                    }
                    for (j, &clip) in members.iter().enumerate() {
                        out[j * k / members.len()].push(clip);
                    }
                }
                Ok(out)
            }
        }
    }

    /// How the split is described in reports.
    pub fn describe(&self) -> String {
        match self {
            Self::KFold { k, seed } => format!("stratified {k}-fold over clips (seed {seed})"),
            Self::Blocks { k } => {
                format!(
                    "{k} contiguous blocks of clips per genre (neighbouring GTZAN clips mostly share an artist)"
                )
            }
        }
    }
}

/// Cross-validated scores of a head.
#[derive(Debug, Clone, Serialize)]
pub struct HeadEvaluation {
    /// The split, described.
    pub split: String,
    /// Track verdicts by mean patch probability, pooled over the test folds.
    pub track: Metrics,
    /// Accuracy of track verdicts by majority vote of patch verdicts.
    pub vote_accuracy: f64,
    /// Accuracy of single patches.
    pub patch_accuracy: f64,
}

/// Fits a head on `clips` (all patches of each).
pub fn fit_head(
    clips: &[&ClipPatches],
    classes: &[String],
    inputs: &[String],
    kind: ClassifierKind,
    params: &Params,
) -> Result<GenreHead> {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for clip in clips {
        let class = classes.iter().position(|c| *c == clip.label).ok_or("label outside the classes")?;
        for p in &clip.patches {
            x.push(p.clone());
            y.push(class);
        }
    }
    let scaler = StandardScaler::fit(&x);
    let xs: Vec<Vec<f64>> = x.iter().map(|r| scaler.transform(r)).collect();
    let classifier = Classifier::fit(kind, &xs, &y, classes.len(), params).map_err(|e| e.to_string())?;
    Ok(GenreHead {
        labels: classes.to_vec(),
        inputs: inputs.to_vec(),
        scaler,
        classifier,
        provenance: serde_json::Value::Null,
    })
}

/// Per-patch genre probabilities of a head on one clip.
pub fn head_patch_probabilities(head: &GenreHead, clip: &ClipPatches) -> Vec<Vec<f64>> {
    clip.patches.iter().map(|p| head.classifier.predict_proba(&head.scaler.transform(p))).collect()
}

/// Cross-validates a head: fit on the training clips of each fold, predict
/// the test clips, pool the predictions.
pub fn cross_validate(
    clips: &[ClipPatches],
    split: &ClipSplit,
    inputs: &[String],
    kind: ClassifierKind,
    params: &Params,
) -> Result<HeadEvaluation> {
    let mut classes: Vec<String> = clips.iter().map(|c| c.label.clone()).collect();
    classes.sort();
    classes.dedup();
    let mut truth = Vec::new();
    let mut track_probs = Vec::new();
    let (mut vote_hits, mut patch_hits, mut patches) = (0usize, 0usize, 0usize);
    for test in split.test_folds(clips)? {
        let train: Vec<&ClipPatches> =
            (0..clips.len()).filter(|i| !test.contains(i)).map(|i| &clips[i]).collect();
        let head = fit_head(&train, &classes, inputs, kind, params)?;
        for &i in &test {
            let class = classes.iter().position(|c| *c == clips[i].label).unwrap_or(0);
            let probs = head_patch_probabilities(&head, &clips[i]);
            let mean: Vec<f64> = (0..classes.len())
                .map(|c| probs.iter().map(|p| p[c]).sum::<f64>() / probs.len() as f64)
                .collect();
            let mut votes = vec![0usize; classes.len()];
            for p in &probs {
                votes[argmax(p)] += 1;
                patch_hits += usize::from(argmax(p) == class);
            }
            patches += probs.len();
            let vote = votes.iter().enumerate().fold(0, |b, (c, &v)| if v > votes[b] { c } else { b });
            vote_hits += usize::from(vote == class);
            truth.push(class);
            track_probs.push(mean);
        }
    }
    let tracks = truth.len().max(1) as f64;
    Ok(HeadEvaluation {
        split: split.describe(),
        track: Metrics::compute(&classes, &truth, &track_probs),
        vote_accuracy: vote_hits as f64 / tracks,
        patch_accuracy: patch_hits as f64 / patches.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(name: &str, label: &str, centre: f64) -> ClipPatches {
        let patches = (0..4).map(|i| vec![centre + 0.1 * f64::from(i), -centre]).collect();
        ClipPatches { name: name.into(), label: label.into(), patches }
    }

    #[test]
    fn blocks_keep_neighbouring_clips_together_and_cover_every_genre() {
        let clips: Vec<ClipPatches> = (0..6)
            .flat_map(|i| [clip(&format!("a.{i:05}"), "a", 1.0), clip(&format!("b.{i:05}"), "b", -1.0)])
            .collect();
        let folds = ClipSplit::Blocks { k: 2 }.test_folds(&clips).unwrap();
        assert_eq!(folds.len(), 2);
        for fold in &folds {
            let names: Vec<&str> = fold.iter().map(|&i| clips[i].name.as_str()).collect();
            assert_eq!(names.iter().filter(|n| n.starts_with('a')).count(), 3);
            assert!(names.contains(&"a.00000") != names.contains(&"a.00005"));
        }
        let eval =
            cross_validate(&clips, &ClipSplit::Blocks { k: 2 }, &[], ClassifierKind::Logreg, &Params::new())
                .unwrap();
        assert_eq!(eval.track.accuracy, 1.0);
        assert_eq!(eval.vote_accuracy, 1.0);
        assert!(ClipSplit::parse("blocks:1").unwrap().test_folds(&clips).is_err());
        assert_eq!(ClipSplit::parse("kfold:3:7").unwrap(), ClipSplit::KFold { k: 3, seed: 7 });
    }
}
