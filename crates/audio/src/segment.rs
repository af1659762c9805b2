//! Cutting a signal into fixed-length segments (the reports' 30/10/3/2 s
//! "divide and conquer" windows), with or without overlap.

use crate::error::{AudioError, Result};

/// A half-open range of samples `[start, end)` within a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First sample.
    pub start: usize,
    /// One past the last sample.
    pub end: usize,
}

/// Where segments of `length` samples start every `hop` samples in a signal
/// of `total` samples.
///
/// Only whole segments are returned; a signal shorter than one segment yields
/// a single segment `[0, length)` that the caller pads (see
/// [`segment_samples`]), so every track gives at least one.
pub fn segments(total: usize, length: usize, hop: usize) -> Result<Vec<Segment>> {
    if length == 0 || hop == 0 {
        return Err(AudioError::InvalidParameter(format!(
            "segment length ({length}) and hop ({hop}) must be positive"
        )));
    }
    if total <= length {
        return Ok(vec![Segment { start: 0, end: length }]);
    }
    Ok((0..=(total - length) / hop).map(|i| Segment { start: i * hop, end: i * hop + length }).collect())
}

/// Copies each segment of `samples`, zero-padding any that run past the end.
pub fn segment_samples(samples: &[f32], length: usize, hop: usize) -> Result<Vec<Vec<f32>>> {
    Ok(segments(samples.len(), length, hop)?
        .into_iter()
        .map(|s| {
            let mut seg = samples[s.start.min(samples.len())..s.end.min(samples.len())].to_vec();
            seg.resize(length, 0.0);
            seg
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_seconds_make_ten_three_second_segments() {
        let sr = 22_050;
        let s = segments(30 * sr, 3 * sr, 3 * sr).unwrap();
        assert_eq!(s.len(), 10);
        assert_eq!(s[9], Segment { start: 27 * sr, end: 30 * sr });
    }

    #[test]
    fn half_overlap_doubles_the_count_minus_one() {
        let s = segments(30, 10, 5).unwrap();
        assert_eq!(s.iter().map(|s| s.start).collect::<Vec<_>>(), vec![0, 5, 10, 15, 20]);
    }

    #[test]
    fn short_signal_is_padded_to_one_segment() {
        let segs = segment_samples(&[1.0, 2.0], 4, 4).unwrap();
        assert_eq!(segs, vec![vec![1.0, 2.0, 0.0, 0.0]]);
        assert!(segments(10, 0, 1).is_err());
    }
}
