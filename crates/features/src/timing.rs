//! The feature workloads that benchmarks time, named like the librosa calls
//! they match, so the criterion bench and the side-by-side script against
//! librosa measure exactly the same work.

use crate::{
    Aggregate, DbConfig, MelConfig, MelFilterbank, Result, Stft, StftConfig, beat_track, chroma_stft,
    gtzan57, hpss, mfcc, onset_strength, power_to_db, rms, spectral_bandwidth, spectral_centroid,
    spectral_contrast, spectral_rolloff, zero_crossing_rate,
};

/// Names of the workloads, in the order [`run`] knows them.
pub const WORKLOADS: [&str; 11] = [
    "stft",
    "melspectrogram",
    "mel_db",
    "mfcc",
    "chroma_stft",
    "spectral_stats",
    "spectral_contrast",
    "zcr_rms",
    "onset_strength",
    "beat_track",
    "hpss",
];

/// Runs workload `name` on `y` once, returning a checksum (so the work is
/// not optimised away). `gtzan57` runs the full table row.
pub fn run(name: &str, y: &[f32], sr: f64) -> Result<f64> {
    let stft = || Stft::new(StftConfig::new(2048, 512));
    let sum = |v: &[f32]| v.iter().map(|&x| f64::from(x)).sum::<f64>();
    Ok(match name {
        "stft" => sum(&stft().spectrogram(y, 1.0)?.data),
        "melspectrogram" => {
            let p = stft().spectrogram(y, 2.0)?;
            sum(&MelFilterbank::new(&MelConfig::new(sr, 2048, 128))?.apply(&p)?.data)
        }
        "mel_db" => {
            let p = stft().spectrogram(y, 2.0)?;
            let m = MelFilterbank::new(&MelConfig::new(sr, 2048, 128))?.apply(&p)?;
            sum(&power_to_db(&m, &DbConfig::ref_max()).data)
        }
        "mfcc" => sum(&mfcc(y, sr, 20)?.data),
        "chroma_stft" => sum(&chroma_stft(&stft().spectrogram(y, 2.0)?, sr, 12, None)?.0.data),
        "spectral_stats" => {
            let m = stft().spectrogram(y, 1.0)?;
            let c = spectral_centroid(&m, sr, 2048);
            sum(&c.data)
                + sum(&spectral_bandwidth(&m, &c, sr, 2048, 2.0).data)
                + sum(&spectral_rolloff(&m, sr, 2048, 0.85).data)
        }
        "spectral_contrast" => {
            sum(&spectral_contrast(&stft().spectrogram(y, 1.0)?, sr, 2048, 200.0, 6, 0.02)?.data)
        }
        "zcr_rms" => sum(&zero_crossing_rate(y, 2048, 512).data) + sum(&rms(y, 2048, 512).data),
        "onset_strength" => sum(&onset_strength(y, sr, Aggregate::Mean)?),
        "beat_track" => beat_track(y, sr)?.0,
        "hpss" => {
            let (h, p) = hpss(y, 31)?;
            sum(&h) + sum(&p)
        }
        "gtzan57" => gtzan57(y, sr)?.iter().sum(),
        other => {
            return Err(crate::FeatureError::InvalidParameter(format!("unknown workload {other}")));
        }
    })
}
