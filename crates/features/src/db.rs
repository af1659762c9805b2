//! Decibel conversion and normalisation (`librosa.power_to_db`,
//! `amplitude_to_db`, and min-max scaling).

use crate::matrix::Matrix;

/// Reference level for dB conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DbRef {
    /// A fixed reference value (librosa's default `ref=1.0`).
    Value(f32),
    /// The largest value of the input (`ref=np.max`).
    Max,
}

/// Settings of [`power_to_db`], librosa's defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbConfig {
    /// Reference level.
    pub reference: DbRef,
    /// Values below `amin` are clipped to it before the logarithm (1e-10).
    pub amin: f32,
    /// Floor at `max - top_db` dB; `None` disables (default 80).
    pub top_db: Option<f32>,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self { reference: DbRef::Value(1.0), amin: 1e-10, top_db: Some(80.0) }
    }
}

impl DbConfig {
    /// librosa's `ref=np.max` with the other defaults.
    pub fn ref_max() -> Self {
        Self { reference: DbRef::Max, ..Self::default() }
    }
}

/// `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, floored at
/// `max - top_db` (`librosa.power_to_db`), computed in `f32` like librosa.
pub fn power_to_db(s: &Matrix, config: &DbConfig) -> Matrix {
    let reference = match config.reference {
        DbRef::Value(v) => v.abs(),
        DbRef::Max => s.max().abs(),
    };
    let offset = 10.0 * f64::from(config.amin.max(reference)).log10();
    let amin = config.amin;
    let mut out = s.clone().map(|x| (10.0 * f64::from(amin.max(x)).log10() - offset) as f32);
    if let Some(top) = config.top_db {
        let floor = out.max() - top;
        out.data.iter_mut().for_each(|x| *x = x.max(floor));
    }
    out
}

/// `20 log10(|S| / ref)` with `amin = 1e-5` and the same floor
/// (`librosa.amplitude_to_db`): `power_to_db(S², ref², amin²)`.
pub fn amplitude_to_db(s: &Matrix, reference: DbRef, top_db: Option<f32>) -> Matrix {
    let reference = match reference {
        DbRef::Value(v) => DbRef::Value(v * v),
        DbRef::Max => DbRef::Value(s.max().powi(2)),
    };
    let power = s.clone().map(|x| x * x);
    power_to_db(&power, &DbConfig { reference, amin: 1e-10, top_db })
}

/// Scales values linearly to `[0, 1]` (min-max normalisation over the whole
/// matrix); a constant matrix becomes all zeros.
pub fn min_max_normalize(s: &Matrix) -> Matrix {
    let (lo, hi) =
        s.data.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let range = hi - lo;
    s.clone().map(|x| if range > 0.0 { (x - lo) / range } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decibels_follow_librosa_conventions() {
        let s = Matrix::from_vec(1, 4, vec![1.0, 10.0, 100.0, 0.0]);
        let db = power_to_db(&s, &DbConfig::default());
        assert_eq!(db.data[..3], [0.0, 10.0, 20.0]);
        assert_eq!(db.data[3], 20.0 - 80.0, "floored at max - top_db");
        let rel = power_to_db(&s, &DbConfig::ref_max());
        assert_eq!(rel.data[2], 0.0);
        let amp = amplitude_to_db(&Matrix::from_vec(1, 2, vec![1.0, 10.0]), DbRef::Value(1.0), None);
        assert!((amp.data[1] - 20.0).abs() < 1e-5);
        let n = min_max_normalize(&Matrix::from_vec(1, 3, vec![-2.0, 0.0, 2.0]));
        assert_eq!(n.data, vec![0.0, 0.5, 1.0]);
    }
}
