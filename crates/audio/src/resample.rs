//! Sample-rate conversion with rubato's synchronous FFT resampler.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use crate::error::{AudioError, Result};
use crate::signal::{Signal, fix_length};

/// Resampler block length. Measured against librosa's soxr_hq output on the
/// fixtures, 1024 gives the closest transition band (40 dB signal-to-difference
/// on bright 44.1 kHz rock, 57-67 dB elsewhere); longer blocks cut sharper
/// than soxr and differ more.
const CHUNK: usize = 1024;

/// Output length librosa gives for `n` samples resampled from `from` to `to`
/// Hz: `ceil(n * to / from)`.
pub fn resampled_len(n: usize, from: u32, to: u32) -> usize {
    (n as u128 * u128::from(to)).div_ceil(u128::from(from)) as usize
}

/// Resamples `signal` to `target_rate`, returning a signal of exactly
/// [`resampled_len`] samples, aligned with the input (no start-up delay).
///
/// Uses rubato's FFT resampler, a band-limited converter of the same class as
/// libsoxr's HQ mode that librosa uses; the difference on music is measured in
/// the crate's tests against librosa's output.
pub fn resample(signal: &Signal, target_rate: u32) -> Result<Signal> {
    let from = signal.sample_rate;
    if target_rate == 0 || from == 0 {
        return Err(AudioError::InvalidParameter(format!(
            "cannot resample {from} Hz to {target_rate} Hz"
        )));
    }
    if from == target_rate {
        return Ok(signal.clone());
    }
    let n = signal.samples.len();
    let want = resampled_len(n, from, target_rate);
    if n == 0 {
        return Ok(Signal::new(Vec::new(), target_rate));
    }
    let fail = |reason: String| AudioError::Resample { from, to: target_rate, reason };
    let mut resampler =
        Fft::<f32>::new_custom(
        from as usize,
        target_rate as usize,
        CHUNK,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
            .map_err(|e| fail(e.to_string()))?;
    let input = InterleavedSlice::new(&signal.samples, 1, n).map_err(|e| fail(e.to_string()))?;
    let out = resampler.process_all(&input, n, None).map_err(|e| fail(e.to_string()))?;
    let mut samples = out.take_data();
    fix_length(&mut samples, want);
    Ok(Signal::new(samples, target_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_matches_librosa_formula() {
        assert_eq!(resampled_len(1_323_000, 44_100, 22_050), 661_500);
        assert_eq!(resampled_len(3, 44_100, 22_050), 2);
        assert_eq!(resampled_len(480_000, 48_000, 22_050), 220_500);
    }

    #[test]
    fn a_sine_keeps_its_frequency_and_level() {
        let (from, to, f) = (44_100u32, 22_050u32, 440.0f64);
        let x: Vec<f32> = (0..44_100)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(from)).sin() as f32)
            .collect();
        let y = resample(&Signal::new(x, from), to).unwrap();
        assert_eq!(y.len(), 22_050);
        let max_err = (2000..20_000)
            .map(|i| {
                let want = (2.0 * std::f64::consts::PI * f * i as f64 / f64::from(to)).sin();
                (f64::from(y.samples[i]) - want).abs()
            })
            .fold(0.0, f64::max);
        assert!(max_err < 1e-3, "max error {max_err}");
    }
}

