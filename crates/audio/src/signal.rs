//! The typed mono signal every later stage consumes.

/// Mono audio samples at a known sample rate.
///
/// Samples are `f32` in `[-1, 1]` for decoded PCM (16-bit PCM becomes
/// `i16 / 32768`, as libsndfile and librosa do).
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The samples, one per frame.
    pub samples: Vec<f32>,
    /// Frames per second.
    pub sample_rate: u32,
}

impl Signal {
    /// Wraps samples recorded at `sample_rate`.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self { samples, sample_rate }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Length in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// How loud a track is, gathered a block at a time: what tells silence and
/// near-silence from music before a model is asked to judge it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Level {
    /// Largest sample magnitude.
    pub peak: f32,
    /// Sum of squared samples.
    pub sum_squares: f64,
    /// Samples seen.
    pub samples: u64,
}

impl Level {
    /// The level of `samples`.
    pub fn of(samples: &[f32]) -> Self {
        let mut level = Self::default();
        level.add(samples);
        level
    }

    /// Adds `samples` to the tally.
    pub fn add(&mut self, samples: &[f32]) {
        for &x in samples {
            self.peak = self.peak.max(x.abs());
            self.sum_squares += f64::from(x) * f64::from(x);
        }
        self.samples += samples.len() as u64;
    }

    /// Root-mean-square level in dB relative to full scale (−inf for silence).
    pub fn rms_dbfs(&self) -> f64 {
        if self.samples == 0 {
            return f64::NEG_INFINITY;
        }
        10.0 * (self.sum_squares / self.samples as f64).log10()
    }
}

/// Averages interleaved frames of `channels` samples into mono (librosa's
/// `to_mono`: the channel mean), appending to `out`.
pub fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    match channels {
        0 => {}
        1 => out.extend_from_slice(interleaved),
        2 => out.extend(interleaved.chunks_exact(2).map(|f| (f[0] + f[1]) * 0.5)),
        n => {
            let scale = 1.0 / n as f32;
            out.extend(interleaved.chunks_exact(n).map(|f| f.iter().sum::<f32>() * scale));
        }
    }
}

/// Pads with zeros or cuts `samples` to exactly `len` (librosa's `fix_length`).
pub fn fix_length(samples: &mut Vec<f32>, len: usize) {
    samples.resize(len, 0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_in_dbfs() {
        let mut l = Level::of(&[0.5, -0.5]);
        assert!((l.rms_dbfs() - 20.0 * 0.5f64.log10()).abs() < 1e-9);
        l.add(&[1.0, 0.0]);
        assert_eq!(l.peak, 1.0);
        assert_eq!(l.samples, 4);
        assert_eq!(Level::of(&[0.0; 8]).rms_dbfs(), f64::NEG_INFINITY);
    }

    #[test]
    fn downmix_is_channel_mean() {
        let mut out = Vec::new();
        downmix_into(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
        out.clear();
        downmix_into(&[0.3, 0.6, 0.9], 3, &mut out);
        assert!((out[0] - 0.6).abs() < 1e-7);
    }

    #[test]
    fn fix_length_pads_and_cuts() {
        let mut s = vec![1.0; 3];
        fix_length(&mut s, 5);
        assert_eq!(s, vec![1.0, 1.0, 1.0, 0.0, 0.0]);
        fix_length(&mut s, 2);
        assert_eq!(s, vec![1.0, 1.0]);
    }
}
