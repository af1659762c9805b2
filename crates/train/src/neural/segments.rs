//! Segments of tracks in the spectrogram cache: which (track, start frame)
//! pairs a split's tracks yield, and batches of them as network input.

use genreid_data::SpectrogramCache;
use genreid_data::SplitMix64;
use genreid_features::input::segment_starts;

/// One segment: a track (index into the dataset) and its first frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Which cache: 0 the dataset's, 1 the augmented copies'.
    pub source: usize,
    /// Track index (within its cache).
    pub track: usize,
    /// First frame.
    pub start: usize,
}

/// How segments are cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutting {
    /// Frames per segment.
    pub frames: usize,
    /// Frames between segment starts (less than `frames` overlaps).
    pub hop: usize,
}

/// The segments of `tracks` (those with a picture in the cache), track by
/// track, tagged with `source`.
pub fn segments_of(
    cache: &SpectrogramCache,
    source: usize,
    tracks: &[usize],
    cutting: Cutting,
) -> Vec<Segment> {
    let mut out = Vec::new();
    for &t in tracks {
        if let Some(entry) = cache.entry(t) {
            out.extend(
                segment_starts(entry.frames, cutting.frames, cutting.hop).into_iter().map(|start| Segment {
                    source,
                    track: t,
                    start,
                }),
            );
        }
    }
    out
}

/// Reads `batch` into one `[n, frames, bins]` buffer; `sources[s.source]`
/// holds segment `s`.
pub fn read_batch(
    sources: &[&SpectrogramCache],
    batch: &[Segment],
    frames: usize,
) -> Result<Vec<f32>, genreid_data::DataError> {
    let mut values = Vec::with_capacity(batch.len() * frames * sources[0].bins);
    let mut one = Vec::new();
    for s in batch {
        sources[s.source].segment(s.track, s.start, frames, &mut one)?;
        values.extend_from_slice(&one);
    }
    Ok(values)
}

/// SpecAugment-style masking (Park et al. 2019) on one normalised segment
/// `[frames, bins]`: one time band of up to `frames / 10` frames and one
/// frequency band of up to `bins / 8` bins set to the segment's mean.
pub fn spec_augment(segment: &mut [f32], frames: usize, bins: usize, rng: &mut SplitMix64) {
    if frames < 2 || bins < 2 {
        return;
    }
    let mean = segment.iter().sum::<f32>() / segment.len() as f32;
    let t_width = rng.below(frames / 10 + 1);
    let t0 = rng.below(frames - t_width + 1);
    for f in t0..t0 + t_width {
        segment[f * bins..(f + 1) * bins].iter_mut().for_each(|v| *v = mean);
    }
    let f_width = rng.below(bins / 8 + 1);
    let f0 = rng.below(bins - f_width + 1);
    for f in 0..frames {
        segment[f * bins + f0..f * bins + f0 + f_width].iter_mut().for_each(|v| *v = mean);
    }
}
