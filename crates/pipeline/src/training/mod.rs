//! Training and evaluation pipelines over datasets: networks trained on
//! spectrogram segments ([`network`]), classical heads on a pretrained
//! tagger's embeddings ([`transfer`]), and any model scored on a dataset's
//! test tracks. What they report as they go is an [`Event`]; the caller
//! draws it (progress bars in the CLI, nothing in a test).

use std::path::Path;

use genreid_data::{Dataset, DatasetSpec, Fold, SpectrogramCache, Track};
use genreid_features::{Augmentation, SpectrogramInput};

use crate::error::Result;

pub mod network;
pub mod transfer;

/// Something a pipeline reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A line for the user: what was opened, reused, chosen or written.
    Note(&'a str),
    /// Something the user should know that does not stop the run.
    Warning(&'a str),
    /// A pass over `total` items began (`what`: spectrograms, embed, classify).
    PassStarted {
        /// What the pass computes.
        what: &'static str,
        /// Items to do.
        total: usize,
    },
    /// `done` of the pass's items are finished.
    PassProgress {
        /// Items finished.
        done: usize,
    },
    /// An item of the pass failed (the message names it); the pass goes on.
    PassFailed(&'a str),
    /// The pass ended.
    PassFinished,
    /// Network training began: at most `epochs` epochs.
    TrainingStarted {
        /// Epochs planned.
        epochs: usize,
    },
    /// A step, epoch, resume, import or early stop of network training.
    Training(&'a genreid_train::neural::Progress),
    /// Network training ended.
    TrainingFinished,
}

/// Where events go.
pub type Observer<'a> = &'a (dyn Fn(Event<'_>) + Sync);

/// Opens a dataset spec (`gtzan:PATH`, `fma:PATH`, `mtt:PATH`,
/// `folder:PATH`, `csv:FILE`), noting what it holds.
pub fn open_dataset(spec: &str, on: Observer<'_>) -> Result<Dataset> {
    let spec = DatasetSpec::parse(spec)?;
    let ds = spec.open()?;
    let counts: Vec<String> = ds.counts().iter().map(|(l, n)| format!("{l} {n}")).collect();
    on(Event::Note(&format!("{spec}: {} tracks ({})", ds.tracks.len(), counts.join(", "))));
    if ds.missing > 0 {
        on(Event::Warning(&format!(
            "{} tracks listed by the dataset's metadata are not on disk",
            ds.missing
        )));
    }
    Ok(ds)
}

/// Spectrograms of `tracks` (augmented when asked), from the cache under
/// `genreid_data::cache::default_dir()` or computed in parallel.
pub fn spectrograms(
    tracks: &[Track],
    input: &SpectrogramInput,
    max_seconds: f64,
    augmentation: Option<&Augmentation>,
    on: Observer<'_>,
) -> Result<SpectrogramCache> {
    on(Event::PassStarted { what: "spectrograms", total: tracks.len() });
    let dir = genreid_data::cache::default_dir().join("spectrograms");
    let cache =
        SpectrogramCache::open_or_build(&dir, tracks, input, max_seconds, augmentation, &|done, _| {
            on(Event::PassProgress { done })
        });
    on(Event::PassFinished);
    let cache = cache?;
    on(Event::Note(&format!(
        "{} {} {}spectrograms ({} × {} per second of audio) {}",
        if cache.reused { "reused" } else { "computed" },
        tracks.len() - cache.failures.len(),
        if augmentation.is_some() { "augmented " } else { "" },
        input.bins(),
        f64::from(input.sample_rate) / input.hop_length as f64,
        cache.path.display()
    )));
    for (path, reason) in &cache.failures {
        on(Event::Warning(&format!("skipped {}: {reason}", path.display())));
    }
    Ok(cache)
}

/// The first fold of a split (evaluations and transfer heads use one).
pub(crate) fn first_fold(ds: &Dataset, split: &genreid_data::SplitSpec, on: Observer<'_>) -> Result<Fold> {
    let mut folds = ds.folds(split)?;
    if folds.len() > 1 {
        on(Event::Note(&format!("{split}: using the test tracks of fold 1 of {}", folds.len())));
    }
    Ok(folds.remove(0))
}

/// `path` with `suffix` appended to its last component.
pub(crate) fn suffixed(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    std::path::PathBuf::from(s)
}
