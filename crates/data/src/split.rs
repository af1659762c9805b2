//! Train/test splits that keep evaluation honest: stratified by class,
//! seeded, and able to follow published file lists (for GTZAN, the
//! artist-disjoint "fault-filtered" split of Kereliuk, Sturm and Larsen).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{DataError, Result};
use genreid_core::SplitMix64;

/// How to split a table, parsed from the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitSpec {
    /// `holdout:FRACTION[:SEED]`: one stratified split, FRACTION held out for test.
    Holdout {
        /// Fraction of each class held out (0 < f < 1).
        test_fraction: f64,
        /// Shuffle seed.
        seed: u64,
    },
    /// `kfold:K[:SEED]`: stratified K-fold cross-validation.
    KFold {
        /// Number of folds (>= 2).
        k: usize,
        /// Shuffle seed.
        seed: u64,
    },
    /// `lists:DIR`: `train*.txt`, `valid*.txt`, `test*.txt` file lists in DIR,
    /// one path per line, matched to rows by file name (extension ignored).
    Lists(PathBuf),
    /// `official`: the dataset's own published split (FMA's `set/split`,
    /// a manifest's `split` column, MagnaTagATune's lists).
    Official,
    /// `artist[:K[:SEED]]`: K-fold cross-validation in which all rows of one
    /// artist (the table's `artist` column) fall in the same fold.
    Artist {
        /// Number of folds (>= 2; 5 when not given).
        k: usize,
        /// Shuffle seed.
        seed: u64,
    },
}

impl SplitSpec {
    /// Parses `holdout:0.2`, `kfold:10`, `lists:DIR` (seed defaults to 0).
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = |reason: &str| DataError::Split { spec: spec.into(), reason: reason.into() };
        if spec == "official" {
            return Ok(Self::Official);
        }
        if spec == "artist" {
            return Ok(Self::Artist { k: 5, seed: 0 });
        }
        let (kind, rest) = spec
            .split_once(':')
            .ok_or_else(|| bad("expected holdout:F, kfold:K, lists:DIR or artist[:K]"))?;
        let mut parts = rest.splitn(2, ':');
        let first = parts.next().unwrap_or("");
        let seed = match parts.next() {
            Some(s) if kind != "lists" => s.parse().map_err(|_| bad("seed must be a whole number"))?,
            _ => 0,
        };
        match kind {
            "holdout" => {
                let f: f64 = first.parse().map_err(|_| bad("fraction must be a number"))?;
                if !(f > 0.0 && f < 1.0) {
                    return Err(bad("fraction must lie between 0 and 1"));
                }
                Ok(Self::Holdout { test_fraction: f, seed })
            }
            "kfold" => {
                let k: usize = first.parse().map_err(|_| bad("K must be a whole number"))?;
                if k < 2 {
                    return Err(bad("K must be at least 2"));
                }
                Ok(Self::KFold { k, seed })
            }
            "lists" => Ok(Self::Lists(PathBuf::from(rest))),
            "artist" => {
                let k: usize = first.parse().map_err(|_| bad("K must be a whole number"))?;
                if k < 2 {
                    return Err(bad("K must be at least 2"));
                }
                Ok(Self::Artist { k, seed })
            }
            _ => Err(bad("expected holdout:F, kfold:K or lists:DIR")),
        }
    }
}

impl std::fmt::Display for SplitSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Holdout { test_fraction, seed } => {
                write!(f, "stratified hold-out, {:.0} % test, seed {seed}", test_fraction * 100.0)
            }
            Self::KFold { k, seed } => write!(f, "stratified {k}-fold cross-validation, seed {seed}"),
            Self::Lists(dir) => write!(f, "file lists in {}", dir.display()),
            Self::Official => write!(f, "the dataset's own split"),
            Self::Artist { k, seed } => {
                write!(f, "artist-disjoint {k}-fold cross-validation (by the artist column), seed {seed}")
            }
        }
    }
}

/// One train/test partition of row indices (validation rows, when a list
/// gives them, are kept apart for model selection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows for model selection (may be empty).
    pub valid: Vec<usize>,
    /// Rows to report on.
    pub test: Vec<usize>,
}

/// The folds `spec` defines over rows with these `labels` and `names`.
pub fn folds(spec: &SplitSpec, labels: &[String], names: &[String]) -> Result<Vec<Fold>> {
    let by_class = |seed: u64| {
        let mut classes: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, l) in labels.iter().enumerate() {
            classes.entry(l.as_str()).or_default().push(i);
        }
        let mut keys: Vec<&str> = classes.keys().copied().collect();
        keys.sort();
        let mut rng = SplitMix64::new(seed);
        keys.into_iter()
            .map(|k| {
                let mut rows = classes.remove(k).unwrap_or_default();
                rng.shuffle(&mut rows);
                rows
            })
            .collect::<Vec<_>>()
    };
    match spec {
        SplitSpec::Holdout { test_fraction, seed } => {
            let mut fold = Fold { train: Vec::new(), valid: Vec::new(), test: Vec::new() };
            for rows in by_class(*seed) {
                let n_test =
                    ((rows.len() as f64 * test_fraction).round() as usize).clamp(1, rows.len().max(2) - 1);
                fold.test.extend_from_slice(&rows[..n_test.min(rows.len())]);
                fold.train.extend_from_slice(&rows[n_test.min(rows.len())..]);
            }
            fold.train.sort_unstable();
            fold.test.sort_unstable();
            Ok(vec![fold])
        }
        SplitSpec::KFold { k, seed } => {
            let mut assignment = vec![0usize; labels.len()];
            // Deal each class's shuffled rows round-robin, continuing where the
            // previous class stopped, so folds differ in size by at most one.
            let mut next = 0;
            for rows in by_class(*seed) {
                for r in rows {
                    assignment[r] = next % k;
                    next += 1;
                }
            }
            Ok((0..*k)
                .map(|f| Fold {
                    train: (0..labels.len()).filter(|&i| assignment[i] != f).collect(),
                    valid: Vec::new(),
                    test: (0..labels.len()).filter(|&i| assignment[i] == f).collect(),
                })
                .collect())
        }
        SplitSpec::Lists(dir) => list_fold(dir, names, spec),
        SplitSpec::Artist { .. } => Err(DataError::Split {
            spec: spec.to_string(),
            reason: "needs an `artist` column in the table".into(),
        }),
        SplitSpec::Official => Err(DataError::Split {
            spec: spec.to_string(),
            reason: "needs a dataset with its own split (fma:, mtt: or a csv: manifest with a split column)"
                .into(),
        }),
    }
}

/// K folds in which every group (artist) lies wholly in one fold: groups
/// in a seeded random order, largest first, each to the fold with the
/// fewest rows so far (scikit-learn's `GroupKFold`, shuffled).
pub fn group_folds(groups: &[String], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for g in groups {
        *sizes.entry(g.as_str()).or_default() += 1;
    }
    if sizes.len() < k {
        return Err(DataError::Split {
            spec: format!("artist:{k}"),
            reason: format!("only {} distinct artists for {k} folds", sizes.len()),
        });
    }
    let mut order: Vec<(&str, usize)> = sizes.into_iter().collect();
    order.sort();
    SplitMix64::new(seed).shuffle(&mut order);
    order.sort_by_key(|g| std::cmp::Reverse(g.1));
    let mut fold_of: HashMap<&str, usize> = HashMap::new();
    let mut filled = vec![0usize; k];
    for (g, n) in order {
        let f = (0..k).min_by_key(|&f| (filled[f], f)).unwrap_or(0);
        filled[f] += n;
        fold_of.insert(g, f);
    }
    Ok((0..k)
        .map(|f| Fold {
            train: (0..groups.len()).filter(|&i| fold_of[groups[i].as_str()] != f).collect(),
            valid: Vec::new(),
            test: (0..groups.len()).filter(|&i| fold_of[groups[i].as_str()] == f).collect(),
        })
        .collect())
}

fn stem(name: &str) -> String {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    file.rsplit_once('.').map_or(file, |(s, _)| s).to_string()
}

fn read_list(dir: &Path, prefix: &str, spec: &SplitSpec) -> Result<Option<Vec<String>>> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::Split {
        spec: spec.to_string(),
        reason: format!("{}: {e}", dir.display()),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    let Some(file) = files.first() else { return Ok(None) };
    let text = std::fs::read_to_string(file).map_err(|e| DataError::Split {
        spec: spec.to_string(),
        reason: format!("{}: {e}", file.display()),
    })?;
    Ok(Some(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(stem).collect()))
}

fn list_fold(dir: &Path, names: &[String], spec: &SplitSpec) -> Result<Vec<Fold>> {
    let index: HashMap<String, usize> = names.iter().enumerate().map(|(i, n)| (stem(n), i)).collect();
    let pick = |list: Option<Vec<String>>| -> Vec<usize> {
        let mut rows: Vec<usize> =
            list.unwrap_or_default().iter().filter_map(|n| index.get(n).copied()).collect();
        rows.sort_unstable();
        rows
    };
    let fold = Fold {
        train: pick(read_list(dir, "train", spec)?),
        valid: pick(read_list(dir, "valid", spec)?),
        test: pick(read_list(dir, "test", spec)?),
    };
    if fold.train.is_empty() || fold.test.is_empty() {
        return Err(DataError::Split {
            spec: spec.to_string(),
            reason: format!(
                "the lists match {} training and {} test rows of the table; both must be non-empty",
                fold.train.len(),
                fold.test.len()
            ),
        });
    }
    Ok(vec![fold])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n_per: usize, classes: usize) -> Vec<String> {
        (0..n_per * classes).map(|i| format!("c{}", i % classes)).collect()
    }

    #[test]
    fn artist_folds_never_split_an_artist() {
        let groups: Vec<String> = (0..40).map(|i| format!("a{}", i % 7)).collect();
        let folds = group_folds(&groups, 3, 1).unwrap();
        let mut tested = 0;
        for f in &folds {
            tested += f.test.len();
            for &t in &f.test {
                assert!(f.train.iter().all(|&r| groups[r] != groups[t]));
            }
        }
        assert_eq!(tested, 40);
        assert!(folds.iter().all(|f| f.test.len() >= 10), "balanced by size");
        assert!(group_folds(&groups, 8, 0).is_err(), "7 artists cannot fill 8 folds");
        assert_eq!(SplitSpec::parse("artist").unwrap(), SplitSpec::Artist { k: 5, seed: 0 });
        assert_eq!(SplitSpec::parse("artist:3:2").unwrap(), SplitSpec::Artist { k: 3, seed: 2 });
    }

    #[test]
    fn parses_and_rejects_specs() {
        assert_eq!(
            SplitSpec::parse("holdout:0.2").unwrap(),
            SplitSpec::Holdout { test_fraction: 0.2, seed: 0 }
        );
        assert_eq!(SplitSpec::parse("kfold:10:7").unwrap(), SplitSpec::KFold { k: 10, seed: 7 });
        assert!(SplitSpec::parse("kfold:1").is_err());
        assert!(SplitSpec::parse("holdout:1.5").is_err());
        assert!(SplitSpec::parse("random").is_err());
    }

    #[test]
    fn holdout_is_stratified_disjoint_and_seeded() {
        let l = labels(10, 4);
        let names: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let spec = SplitSpec::Holdout { test_fraction: 0.2, seed: 1 };
        let f = &folds(&spec, &l, &names).unwrap()[0];
        assert_eq!(f.test.len(), 8);
        for c in 0..4 {
            assert_eq!(f.test.iter().filter(|&&i| l[i] == format!("c{c}")).count(), 2);
        }
        assert!(f.train.iter().all(|i| !f.test.contains(i)));
        assert_eq!(folds(&spec, &l, &names).unwrap()[0], *f, "same seed, same split");
        let other = &folds(&SplitSpec::Holdout { test_fraction: 0.2, seed: 2 }, &l, &names).unwrap()[0];
        assert_ne!(other.test, f.test);
    }

    #[test]
    fn kfold_tests_every_row_exactly_once() {
        let l = labels(10, 3);
        let names: Vec<String> = (0..30).map(|i| i.to_string()).collect();
        let fs = folds(&SplitSpec::KFold { k: 5, seed: 0 }, &l, &names).unwrap();
        let mut seen = [0; 30];
        for f in &fs {
            assert_eq!(f.test.len(), 6);
            f.test.iter().for_each(|&i| seen[i] += 1);
        }
        assert!(seen.iter().all(|&s| s == 1));
    }

    #[test]
    fn fault_filtered_lists_match_the_real_table() {
        let table =
            crate::read_table(&genreid_testkit::shared().join("data/gtzan/features_30_sec.csv")).unwrap();
        let spec = SplitSpec::Lists(genreid_testkit::shared().join("data/gtzan/splits"));
        let f = &folds(&spec, &table.labels, &table.names).unwrap()[0];
        assert_eq!((f.train.len(), f.valid.len(), f.test.len()), (443, 197, 290));
    }
}
