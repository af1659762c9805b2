//! Onset strength, tempo and beat tracking (`librosa.onset.onset_strength`,
//! `librosa.feature.tempo`, `librosa.beat.beat_track`).

use crate::chroma::median_f32;
use crate::db::{DbConfig, power_to_db};
use crate::error::Result;
use crate::matrix::Matrix;
use crate::mel::{MelConfig, MelFilterbank};
use crate::stft::{Stft, StftConfig};
use crate::window::hann;

/// How onset strength combines mel bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Mean over bands (`onset_strength` default).
    Mean,
    /// Median over bands (what `beat_track` uses).
    Median,
}

/// Spectral-flux onset envelope from a dB mel spectrogram (`lag=1`,
/// `max_size=1`, centred: 3 leading zeros for n_fft 2048 / hop 512).
pub fn onset_strength_from_db(
    mel_db: &Matrix,
    n_fft: usize,
    hop_length: usize,
    aggregate: Aggregate,
) -> Vec<f32> {
    let (bands, frames) = (mel_db.rows, mel_db.cols);
    let pad = 1 + n_fft / (2 * hop_length);
    let mut env = vec![0f32; frames];
    if frames < 2 {
        return env;
    }
    let mut column = vec![0f32; bands];
    for t in 1..frames {
        for (b, c) in column.iter_mut().enumerate() {
            *c = (mel_db.get(b, t) - mel_db.get(b, t - 1)).max(0.0);
        }
        let value = match aggregate {
            // NumPy reduces over the band axis row by row in float32.
            Aggregate::Mean => column.iter().fold(0f32, |a, &x| a + x) / bands as f32,
            Aggregate::Median => median_f32(column.clone()),
        };
        let dest = t - 1 + pad;
        if dest < frames {
            env[dest] = value;
        }
    }
    env
}

/// Onset strength of `y` as librosa computes it by default: 128-band mel
/// power spectrogram (n_fft 2048, hop 512) in dB, flux, mean over bands.
pub fn onset_strength(y: &[f32], sr: f64, aggregate: Aggregate) -> Result<Vec<f32>> {
    let stft = StftConfig::new(2048, 512);
    let power = Stft::new(stft).spectrogram(y, 2.0)?;
    let mel = MelFilterbank::new(&MelConfig::new(sr, 2048, 128))?.apply(&power)?;
    let db = power_to_db(&mel, &DbConfig::default());
    Ok(onset_strength_from_db(&db, 2048, 512, aggregate))
}

/// Tempo in BPM from an onset envelope (`librosa.feature.tempo`: 8-s
/// autocorrelation tempogram averaged over time, log-normal prior around
/// 120 BPM with one octave deviation, max 320 BPM).
pub fn tempo(onset_env: &[f32], sr: f64, hop_length: usize) -> f64 {
    let start_bpm = 120.0f64;
    let win = ((8.0 * sr) as usize) / hop_length; // time_to_frames(8.0)
    let n = onset_env.len();
    if n == 0 || win < 2 {
        return 0.0;
    }
    let half = win / 2;
    // linear_ramp padding to zero on both sides.
    let mut padded = vec![0f64; n + 2 * half];
    for (i, &x) in onset_env.iter().enumerate() {
        padded[half + i] = f64::from(x);
    }
    let (first, last) = (f64::from(onset_env[0]), f64::from(onset_env[n - 1]));
    for i in 0..half {
        padded[i] = first * i as f64 / half as f64;
        padded[n + 2 * half - 1 - i] = last * i as f64 / half as f64;
    }
    let window = hann(win);
    let n_pad = (2 * win - 1).next_power_of_two();
    let (fwd, inv) = (crate::fft::real_forward(n_pad), crate::fft::real_inverse(n_pad));
    let mut buf = fwd.make_input_vec();
    let mut spec = fwd.make_output_vec();
    let mut ac = inv.make_output_vec();
    let mut mean_ac = vec![0f64; win];
    for t in 0..n {
        buf.iter_mut().for_each(|b| *b = 0.0);
        for i in 0..win {
            buf[i] = padded[t + i] * window[i];
        }
        if fwd.process(&mut buf, &mut spec).is_err() {
            return 0.0;
        }
        for z in spec.iter_mut() {
            *z = realfft::num_complex::Complex::new(z.norm_sqr(), 0.0);
        }
        if inv.process(&mut spec, &mut ac).is_err() {
            return 0.0;
        }
        // inf-norm per frame (lag 0 is the maximum of an autocorrelation)
        let scale = ac[..win].iter().fold(0f64, |m, x| m.max(x.abs()));
        let scale = if scale < f64::MIN_POSITIVE { 1.0 } else { scale };
        for (m, a) in mean_ac.iter_mut().zip(&ac[..win]) {
            *m += a / scale;
        }
    }
    let bpm_of = |lag: usize| 60.0 * sr / (hop_length as f64 * lag as f64);
    let mut best = (f64::NEG_INFINITY, 0usize);
    for (lag, &m) in mean_ac.iter().enumerate().skip(1) {
        let bpm = bpm_of(lag);
        if bpm >= 320.0 {
            continue;
        }
        let score = (1e6 * m / n as f64).ln_1p() - 0.5 * (bpm.log2() - start_bpm.log2()).powi(2);
        if score > best.0 {
            best = (score, lag);
        }
    }
    if best.1 == 0 { 0.0 } else { bpm_of(best.1) }
}

/// Tempo (BPM) and beat frames of `y` (`librosa.beat.beat_track` defaults:
/// median-aggregated onset envelope, tightness 100, trimmed).
pub fn beat_track(y: &[f32], sr: f64) -> Result<(f64, Vec<usize>)> {
    let env = onset_strength(y, sr, Aggregate::Median)?;
    Ok(beat_track_onsets(&env, sr, 512))
}

/// Beat tracking on a given onset envelope (dynamic programming of Ellis 2007).
pub fn beat_track_onsets(env: &[f32], sr: f64, hop_length: usize) -> (f64, Vec<usize>) {
    if env.iter().all(|&x| x == 0.0) {
        return (0.0, Vec::new());
    }
    let bpm = tempo(env, sr, hop_length);
    let frame_rate = sr / hop_length as f64;
    let fpb = (frame_rate * 60.0 / bpm).round_ties_even();
    let local = local_score(env, fpb);
    let (backlink, cumscore) = beat_dp(&local, fpb, 100.0);
    let mut beats = vec![false; env.len()];
    let mut n = last_beat(&cumscore) as isize;
    while n >= 0 {
        beats[n as usize] = true;
        n = backlink[n as usize];
    }
    trim_beats(&local, &mut beats);
    (bpm, beats.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect())
}

fn local_score(env: &[f32], fpb: f64) -> Vec<f64> {
    // normalise by the sample standard deviation (float32, ddof=1)
    let n = env.len();
    let mean = env.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let var = env.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    let std = var.sqrt() as f32;
    let norm: Vec<f64> = env.iter().map(|&x| f64::from(x / (std + f32::MIN_POSITIVE))).collect();
    let k_half = fpb as isize;
    let window: Vec<f64> =
        (-k_half..=k_half).map(|i| (-0.5 * (i as f64 * 32.0 / fpb).powi(2)).exp()).collect();
    let k = window.len();
    (0..n)
        .map(|i| {
            let lo = (i + k / 2 + 1).saturating_sub(n);
            let hi = (i + k / 2).min(k);
            (lo..hi).map(|j| window[j] * norm[i + k / 2 - j]).sum()
        })
        .collect()
}

fn beat_dp(local: &[f64], fpb: f64, tightness: f64) -> (Vec<isize>, Vec<f64>) {
    let n = local.len();
    let thresh = 0.01 * local.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut backlink = vec![-1isize; n];
    let mut cum = vec![0f64; n];
    let mut first_beat = true;
    let (near, far) = ((fpb / 2.0).round_ties_even() as isize, (2.0 * fpb) as isize);
    for i in 0..n {
        let mut best = f64::NEG_INFINITY;
        let mut loc_best = -1isize;
        let mut loc = i as isize - near;
        while loc > i as isize - far - 1 {
            if loc < 0 {
                break;
            }
            let score = cum[loc as usize] - tightness * ((i as f64 - loc as f64).ln() - fpb.ln()).powi(2);
            if score > best {
                best = score;
                loc_best = loc;
            }
            loc -= 1;
        }
        cum[i] = if loc_best >= 0 { local[i] + best } else { local[i] };
        if first_beat && local[i] < thresh {
            backlink[i] = -1;
        } else {
            backlink[i] = loc_best;
            first_beat = false;
        }
    }
    (backlink, cum)
}

fn last_beat(cum: &[f64]) -> usize {
    let n = cum.len();
    let is_max = |i: usize| {
        if i == 0 {
            false
        } else if i + 1 == n {
            cum[i] > cum[i - 1]
        } else {
            cum[i] > cum[i - 1] && cum[i] >= cum[i + 1]
        }
    };
    let mut maxima: Vec<f64> = (0..n).filter(|&i| is_max(i)).map(|i| cum[i]).collect();
    let threshold = if maxima.is_empty() {
        f64::NAN
    } else {
        let m = maxima.len();
        maxima.sort_by(f64::total_cmp);
        0.5 * if m % 2 == 1 { maxima[m / 2] } else { 0.5 * (maxima[m / 2 - 1] + maxima[m / 2]) }
    };
    (0..n).rev().find(|&i| is_max(i) && cum[i] >= threshold).unwrap_or(n - 1)
}

fn trim_beats(local: &[f64], beats: &mut [bool]) {
    let values: Vec<f64> = local.iter().zip(beats.iter()).filter(|(_, b)| **b).map(|(l, _)| *l).collect();
    let w = [0.0, 0.5, 1.0, 0.5, 0.0]; // np.hanning(5)
    // full convolution, then [2 : len(local) + 2]
    let full_len = values.len() + w.len() - 1;
    let conv = |k: usize| -> f64 {
        (0..w.len()).filter(|&j| k >= j && k - j < values.len()).map(|j| w[j] * values[k - j]).sum()
    };
    let smooth: Vec<f64> = (2..(local.len() + 2).min(full_len)).map(conv).collect();
    let threshold = if smooth.is_empty() {
        0.0
    } else {
        0.5 * (smooth.iter().map(|x| x * x).sum::<f64>() / smooth.len() as f64).sqrt()
    };
    let mut n = 0;
    while n < local.len() && local[n] <= threshold {
        beats[n] = false;
        n += 1;
    }
    let mut n = local.len();
    while n > 0 && local[n - 1] <= threshold {
        beats[n - 1] = false;
        n -= 1;
    }
}
