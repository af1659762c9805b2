//! Waveform augmentation (seed 001): Gaussian noise, time stretch by a phase
//! vocoder (`librosa.effects.time_stretch`), pitch shift that keeps the
//! duration (`librosa.effects.pitch_shift`: stretch, then resample), and a
//! random combination with set probabilities. Lives beside the STFT it
//! needs; the audio crate's resampler does the resampling.

use genreid_audio::{Signal, resample};
use genreid_core::SplitMix64;
use rustfft::num_complex::Complex;
use serde::{Deserialize, Serialize};

use crate::hpss::istft;
use crate::stft::{ComplexMatrix, Stft, StftConfig};
use crate::{FeatureError, Result};

/// `librosa.phase_vocoder`: speeds `stft` up by `rate` (> 1 shortens).
pub fn phase_vocoder(stft: &ComplexMatrix, rate: f64, hop: usize) -> ComplexMatrix {
    let (bins, frames) = (stft.rows, stft.cols);
    let n_fft = 2 * (bins.max(1) - 1);
    let steps: Vec<f64> = (0..).map(|i| i as f64 * rate).take_while(|&s| s < frames as f64).collect();
    let mut out = ComplexMatrix {
        rows: bins,
        cols: steps.len(),
        data: vec![Complex::new(0.0, 0.0); bins * steps.len()],
    };
    let at = |k: usize, t: usize| if t < frames { stft.data[k * frames + t] } else { Complex::new(0.0, 0.0) };
    for k in 0..bins {
        let advance = std::f64::consts::PI * 2.0 * hop as f64 * k as f64 / n_fft.max(1) as f64;
        let mut phase = f64::from(at(k, 0).arg());
        for (t, &step) in steps.iter().enumerate() {
            let i = step.floor() as usize;
            let alpha = step - i as f64;
            let (c0, c1) = (at(k, i), at(k, i + 1));
            let mag = (1.0 - alpha) * f64::from(c0.norm()) + alpha * f64::from(c1.norm());
            out.data[k * out.cols + t] = Complex::new((mag * phase.cos()) as f32, (mag * phase.sin()) as f32);
            let mut d = f64::from(c1.arg()) - f64::from(c0.arg()) - advance;
            d -= 2.0 * std::f64::consts::PI * (d / (2.0 * std::f64::consts::PI)).round();
            phase += advance + d;
        }
    }
    out
}

/// `librosa.effects.time_stretch(y, rate)`: `rate` > 1 is faster (shorter).
pub fn time_stretch(y: &[f32], rate: f64) -> Result<Vec<f32>> {
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(FeatureError::InvalidParameter(format!("stretch rate must be positive, got {rate}")));
    }
    let config = StftConfig::new(2048, 512);
    let stft = Stft::new(config).complex(y)?;
    let stretched = phase_vocoder(&stft, rate, config.hop_length);
    let len = (y.len() as f64 / rate).round() as usize;
    Ok(istft(&stretched, config, len))
}

/// `librosa.effects.pitch_shift(y, sr, n_steps)`: up by `steps` semitones,
/// same duration.
pub fn pitch_shift(y: &[f32], sr: u32, steps: f64) -> Result<Vec<f32>> {
    let rate = 2f64.powf(-steps / 12.0);
    let stretched = time_stretch(y, rate)?;
    let from = (f64::from(sr) / rate).round() as u32;
    let shifted = resample(&Signal::new(stretched, from.max(1)), sr)
        .map_err(|e| FeatureError::InvalidParameter(e.to_string()))?;
    let mut out = shifted.samples;
    out.resize(y.len(), 0.0);
    Ok(out)
}

/// A random combination of transforms, each applied with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Gaussian noise of this standard deviation (seed 001: 0.005), if any.
    pub noise: Option<f64>,
    /// Pitch shift by up to ± this many semitones, if any.
    pub pitch: Option<f64>,
    /// Time stretch by a rate drawn from this range, if any (e.g. 0.8–1.2).
    pub stretch: Option<(f64, f64)>,
    /// Probability of each transform.
    pub probability: f64,
    /// Augmented copies of each training track.
    pub copies: usize,
}

impl std::str::FromStr for Augmentation {
    type Err = String;
    /// `noise:0.005,pitch:2,stretch:0.8-1.2,p:0.5,copies:2`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut a = Self { noise: None, pitch: None, stretch: None, probability: 0.5, copies: 1 };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) =
                part.split_once(':').ok_or_else(|| format!("augment {part:?}: expected NAME:VALUE"))?;
            let num =
                |v: &str| v.parse::<f64>().map_err(|_| format!("augment {part:?}: {v:?} is not a number"));
            match k {
                "noise" => a.noise = Some(num(v)?),
                "pitch" => a.pitch = Some(num(v)?),
                "stretch" => {
                    let (lo, hi) =
                        v.split_once('-').ok_or_else(|| format!("augment {part:?}: expected LOW-HIGH"))?;
                    let (lo, hi) = (num(lo)?, num(hi)?);
                    if !(lo > 0.0 && hi >= lo) {
                        return Err(format!("augment {part:?}: rates must be positive and LOW ≤ HIGH"));
                    }
                    a.stretch = Some((lo, hi));
                }
                "p" => a.probability = num(v)?.clamp(0.0, 1.0),
                "copies" => a.copies = num(v)?.max(1.0) as usize,
                _ => return Err(format!("augment {part:?}: expected noise, pitch, stretch, p or copies")),
            }
        }
        if a.noise.is_none() && a.pitch.is_none() && a.stretch.is_none() {
            return Err("augment: name at least one of noise:STD, pitch:SEMITONES, stretch:LOW-HIGH".into());
        }
        Ok(a)
    }
}

impl Augmentation {
    /// One augmented version of `y`, determined by `seed`. A stretched copy
    /// keeps its new length (the audio is faster or slower), as in seed 001.
    pub fn apply(&self, y: &[f32], sr: u32, seed: u64) -> Result<Vec<f32>> {
        let mut draw = SplitMix64::new(seed ^ 0xa076_1d64_78bd_642f);
        let mut out = y.to_vec();
        if let Some((lo, hi)) = self.stretch
            && draw.uniform() < self.probability
        {
            out = time_stretch(&out, lo + (hi - lo) * draw.uniform())?;
        }
        if let Some(max) = self.pitch
            && draw.uniform() < self.probability
        {
            out = pitch_shift(&out, sr, (2.0 * draw.uniform() - 1.0) * max)?;
        }
        if let Some(std) = self.noise
            && draw.uniform() < self.probability
        {
            out.iter_mut().for_each(|v| *v += (std * draw.gaussian()) as f32);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, sr: u32, seconds: f64) -> Vec<f32> {
        (0..(seconds * f64::from(sr)) as usize)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(sr)).sin() as f32 * 0.5)
            .collect()
    }

    /// Frequency of the strongest FFT bin over the middle of `y`.
    fn peak_hz(y: &[f32], sr: u32) -> f64 {
        let n = 8192;
        let start = (y.len() - n) / 2;
        let mut buf: Vec<Complex<f32>> = y[start..start + n].iter().map(|&v| Complex::new(v, 0.0)).collect();
        rustfft::FftPlanner::new().plan_fft_forward(n).process(&mut buf);
        let k = (1..n / 2).max_by(|&a, &b| buf[a].norm().total_cmp(&buf[b].norm())).unwrap();
        k as f64 * f64::from(sr) / n as f64
    }

    #[test]
    fn stretch_changes_length_not_pitch() {
        let sr = 22_050;
        let y = tone(440.0, sr, 2.0);
        let fast = time_stretch(&y, 1.25).unwrap();
        assert_eq!(fast.len(), (y.len() as f64 / 1.25).round() as usize);
        assert!((peak_hz(&fast, sr) - 440.0).abs() < 6.0, "{}", peak_hz(&fast, sr));
    }

    #[test]
    fn pitch_shift_keeps_length_and_moves_pitch() {
        let sr = 22_050;
        let y = tone(440.0, sr, 2.0);
        let up = pitch_shift(&y, sr, 12.0).unwrap();
        assert_eq!(up.len(), y.len());
        assert!((peak_hz(&up, sr) - 880.0).abs() < 8.0, "{}", peak_hz(&up, sr));
        let down = pitch_shift(&y, sr, -2.0).unwrap();
        let want = 440.0 * 2f64.powf(-2.0 / 12.0);
        assert!((peak_hz(&down, sr) - want).abs() < 6.0, "{} vs {want}", peak_hz(&down, sr));
    }

    #[test]
    fn combination_is_seeded_and_parses() {
        let a: Augmentation = "noise:0.01,pitch:2,stretch:0.9-1.1,p:1,copies:2".parse().unwrap();
        assert_eq!(a.copies, 2);
        let y = tone(220.0, 22_050, 1.0);
        assert_eq!(a.apply(&y, 22_050, 7).unwrap(), a.apply(&y, 22_050, 7).unwrap());
        assert_ne!(a.apply(&y, 22_050, 7).unwrap(), a.apply(&y, 22_050, 8).unwrap());
        assert!("pitch".parse::<Augmentation>().is_err());
        assert!("copies:2".parse::<Augmentation>().is_err());
        let noise_only: Augmentation = "noise:0.1,p:1".parse().unwrap();
        let z = noise_only.apply(&vec![0.0; 10_000], 22_050, 1).unwrap();
        let std = (z.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / z.len() as f64).sqrt();
        assert!((std - 0.1).abs() < 0.01, "{std}");
    }
}
