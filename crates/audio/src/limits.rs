//! What genreid accepts as real audio. Every decode path (whole files,
//! uploads, [`crate::MonoStream`]) checks a stream's parameters here before
//! it allocates or resamples anything, so a header's claims cannot decide
//! how much work a file costs: a crafted rate of 4,294,967,295 Hz or 1 Hz is
//! refused at once, and work is bounded by the audio's duration.

use std::path::Path;

use crate::error::{AudioError, Result};

/// Lowest sample rate accepted (Hz): below any real recording (telephone
/// audio is 8 kHz; the lowest rates in use are 4–8 kHz).
pub const MIN_SAMPLE_RATE: u32 = 1_000;
/// Highest sample rate accepted (Hz): the highest PCM rate in use (768 kHz).
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Most channels accepted (seventh-order ambisonics has 64).
pub const MAX_CHANNELS: usize = 64;
/// Highest sample magnitude accepted (+24 dB above full scale). Decoded
/// PCM lies within ±1; float files may go a little above (inter-sample
/// overs, unnormalised mixes), and are kept as they are, as librosa keeps
/// them, with a warning. Far beyond this a file is damaged or wrongly
/// scaled (a clip multiplied by 1e30 overflows every power spectrum to
/// infinity), and it is refused, as librosa's `valid_audio` refuses
/// non-finite samples.
pub const MAX_PEAK: f32 = 16.0;

/// Peaks above this (+6 dB over full scale) are reported with a
/// [`crate::Warning::AboveFullScale`]: lossy decoders overshoot full scale
/// a little on loud masters (peaks of 1.1–1.4 are ordinary), so smaller
/// overs are not news.
pub const WARN_PEAK: f32 = 2.0;

/// Checks a sample rate a caller asks audio to be resampled to (`--sr`,
/// `sr=`): the same range real audio is accepted in, so an option cannot
/// ask for a row from five samples or a resampler a thousand times the
/// file's length.
pub fn check_target_rate(rate: u32) -> Result<()> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Ok(());
    }
    Err(AudioError::InvalidParameter(format!(
        "sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz"
    )))
}

/// Refuses a stream whose sample rate or channel count no real audio has.
pub(crate) fn check_stream(path: &Path, sample_rate: u32, channels: usize) -> Result<()> {
    let invalid = |reason: String| AudioError::InvalidHeader { path: path.to_path_buf(), reason };
    if sample_rate == 0 {
        return Err(invalid("sample rate is zero or missing".into()));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(invalid(format!(
            "sample rate {sample_rate} Hz is outside what real audio uses \
             ({MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz)"
        )));
    }
    if channels == 0 {
        return Err(invalid("zero channels".into()));
    }
    if channels > MAX_CHANNELS {
        return Err(invalid(format!("{channels} channels is more than the {MAX_CHANNELS} genreid accepts")));
    }
    Ok(())
}

/// Checks decoded samples: an error for NaN or infinity or a peak beyond
/// [`MAX_PEAK`]; otherwise the largest magnitude seen.
pub(crate) fn check_samples(path: &Path, samples: &[f32]) -> Result<f32> {
    let mut peak = 0f32;
    for &x in samples {
        if !x.is_finite() {
            return Err(AudioError::Decode {
                path: path.to_path_buf(),
                reason: "the file holds NaN or infinite samples".into(),
            });
        }
        peak = peak.max(x.abs());
    }
    if peak > MAX_PEAK {
        return Err(AudioError::OutOfRange { path: path.to_path_buf(), peak });
    }
    Ok(peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_channels_outside_real_audio_are_refused() {
        let p = Path::new("x.wav");
        for rate in [0, 1, 8, 100, 999, 768_001, 1 << 31, u32::MAX] {
            let e = check_stream(p, rate, 1).unwrap_err().to_string();
            assert!(e.contains("x.wav") && e.contains("sample rate"), "{e}");
        }
        for rate in [1_000, 8_000, 22_050, 44_100, 192_000, 768_000] {
            check_stream(p, rate, 2).unwrap();
        }
        assert!(check_stream(p, 44_100, 0).is_err());
        assert!(check_stream(p, 44_100, 65).is_err());
        check_stream(p, 44_100, 64).unwrap();
    }

    #[test]
    fn peaks_far_above_full_scale_are_refused() {
        let p = Path::new("loud.wav");
        assert_eq!(check_samples(p, &[0.5, -1.5]).unwrap(), 1.5);
        let e = check_samples(p, &[0.1, 1e30]).unwrap_err().to_string();
        assert!(e.contains("loud.wav") && e.contains("1e30"), "{e}");
        assert!(check_samples(p, &[f32::NAN]).unwrap_err().to_string().contains("NaN"));
    }
}
